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
            \(Guests.catalogue.trustAnchorSummaries) With --vtpm NAME instead of --guest: for plain and \
            svsm the mock EK CA that signs the EK certificate every vTPM of that seed holds in NV \
            0x01C00002 (RSA-2048 EK at 0x81010001; pin it to check `tpm2_nvread 0x01C00002`); for azure \
            the mock "Global Virtual TPM CA" root then the intermediate that signs the AK certificate in \
            NV 0x01C101D0; for gcp the mock EK/AK CA root then the intermediate that signs the AK \
            certificates in NV 0x01c10000 and 0x01c10002. Keys and certificates derive from --seed alone, \
            so the same seed prints the same anchor in every process and on every machine.
            """
    )

    @Option(help: ArgumentHelp("The guest whose authority: \(Guests.catalogue.list).", valueName: "NAME"))
    var guest: GuestName?

    @Option(
        help: ArgumentHelp(
            "The vTPM personality whose CA, instead of a guest's: \(VTPMKind.allCases.map(\.rawValue)).",
            valueName: "NAME"))
    var vtpm: VTPMKind?

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

extension VTPMKind: ExpressibleByArgument {}

/// The guest and seed that pick a mock authority.
struct AuthorityOptions: ParsableArguments {
    @Option(help: ArgumentHelp("The guest whose authority: \(Guests.catalogue.list).", valueName: "NAME"))
    var guest: GuestName

    @Option(help: ArgumentHelp("The seed the mock keys and certificates derive from.", valueName: "S"))
    var seed: String = MockSeed.default
}

extension TCBStatus: ExpressibleByArgument {}
