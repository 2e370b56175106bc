import ArgumentParser
import TSMEvidence
import TSMGuest
import TSMGuests

/// `tsmfs trust-anchor`: the mock authority's root certificate, for a verifier to trust.
struct TrustAnchorCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "trust-anchor",
        abstract:
            "Print the mock attestation root certificate (PEM) that tsmfs evidence chains to, or the CCA platform key.",
        discussion: """
            \(Guests.catalogue.trustAnchorSummaries) With --vtpm plain instead of --guest: the mock EK CA that \
            signs the EK certificate every vTPM of that seed holds in NV 0x01C00002 (RSA-2048 EK at \
            0x81010001); pin it to check `tpm2_nvread 0x01C00002`. Keys and certificates derive from --seed \
            alone, so the same seed prints the same anchor in every process and on every machine.
            """
    )

    @Option(help: ArgumentHelp("The guest whose authority: \(Guests.catalogue.list).", valueName: "NAME"))
    var guest: GuestName?

    @Option(
        help: ArgumentHelp(
            "The vTPM personality whose CA, instead of a guest's: \(VTPMPersonality.allCases.map(\.rawValue)).",
            valueName: "NAME"))
    var vtpm: VTPMPersonality?

    @Option(help: ArgumentHelp("The seed the mock keys and certificates derive from.", valueName: "S"))
    var seed: String = MockSeed.default

    func validate() throws {
        if (guest == nil) == (vtpm == nil) { throw ValidationError("give --guest NAME or --vtpm NAME (one of them)") }
    }

    func run() throws {
        do {
            if let vtpm {
                print(try vtpm.trustAnchorPEM(seed: seed), terminator: "")
            } else if let guest {
                print(try guest.definition.trustAnchorPEM(seed: seed), terminator: "")
            }
        } catch {
            throw Failure("\(error)")
        }
    }
}

extension VTPMPersonality: ExpressibleByArgument {}

/// The guest and seed that pick a mock authority.
struct AuthorityOptions: ParsableArguments {
    @Option(help: ArgumentHelp("The guest whose authority: \(Guests.catalogue.list).", valueName: "NAME"))
    var guest: GuestName

    @Option(help: ArgumentHelp("The seed the mock keys and certificates derive from.", valueName: "S"))
    var seed: String = MockSeed.default
}

extension TCBStatus: ExpressibleByArgument {}
