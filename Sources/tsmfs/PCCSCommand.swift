import ArgumentParser
import TSMEvidence
import TSMServices

/// `tsmfs pccs`: Intel's PCS/PCCS v4 REST API for the mock TDX authority, on loopback.
struct PCCSCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pccs",
        abstract: "Serve the mock TDX authority's collateral over Intel's PCS/PCCS v4 REST API.",
        discussion: """
            GET /sgx/certification/v4/pckcrl?ca=platform[&encoding=der], /sgx/certification/v4/rootcacrl \
            (hex, as a PCCS serves it), /tdx/certification/v4/tcb?fmspc=HEX (404 for another FMSPC), \
            /tdx/certification/v4/qe/identity and /sgx/certification/v4/pckcert, with PCS's issuer-chain \
            headers. Prints "tsmfs pccs: ready on http://ADDR:PORT" when it accepts connections (port 0 \
            picks a free port); SIGTERM or SIGINT stops it.
            """
    )

    @Option(help: ArgumentHelp("The seed the mock keys and certificates derive from.", valueName: "S"))
    var seed: String = MockSeed.default

    @Option(help: ArgumentHelp("Where to listen.", valueName: "ADDR:PORT"))
    var listen: String = "127.0.0.1:8081"

    @Option(name: .customLong("tcb-status"), help: ArgumentHelp("The TCB status of the platform whose PCK certificate /pckcert serves.", valueName: "STATUS"))
    var tcbStatus: TCBStatus = .upToDate

    func run() throws {
        do throws(LocalServices.Failure) {
            try LocalServices.runPCCS(seed: seed, tcbStatus: tcbStatus, listen: listen)
        } catch {
            throw Failure(error.description)
        }
    }
}
