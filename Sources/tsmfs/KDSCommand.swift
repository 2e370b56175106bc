import ArgumentParser
import TSMEvidence
import TSMServices

/// `tsmfs kds`: AMD's KDS API for the mock SEV-SNP authority, on loopback.
struct KDSCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kds",
        abstract: "Serve the mock SEV-SNP authority's VCEK and chain over AMD's KDS API.",
        discussion: LocalServices.kdsHelp
    )

    @Option(help: ArgumentHelp("The seed the mock keys and certificates derive from.", valueName: "S"))
    var seed: String = MockSeed.default

    @Option(help: ArgumentHelp("Where to listen.", valueName: "ADDR:PORT"))
    var listen: String = "127.0.0.1:8082"

    @Option(
        name: .customLong("idle-timeout"),
        help: ArgumentHelp(
            "Close a connection idle (or without a whole request head) this long; 1 to "
                + "\(ServiceLimits.maximumIdleTimeout).",
            valueName: "SECONDS"))
    var idleTimeout: Int = ServiceLimits.defaultIdleTimeout

    @Option(
        help: ArgumentHelp(
            "List this certificate as revoked in the ARK's CRL: ask (in /vcek/v1/Milan/crl) or asvk (in "
                + "/vlek/v1/Milan/crl), as AMD's KDS would on a compromised intermediate. Repeatable.",
            valueName: "CERT"))
    var revoke: [AMDRevocable] = []

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
            try LocalServices.runKDS(seed: seed, listen: listen, idleTimeout: idleTimeout, revoked: Set(revoke))
        } catch {
            throw Failure(error.description)
        }
    }
}

extension AMDRevocable: ExpressibleByArgument {}
