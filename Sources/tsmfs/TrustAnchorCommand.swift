import ArgumentParser
import TSMEvidence
import TSMGuests

/// `tsmfs trust-anchor`: the mock authority's root certificate, for a verifier to trust.
struct TrustAnchorCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "trust-anchor",
        abstract:
            "Print the mock attestation root certificate (PEM) that tsmfs evidence chains to, or the CCA platform key.",
        discussion: """
            \(Guests.catalogue.trustAnchorSummaries) Keys and certificates derive from --seed alone, so the \
            same seed prints the same anchor in every process and on every machine.
            """
    )

    @OptionGroup var authority: AuthorityOptions

    func run() throws {
        do {
            print(try authority.guest.definition.trustAnchorPEM(seed: authority.seed), terminator: "")
        } catch {
            throw Failure(error.description)
        }
    }
}

/// The guest and seed that pick a mock authority.
struct AuthorityOptions: ParsableArguments {
    @Option(help: ArgumentHelp("The guest whose authority: \(Guests.catalogue.list).", valueName: "NAME"))
    var guest: GuestName

    @Option(help: ArgumentHelp("The seed the mock keys and certificates derive from.", valueName: "S"))
    var seed: String = MockSeed.default
}

extension TCBStatus: ExpressibleByArgument {}
