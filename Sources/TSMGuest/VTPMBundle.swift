import TSMBytes
import TSMEvidence

/// A vTPM bundle for `tsmfs verify --vtpm NAME DIR`: a directory of the files the guest's tools
/// write, each under the name given here (docs/verifiers.md, "vTPM evidence", has the commands),
/// and the nonce the relying party sent. Each file has a size limit; a larger one is refused after
/// reading one byte past it, before anything is parsed.
public enum VTPMBundle {
    /// The cloud vTPM whose evidence the directory holds (`--vtpm`).
    public enum Personality: String, Sendable, CaseIterable {
        case azure
        case gcp
        case svsm

        /// The `--vtpm` kind that makes this evidence: a guest takes its bundles when it serves
        /// that kind (``GuestDefinition/vtpmKinds``).
        public var kind: VTPMKind {
            switch self {
            case .azure: .azure
            case .gcp: .gcp
            case .svsm: .svsm
            }
        }

        /// Its files beside the quote's, in the order they are checked.
        public var files: [File] {
            switch self {
            case .azure: [.hclReport, .vcek, .certificateChain, .akCertificate]
            case .gcp: [.akCertificate]
            case .svsm: [.report, .auxblob, .manifest, .akPublic]
            }
        }
    }

    /// One file of a bundle: its name in the directory, what it is, and its limit in bytes.
    public struct File: Sendable, Equatable {
        public let name: String
        public let what: String
        public let limit: Int

        /// `tpm2_quote -m`: the TPMS_ATTEST (a TPM2B_ATTEST holds at most about 1 KB).
        public static let quoteMessage = File(name: "quote.msg", what: "quote's TPMS_ATTEST", limit: 2048)
        /// `tpm2_quote -s`: the TPMT_SIGNATURE (RSA 4096 is 518 bytes).
        public static let quoteSignature = File(name: "quote.sig", what: "quote's TPMT_SIGNATURE", limit: 1024)
        /// `tpm2_quote -o -F values`: the selected PCRs' values (4 banks of 24 SHA-512 PCRs: 6 KB).
        public static let quotePCRs = File(name: "quote.pcrs", what: "quote's PCR values", limit: 8 * 1024)
        /// `tpm2_nvread 0x01400001`: Azure's HCL report (2,600 bytes on Azure).
        public static let hclReport = File(name: "hcl-report.bin", what: "HCL report", limit: 8 * 1024)
        /// `tpm2_nvread` of the AK certificate's index, NV padding allowed.
        public static let akCertificate = File(name: "ak-cert.der", what: "AK certificate", limit: 4096)
        /// `/vcek/v1/Milan/{chip_id}?...` of AMD's KDS or `tsmfs kds`.
        public static let vcek = File(name: "vcek.der", what: "VCEK", limit: EvidenceVerifier.vcekLimit)
        /// `/vcek/v1/Milan/cert_chain`: ASK then ARK, PEM.
        public static let certificateChain = File(
            name: "cert_chain.pem", what: "ASK/ARK cert_chain", limit: EvidenceVerifier.certificateChainLimit)
        /// configfs-tsm `outblob` of an SVSM vTPM request: the SNP report.
        public static let report = File(name: "report.bin", what: "SEV-SNP report", limit: SNPReport.size)
        /// configfs-tsm `auxblob`: the certificate table.
        public static let auxblob = File(
            name: "auxblob.bin", what: "certificate table", limit: SNPCertificateTable.maxSize)
        /// configfs-tsm `manifestblob` of the SVSM vTPM service: the EK's TPMT_PUBLIC.
        public static let manifest = File(name: "manifest.bin", what: "SVSM vTPM manifest", limit: 2048)
        /// `tpm2_readpublic -f tss -o`: the AK's TPM2B_PUBLIC (or the bare TPMT_PUBLIC).
        public static let akPublic = File(name: "ak.pub", what: "AK's TPMT_PUBLIC", limit: 2048)
    }

    /// What `tsmfs verify --vtpm` checks, for that command's help.
    public static let summary = """
        With --vtpm NAME and --nonce HEX, FILE is a vTPM bundle directory (docs/verifiers.md, \
        "vTPM evidence"): azure, the SNP report in its HCL report with the VCEK and cert_chain of \
        KDS, REPORTED_TCB = COMMITTED_TCB, the claims' hash in REPORT_DATA, the quote by HCLAkPub and \
        its certificate to the mock Azure vTPM CA; gcp, the AK certificate to the mock Compute Engine \
        CA and the quote by its key; svsm, the SNP report at VMPL 0 over SHA-512(nonce ‖ manifest), \
        the manifest an EK public area, the quote by ak.pub.
        """

    /// The quote's files, in every bundle.
    public static let quoteFiles: [File] = [.quoteMessage, .quoteSignature, .quotePCRs]

    /// Why `tsmfs verify` cannot take these options together; nil when it can. `personality` and
    /// `nonce` are `--vtpm` and `--nonce` as given, `others` the names of the other options given
    /// that a bundle replaces (`--auxblob`, `--collateral`, `--report-data`, `--trust-anchor`; `--crl`
    /// applies to the SEV-SNP report of azure and svsm, not to gcp's bundle, which has none).
    /// `policyFlags` are the guest's policy flags given (`--min-tcb`, ...): a gcp bundle has no
    /// hardware report for them to apply to, so they are refused rather than silently unchecked.
    public static func refusal(
        personality: String?, nonce: String?, guest: any GuestDefinition.Type, in catalogue: GuestCatalogue,
        others: [String], policyFlags: [String] = []
    ) -> String? {
        guard let personality else {
            return nonce == nil ? nil : "--nonce is the vTPM quote's; give --vtpm NAME with it"
        }
        guard let chosen = Personality(rawValue: personality) else {
            return "--vtpm \(personality): not one of \(Personality.allCases.map(\.rawValue).joined(separator: ", "))"
        }
        guard guest.vtpmKinds.contains(chosen.kind) else {
            let takers = catalogue.guests.filter { $0.vtpmKinds.contains(chosen.kind) }.map { $0.name }
            return "--vtpm \(personality) is for --guest \(GuestCatalogue.alternatives(takers))"
        }
        guard let nonce else { return "--vtpm needs --nonce HEX (the quote's qualifying data)" }
        guard let bytes = Hex.decode(nonce), (1...64).contains(bytes.count) else {
            return "--nonce takes 1 to 64 bytes as hex (2 to 128 digits)"
        }
        if chosen == .gcp, let flag = policyFlags.first {
            return "\(flag) is a policy for the hardware report, which a gcp bundle does not have"
        }
        if let other = others.first(where: { $0 != "--crl" || chosen == .gcp }) {
            return
                """
                \(other) is not for a vTPM bundle: its directory holds every file, the nonce is --nonce, and \
                the anchors are the mock authorities of --seed
                """
        }
        return nil
    }
}
