import ArgumentParser
import TSMDaemon
import TSMHost

/// `tsmfs exec`: run a command in a private mount namespace where a guest sysroot's paths appear
/// at their real absolute paths, the rest of `/sys` and `/dev` unchanged; the host's mount table
/// and `/dev` never change.
struct ExecCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "exec",
        abstract: "Run COMMAND with a guest's attestation paths at their real places, in a private mount namespace.",
        discussion: """
            Starts a sysroot daemon and runs COMMAND where /sys/kernel/tsm, \
            /sys/kernel/config/tsm/report, the measurements devices under /sys/devices/virtual/misc \
            and /sys/class/misc, and the guest's /dev nodes (/dev/tdx_guest, /dev/sev-guest) come from it, \
            while the rest of /sys and /dev stays \
            as it is. Signals are forwarded to COMMAND; its exit status is returned; the daemon is \
            stopped and nothing stays mounted. Needs root. Example: tsmfs exec -- pytest
            """
    )

    @OptionGroup var daemonOptions: DaemonOptions
    @OptionGroup var guestOptions: GuestOptions
    @OptionGroup var providerOptions: ProviderOptions

    /// Set when tsmfs re-executes itself inside the new namespace.
    @Flag(name: .customLong("in-namespace"), help: .hidden)
    var inNamespace = false

    @Argument(parsing: .captureForPassthrough, help: "The command to run, after --.")
    var command: [String] = []

    var commandLine: [String] {
        command.first == "--" ? Array(command.dropFirst()) : command
    }

    func validate() throws {
        // The command is captured whole, so `exec --help` arrives here as a command.
        if let first = command.first, first == "--help" || first == "-h" { throw CleanExit.helpRequest(self) }
        guard !commandLine.isEmpty else { throw ValidationError("give a command to run after --") }
        try guestOptions.check()
    }

    func run() throws {
        // The daemon is quieter than a foreground mount unless asked.
        let template = daemonOptions.spec(
            .sysroot, mountpoint: "", guest: guestOptions, providers: providerOptions,
            defaultLevel: .warning)
        let status: Int32
        do throws(ExecSession.Failure) {
            status = try Daemon.exec(commandLine, template: template, inNamespace: inNamespace)
        } catch {
            throw Failure(error.description)
        }
        throw ExitCode(status)
    }
}
