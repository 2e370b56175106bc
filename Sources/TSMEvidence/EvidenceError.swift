/// A check the verifier runs. Its `rawValue` is the name an error message starts with, so a
/// failure reads as the check that failed ("QE report signature: ...").
public enum VerificationCheck: String, Sendable, CaseIterable {
    /// DCAP: the ECDSA P-256 signature over the quote header and body by the attestation key.
    case attestationKeySignature = "attestation key signature"
    /// DCAP: the PCK leaf key's signature over the 384-byte QE report.
    case qeReportSignature = "QE report signature"
    /// DCAP: QE report REPORTDATA = SHA-256(attestation key ‖ QE auth data) ‖ 32 zero bytes.
    case qeReportDataBinding = "QE report data does not bind the attestation key"
    /// DCAP: the PEM chain in certification data type 5, up to the trust anchor.
    case pckChain = "PCK chain"
    /// SEV-SNP: the VCEK's ECDSA P-384 signature over ATTESTATION_REPORT bytes 0..<0x2A0.
    case reportSignature = "report signature"
    /// SEV-SNP: VCEK signed by ASK signed by ARK, the ARK being the trust anchor.
    case vcekChain = "VCEK chain"
    /// SEV-SNP: the report's CHIP_ID and REPORTED_TCB match the VCEK certificate's extensions.
    case vcekBinding = "VCEK does not match the report"
    /// SEV-SNP: the ARK's CRL (`tsmfs verify --crl`) is the ARK's, signed by it, current, and lists
    /// neither the ASK (ASVK) nor the VCEK (VLEK).
    case revocation = "revocation"
    /// DCAP: the collateral (TCB info, QE identity) is signed under the anchor, current, and
    /// names the platform; its matching TCB level is not Revoked.
    case collateral = "collateral"
    /// CCA: the RAK's ES384 signature over the realm token.
    case realmSignature = "realm signature"
    /// CCA: the platform challenge is the hash of the realm token's RAK.
    case rakBinding = "platform challenge does not bind the RAK"
    /// CCA: the CPAK's ES384 signature over the platform token.
    case platformSignature = "platform signature"
    /// TPM: the attestation key's signature over the quote's TPMS_ATTEST.
    case tpmQuoteSignature = "TPM quote signature"
    /// TPM: the quote's qualifying data (extraData) is the relying party's nonce.
    case tpmQuoteNonce = "TPM quote nonce"
    /// TPM: the quote's pcrDigest is the digest of the PCR values given with it.
    case tpmPCRDigest = "TPM quote PCR digest"
    /// Azure vTPM: the HCL report's hardware report binds its runtime claims (REPORT_DATA holds
    /// their hash), reports REPORTED_TCB = COMMITTED_TCB, and its claims hold the AK that quoted.
    case hclReport = "HCL report"
    /// vTPM: the attestation key's certificate (from its NV index) chains to the trust anchor
    /// through the CA's intermediate and certifies the key that quoted.
    case akCertificate = "AK certificate"
    /// SVSM vTPM: the SNP report is the SVSM's (VMPL 0), its REPORT_DATA is SHA-512(nonce ‖
    /// manifest), and the manifest is the vTPM's EK public area (a TPMT_PUBLIC).
    case svsmBinding = "SVSM vTPM binding"
    /// The relying party's policy (`tsmfs verify`'s `VerifyPolicy`): run after every
    /// cryptographic check passed, so its refusal means the evidence is genuine but unwanted.
    case policy = "policy"
}

/// Why evidence could not be made, parsed or verified. Every error says which structure or which
/// check is at fault; parsers and the verifier throw nothing else.
public enum EvidenceError: Error, Equatable, Sendable, CustomStringConvertible {
    /// `structure` ended before `field`: it needs `needed` bytes at `offset`, `available` remain.
    case truncated(structure: String, field: String, offset: Int, needed: Int, available: Int)
    /// `structure` has a value no producer of it would write (wrong version, type, size, ...).
    case malformed(structure: String, reason: String)
    /// A verification check failed.
    case failed(VerificationCheck, reason: String)
    /// An input to an encoder has the wrong size or value.
    case invalidInput(field: String, reason: String)
    /// Building or reading a certificate failed in swift-certificates.
    case certificate(role: String, reason: String)

    /// The check that failed, if this is a verification failure.
    public var check: VerificationCheck? {
        if case .failed(let check, _) = self { return check }
        return nil
    }

    /// The message `tsmfs verify` prints: the check or structure first, then what is wrong.
    public var description: String {
        switch self {
        case .truncated(let structure, let field, let offset, let needed, let available):
            return
                """
                truncated \(structure): \(field) needs \(needed) bytes at offset \(offset), \(max(available, 0)) \
                remain
                """
        case .malformed(let structure, let reason):
            return "malformed \(structure): \(reason)"
        case .failed(let check, let reason):
            return "\(check.rawValue): \(reason)"
        case .invalidInput(let field, let reason):
            return "invalid \(field): \(reason)"
        case .certificate(let role, let reason):
            return "\(role) certificate: \(reason)"
        }
    }
}
