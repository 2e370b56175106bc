import ArgumentParser
import TSMEvidence
import TSMServices

/// `tsmfs kds`: AMD's KDS API for the mock SEV-SNP authority, on loopback.
struct KDSCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kds",
        abstract: "Serve the mock SEV-SNP authority's VCEK and chain over AMD's KDS API.",
        discussion: """
            GET /vcek/v1/Milan/{hwid}?blSPL=B&teeSPL=T&snpSPL=S&ucodeSPL=U gives the DER VCEK of the \
            mock chip at that TCB (404 for another chip); GET /vcek/v1/Milan/cert_chain gives the ASK \
            then the ARK as PEM: the same certificates a report's auxblob holds. Prints \
            "tsmfs kds: ready on http://ADDR:PORT" when it accepts connections (port 0 picks a free \
            port); SIGTERM or SIGINT stops it.
            """
    )

    @Option(help: ArgumentHelp("The seed the mock keys and certificates derive from.", valueName: "S"))
    var seed: String = MockSeed.default

    @Option(help: ArgumentHelp("Where to listen.", valueName: "ADDR:PORT"))
    var listen: String = "127.0.0.1:8082"

    func run() throws {
        do throws(LocalServices.Failure) {
            try LocalServices.runKDS(seed: seed, listen: listen)
        } catch .listen(let error) {
            throw ValidationError(error.description)
        } catch {
            throw Failure(error.description)
        }
    }
}
