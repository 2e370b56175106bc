import ArgumentParser
import TSMGuest
import TSMEvidence

/// `tsmfs verify`: checks a configfs-tsm outblob (and auxblob) end to end against a trust anchor
/// and prints what it vouches for.
struct VerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Verify a TDX quote or a SEV-SNP report and print its registers and report data as JSON.",
        discussion: """
            TDX: the PCK chain up to the trust anchor, the QE report signature, the QE report data's \
            binding of the attestation key, and the attestation key's signature over the quote. \
            SEV-SNP: the chain in --auxblob as AMD's is checked (VCEK <- ASK <- ARK, each signed \
            with RSASSA-PSS SHA-384, salt 48; the ARK byte-identical to the trust anchor), the \
            report signature by the VCEK (ECDSA P-384 over bytes 0..<0x2A0), and the VCEK's hwID \
            and SPL extensions against CHIP_ID and REPORTED_TCB. The anchor is the mock root \
            of --seed (default "tsmfs") unless --trust-anchor names a PEM file. Exits 0 only if every \
            check passes; otherwise names the failed check on stderr and exits 1.
            """
    )

    @Argument(help: "The outblob: a TDX Quote v4 or a SEV-SNP ATTESTATION_REPORT.")
    var file: String

    @Option(help: "The guest that made FILE: tdx or sev-snp.")
    var guest: Guest

    @Option(help: ArgumentHelp("The SEV-SNP certificate table (auxblob); required for sev-snp.", valueName: "FILE"))
    var auxblob: String?

    @Option(help: ArgumentHelp("Trust the mock root derived from this seed.", valueName: "S"))
    var seed: String?

    @Option(name: .customLong("trust-anchor"), help: ArgumentHelp("Trust this root certificate instead (PEM).", valueName: "PEM-FILE"))
    var trustAnchor: String?

    func validate() throws {
        if seed != nil, trustAnchor != nil {
            throw ValidationError("give --seed or --trust-anchor, not both")
        }
        if guest == .sevSNP, auxblob == nil {
            throw ValidationError("--guest sev-snp needs --auxblob FILE (the certificate table)")
        }
        if guest == .tdx, auxblob != nil {
            throw ValidationError("a TDX quote carries its certificates; --auxblob is for sev-snp")
        }
    }

    func run() throws {
        do {
            let verifier: EvidenceVerifier
            if let trustAnchor {
                verifier = try EvidenceVerifier(trustAnchorPEM: String(decoding: try ProviderSelection.readFile(trustAnchor), as: UTF8.self))
            } else {
                verifier = EvidenceVerifier(authority: try MockAuthority(guest: guest, seed: seed ?? MockAuthority.defaultSeed))
            }
            let evidence = try ProviderSelection.readFile(file)
            let aux = try auxblob.map { path throws(ProviderSelection.Failure) in try ProviderSelection.readFile(path) }
            print(try verifier.verify(evidence, guest: guest, auxblob: aux).json, terminator: "")
        } catch let error as EvidenceError {
            throw Failure(error.description)
        } catch let error as ProviderSelection.Failure {
            throw Failure(error.description)
        } catch {
            throw Failure("\(error)")
        }
    }
}
