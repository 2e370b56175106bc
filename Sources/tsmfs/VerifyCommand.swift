import ArgumentParser
import FoundationEssentials
import TSMBytes
import TSMGuest
import TSMGuests
import TSMEvidence

/// `tsmfs verify`: checks a configfs-tsm outblob (and auxblob) end to end against a trust anchor
/// and prints what it vouches for.
struct VerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Verify a TDX quote, a SEV-SNP report or a CCA token and print its registers and report data as JSON.",
        discussion: """
            TDX (Quote v4 or v5): the PCK chain up to the trust anchor, the QE report signature, the QE report data's \
            binding of the attestation key, and the attestation key's signature over the quote. \
            TDX also checks the collateral (--collateral FILE, as `tsmfs collateral` prints it, or the \
            mock authority's own when no --trust-anchor is given) and adds its tcb_status and \
            advisory_ids; a Revoked TCB fails. \
            SEV-SNP: the chain in --auxblob as AMD's is checked (VCEK <- ASK <- ARK, each signed \
            with RSASSA-PSS SHA-384, salt 48; the ARK byte-identical to the trust anchor), the \
            report signature by the VCEK (ECDSA P-384 over bytes 0..<0x2A0), and the VCEK's hwID \
            and SPL extensions against CHIP_ID and REPORTED_TCB. \
            CCA: the realm token's signature by the RAK it carries, the platform challenge's binding \
            of that RAK, and the platform token's signature by the CPAK. The anchor is the mock root \
            of --seed (default "tsmfs") unless --trust-anchor names a PEM file (for cca: the CPAK public key). Exits 0 only if every \
            check passes; otherwise names the failed check on stderr and exits 1.
            """
    )

    @Argument(help: "The outblob: a TDX Quote v4, a SEV-SNP ATTESTATION_REPORT or a CCA attestation token.")
    var file: String

    @Option(help: ArgumentHelp("The guest that made FILE: \(Guests.catalogue.list).", valueName: "NAME"))
    var guest: GuestName

    @Option(help: ArgumentHelp("The SEV-SNP certificate table (auxblob); required for sev-snp.", valueName: "FILE"))
    var auxblob: String?

    @Option(help: ArgumentHelp("Trust the mock root derived from this seed.", valueName: "S"))
    var seed: String?

    @Option(name: .customLong("report-data"), help: ArgumentHelp("Also require the evidence's report data to be these bytes (hex, up to 64 bytes, zero-padded to 64): the nonce the relying party sent.", valueName: "HEX"))
    var reportData: String?

    @Option(name: .customLong("trust-anchor"), help: ArgumentHelp("Trust this root certificate instead (PEM).", valueName: "PEM-FILE"))
    var trustAnchor: String?

    @Option(help: ArgumentHelp("TDX: the collateral to check the quote's TCB with (QuoteCollateralV3 JSON).", valueName: "FILE"))
    var collateral: String?

    func validate() throws {
        if seed != nil, trustAnchor != nil {
            throw ValidationError("give --seed or --trust-anchor, not both")
        }
        let inputs = guest.definition.verification
        if inputs.auxblob, auxblob == nil {
            throw ValidationError("--guest \(guest.definition.name) needs --auxblob FILE (the certificate table)")
        }
        if !inputs.collateral, collateral != nil {
            throw ValidationError("--collateral is for --guest \(Self.takers(\.collateral))")
        }
        if let reportData {
            guard let bytes = Hex.decode(reportData), (1...64).contains(bytes.count) else {
                throw ValidationError("--report-data takes 1 to 64 bytes as hex (2 to 128 digits)")
            }
        }
        if !inputs.auxblob, auxblob != nil {
            throw ValidationError("a \(guest.definition.name) outblob carries what it needs; --auxblob is for \(Self.takers(\.auxblob))")
        }
    }

    /// The guests whose verification takes an input, as a sentence.
    static func takers(_ input: KeyPath<VerificationInputs, Bool>) -> String {
        GuestCatalogue.alternatives(Guests.catalogue.guests.filter { $0.verification[keyPath: input] }.map { $0.name })
    }

    func run() throws {
        do {
            let anchor = try trustAnchor.map { path throws(ProviderSelection.Failure) in
                String(decoding: try ProviderSelection.readFile(path), as: UTF8.self)
            }
            let read = { (path: String) throws(ProviderSelection.Failure) in try ProviderSelection.readFile(path) }
            let request = VerifyRequest(
                evidence: try read(file), auxblob: try auxblob.map(read), seed: seed ?? MockSeed.default, trustAnchorPEM: anchor,
                collateral: try collateral.map(read))
            let json = try EvidenceCheck.run(request, guest: guest.definition, reportData: reportData.flatMap { Hex.decode($0) })
            print(json, terminator: "")
        } catch let error as EvidenceCheck.Failure {
            throw Failure(error.description)
        } catch let error as ProviderSelection.Failure {
            throw Failure(error.description)
        }
    }
}
