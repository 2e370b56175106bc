import ArgumentParser
import TSMEvidence

/// `tsmfs trust-anchor`: the mock authority's root certificate, for a verifier to trust.
struct TrustAnchorCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "trust-anchor",
        abstract: "Print the mock attestation root certificate (PEM) that tsmfs evidence chains to, or the CCA platform key.",
        discussion: """
            The SGX root CA for --guest tdx, the ARK for --guest sev-snp; for --guest cca the CPAK's \
            public key (PEM SubjectPublicKeyInfo), which signs every platform token. Keys and certificates derive \
            from --seed alone, so the same seed prints the same certificate in every process and on \
            every machine. The certificate says O=tsmfs mock: it is not Intel's or AMD's.
            """
    )

    @OptionGroup var authority: AuthorityOptions

    func run() throws {
        do {
            if authority.guest == .cca {
                print(try CCAAuthority(seed: authority.seed).cpakPEM, terminator: "")
            } else {
                print(try MockAuthority(guest: authority.guest, seed: authority.seed).rootCertificatePEM, terminator: "")
            }
        } catch {
            throw Failure(error.description)
        }
    }
}

/// The guest and seed that pick a mock authority.
struct AuthorityOptions: ParsableArguments {
    @Option(help: "The guest whose authority: tdx, sev-snp or cca.")
    var guest: Guest

    @Option(help: ArgumentHelp("The seed the mock keys and certificates derive from.", valueName: "S"))
    var seed: String = MockAuthority.defaultSeed
}

extension Guest: ExpressibleByArgument {}
