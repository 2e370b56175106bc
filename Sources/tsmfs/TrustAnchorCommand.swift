import ArgumentParser
import TSMEvidence
import TSMGuests

/// `tsmfs trust-anchor`: the mock authority's root certificate, for a verifier to trust.
struct TrustAnchorCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "trust-anchor",
        abstract: "Print the mock attestation root certificate (PEM) that tsmfs evidence chains to, or the CCA platform key.",
        discussion: """
            The SGX root CA for --guest tdx, the ARK for --guest sev-snp; for --guest cca the CPAK's \
            public key (PEM SubjectPublicKeyInfo), which signs every platform token. Keys and \
            certificates derive from --seed alone (with fixed published RSA keys for the ARK and ASK), \
            so the same seed prints the same anchor in every process and on every machine. The TDX \
            root says O=tsmfs mock. The SEV-SNP ARK has AMD's ARK-Milan name and shape (RSA-4096, \
            self-signed with RSASSA-PSS SHA-384) but a published mock key: neither is Intel's or \
            AMD's. Pin the ARK by the SHA-256 of its DER \
            (`tsmfs trust-anchor --guest sev-snp | openssl x509 -outform DER | sha256sum`).
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
