import ArgumentParser
import TSMBytes
import TSMGuest
import TSMEvidence

/// `tsmfs verify`: checks a configfs-tsm outblob (and auxblob) end to end against a trust anchor
/// and prints what it vouches for.
struct VerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Verify a TDX quote, a SEV-SNP report or a CCA token and print its registers and report data as JSON.",
        discussion: """
            TDX: the PCK chain up to the trust anchor, the QE report signature, the QE report data's \
            binding of the attestation key, and the attestation key's signature over the quote. \
            SEV-SNP: the VCEK chain in --auxblob up to the trust anchor (the ARK), the report \
            signature, and the VCEK's chip ID and TCB against the report. \
            CCA: the realm token's signature by the RAK it carries, the platform challenge's binding \
            of that RAK, and the platform token's signature by the CPAK. The anchor is the mock root \
            of --seed (default "tsmfs") unless --trust-anchor names a PEM file (for cca: the CPAK public key). Exits 0 only if every \
            check passes; otherwise names the failed check on stderr and exits 1.
            """
    )

    @Argument(help: "The outblob: a TDX Quote v4, a SEV-SNP ATTESTATION_REPORT or a CCA attestation token.")
    var file: String

    @Option(help: "The guest that made FILE: tdx, sev-snp or cca.")
    var guest: Guest

    @Option(help: ArgumentHelp("The SEV-SNP certificate table (auxblob); required for sev-snp.", valueName: "FILE"))
    var auxblob: String?

    @Option(help: ArgumentHelp("Trust the mock root derived from this seed.", valueName: "S"))
    var seed: String?

    @Option(name: .customLong("report-data"), help: ArgumentHelp("Also require the evidence's report data to be these bytes (hex, up to 64 bytes, zero-padded to 64): the nonce the relying party sent.", valueName: "HEX"))
    var reportData: String?

    @Option(name: .customLong("trust-anchor"), help: ArgumentHelp("Trust this root certificate instead (PEM).", valueName: "PEM-FILE"))
    var trustAnchor: String?

    func validate() throws {
        if seed != nil, trustAnchor != nil {
            throw ValidationError("give --seed or --trust-anchor, not both")
        }
        if guest == .sevSNP, auxblob == nil {
            throw ValidationError("--guest sev-snp needs --auxblob FILE (the certificate table)")
        }
        if let reportData {
            guard let bytes = Hex.decode(reportData), (1...64).contains(bytes.count) else {
                throw ValidationError("--report-data takes 1 to 64 bytes as hex (2 to 128 digits)")
            }
        }
        if guest != .sevSNP, auxblob != nil {
            throw ValidationError("a \(guest.rawValue) outblob carries what it needs; --auxblob is for sev-snp")
        }
    }

    func run() throws {
        do {
            let verified: VerifiedEvidence
            if guest == .cca {
                let anchor = try trustAnchor.map { path throws(ProviderSelection.Failure) in
                    String(decoding: try ProviderSelection.readFile(path), as: UTF8.self)
                }
                let cpak = try anchor.map { pem throws(EvidenceError) in try CCAToken.cpak(pem: pem) }
                    ?? CCAAuthority(seed: seed ?? MockAuthority.defaultSeed).cpakPublicKey
                verified = .cca(try CCAToken.verify(try ProviderSelection.readFile(file), cpak: cpak))
            } else {
                let verifier: EvidenceVerifier
                if let trustAnchor {
                    verifier = try EvidenceVerifier(trustAnchorPEM: String(decoding: try ProviderSelection.readFile(trustAnchor), as: UTF8.self))
                } else {
                    verifier = EvidenceVerifier(authority: try MockAuthority(guest: guest, seed: seed ?? MockAuthority.defaultSeed))
                }
                let evidence = try ProviderSelection.readFile(file)
                let aux = try auxblob.map { path throws(ProviderSelection.Failure) in try ProviderSelection.readFile(path) }
                verified = try verifier.verify(evidence, guest: guest, auxblob: aux)
            }
            if let reportData, let wanted = Hex.decode(reportData) {
                let expected = wanted + [UInt8](repeating: 0, count: 64 - wanted.count)
                guard verified.reportData == expected else {
                    throw Failure("report data does not match: the evidence has \(Hex.encode(verified.reportData)), expected \(Hex.encode(expected))")
                }
            }
            print(verified.json, terminator: "")
        } catch let error as EvidenceError {
            throw Failure(error.description)
        } catch let error as ProviderSelection.Failure {
            throw Failure(error.description)
        } catch let error as Failure {
            throw error
        } catch {
            throw Failure("\(error)")
        }
    }
}
