import TSMGuests
import ArgumentParser
import Glibc
import TSMEventLog

/// `tsmfs log`: the boot and runtime event logs of a TDX sysroot, decoded.
struct LogCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "log",
        abstract: "Print a TDX sysroot's event log: the CCEL boot log, then every extend since mount.",
        discussion: """
            Reads \(EventLogPaths.ccelTable), \(EventLogPaths.ccelData) and \(EventLogPaths.runtimeLog) under the \
            sysroot. Inside tsmfs exec the sysroot is $TSMFS_SYSROOT. \
            With --replay, also prints RTMR0-3 as the records replay them; they equal the live \
            registers when the logs are complete.
            """
    )

    @Option(
        help: ArgumentHelp(
            "The sysroot a `tsmfs mount --sysroot DIR --guest tdx` serves. Default: $TSMFS_SYSROOT.", valueName: "DIR"))
    var sysroot: String?

    @Flag(help: "Also print the replayed RTMRs.")
    var replay = false

    /// The sysroot: `--sysroot`, else `$TSMFS_SYSROOT`.
    private var root: String? { sysroot ?? getenv("TSMFS_SYSROOT").map({ String(cString: $0) }) }

    /// Refused here rather than in `run()`, so that the usage printed with it is `tsmfs log`'s.
    func validate() throws {
        guard root != nil else {
            throw ValidationError("give --sysroot DIR (or run inside tsmfs exec, which sets TSMFS_SYSROOT)")
        }
    }

    func run() throws {
        guard let root else { throw ValidationError("give --sysroot DIR") }
        do throws(SysrootEventLogs.Failure) {
            print(try SysrootEventLogs.read(sysroot: root).text(replay: replay), terminator: "")
        } catch {
            throw Failure(error.description)
        }
    }
}
