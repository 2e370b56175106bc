import ArgumentParser
import TSMEvidence
import TSMServices

/// `tsmfs pccs`: Intel's PCS/PCCS v4 REST API for the mock TDX authority, on loopback.
struct PCCSCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pccs",
        abstract: "Serve the mock TDX authority's collateral over Intel's PCS/PCCS v4 REST API.",
        discussion: LocalServices.pccsHelp
    )

    @Option(help: ArgumentHelp("The seed the mock keys and certificates derive from.", valueName: "S"))
    var seed: String = MockSeed.default

    @Option(help: ArgumentHelp("Where to listen.", valueName: "ADDR:PORT"))
    var listen: String = "127.0.0.1:8081"

    @Option(
        name: .customLong("tcb-status"),
        help: ArgumentHelp("The TCB status of the platform whose PCK certificate /pckcert serves.", valueName: "STATUS")
    )
    var tcbStatus: TCBStatus = .upToDate

    @Option(
        name: .customLong("idle-timeout"),
        help: ArgumentHelp(
            "Close a connection idle (or without a whole request head) this long; 1 to "
                + "\(ServiceLimits.maximumIdleTimeout).",
            valueName: "SECONDS"))
    var idleTimeout: Int = ServiceLimits.defaultIdleTimeout

    /// A bad --listen or --idle-timeout is a usage error (exit 64), for kds and pccs alike.
    func validate() throws {
        do throws(LocalServices.Failure) {
            try LocalServices.validate(listen: listen, idleTimeout: idleTimeout)
        } catch {
            throw ValidationError(error.description)
        }
    }

    func run() throws {
        do throws(LocalServices.Failure) {
            try LocalServices.runPCCS(seed: seed, tcbStatus: tcbStatus, listen: listen, idleTimeout: idleTimeout)
        } catch {
            throw Failure(error.description)
        }
    }
}
