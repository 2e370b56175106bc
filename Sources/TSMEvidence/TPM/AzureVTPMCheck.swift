import TSMBytes

/// The checks of an Azure confidential VM's vTPM evidence (Microsoft, "Confidential VM guest
/// attestation design detail", "How is vTPM evidence verified"): the hardware report inside the
/// HCL report is genuine, it binds the runtime claims, the claims name the attestation key, and
/// that key signed the TPM quote over the relying party's nonce and the PCRs.
public enum AzureVTPMCheck {
    /// What the evidence vouches for, once every check passed.
    public struct Verified: Sendable {
        public let report: SNPReport
        public let claims: AzureRuntimeClaims
        public let quote: TPMQuote
        public let pcrs: [UInt16: [Int: [UInt8]]]
        /// `HCLAkPub`: the key that signed the quote, which its certificate must certify.
        public let attestationKey: TPMPublic.Key
    }

    /// Checks, in order, throwing the first failure:
    /// 1. the HCL report parses and holds an SEV-SNP report (TDX's needs a quote service);
    /// 2. that report verifies with the certificate table `auxblob` (VCEK, ASK, ARK) against
    ///    `verifier`'s anchor, as `tsmfs verify --guest sev-snp` checks a report;
    /// 3. its REPORTED_TCB equals COMMITTED_TCB, as Azure's verifiers require (a report whose VCEK
    ///    is for a TCB the platform has not committed to is refused);
    /// 4. its REPORT_DATA is the claims' hash (the runtime data's hash type, zero-padded);
    /// 5. the claims parse and hold `HCLAkPub`, an RSA key;
    /// 6. that key signed `quote` over its nonce and PCR values.
    public static func verify(
        hclReport: [UInt8], auxblob: [UInt8], verifier: EvidenceVerifier, quote: TPMQuoteEvidence
    ) throws(EvidenceError) -> Verified {
        try verify(hclReport: hclReport, quote: quote) { (bytes) throws(EvidenceError) in
            try verifier.verifySNPReport(bytes, auxblob: auxblob)
        }
    }

    /// The same checks, step 2 being `verifyHardwareReport` on the SNP report's bytes (`tsmfs
    /// verify` runs `--guest sev-snp`'s own verifier there, with the VCEK and cert_chain of KDS).
    public static func verify(
        hclReport: [UInt8], quote: TPMQuoteEvidence,
        verifyHardwareReport: (_ report: [UInt8]) throws(EvidenceError) -> SNPReport
    ) throws(EvidenceError) -> Verified {
        let hcl = try AzureHCLReport(parsing: hclReport)
        guard hcl.reportType == .snp else {
            throw .failed(.hclReport, reason: "its hardware report is a TDX TDREPORT; only SEV-SNP's is checked here")
        }
        let report = try verifyHardwareReport(hcl.hardwareReport)
        guard report.reportedTCB == report.committedTCB else {
            throw .failed(
                .hclReport,
                reason: "REPORTED_TCB \(report.reportedTCB.splText) is not COMMITTED_TCB \(report.committedTCB.splText)"
            )
        }
        guard report.reportData == hcl.expectedReportData else {
            throw .failed(.hclReport, reason: "REPORT_DATA is not the hash of the runtime claims")
        }
        let claims = try AzureRuntimeClaims(parsing: hcl.claims)
        guard let ak = claims.key(AzureRuntimeClaims.attestationKeyID) else {
            throw .failed(.hclReport, reason: "the runtime claims have no \(AzureRuntimeClaims.attestationKeyID) key")
        }
        guard ak.kty == "RSA", let modulus = ak.modulus, let exponent = ak.exponent, exponent.count <= 4 else {
            throw .failed(
                .hclReport, reason: "\(AzureRuntimeClaims.attestationKeyID) is not an RSA key (kty \(ak.kty))")
        }
        let key = TPMPublic.Key.rsa(
            modulus: modulus, exponent: UInt32(bigEndianBytes: ([0, 0, 0, 0] + exponent).suffix(4)))
        let (parsed, pcrs) = try quote.verify(key: key)
        return Verified(report: report, claims: claims, quote: parsed, pcrs: pcrs, attestationKey: key)
    }
}
