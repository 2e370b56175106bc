import TSMBytes

/// TPMT_PUBLIC templates of keys the vTPM personalities create, encoded as the TPM reads them.
public enum TPMTemplates {
    /// TPMA_OBJECT of a restricted signing key (go-tpm's `FlagSignerDefault`): fixedTPM,
    /// fixedParent, sensitiveDataOrigin, userWithAuth, restricted, sign.
    public static let signerAttributes: UInt32 =
        TPMPublic.fixedTPM | TPMPublic.fixedParent | TPMPublic.sensitiveDataOrigin | (1 << 6) | TPMPublic.restricted
        | TPMPublic.sign

    /// go-tpm-tools' `AKTemplateRSA` (client/template.go), the template Google's Compute Engine
    /// keeps in NV 0x01c10001: RSA 2048, SHA-256 name, RSASSA with SHA-256, no symmetric
    /// algorithm, exponent 65537 (written 0), empty `unique`.
    public static var attestationKeyRSA: [UInt8] {
        var writer = ByteWriter()
        writer.u16BigEndian(TPMAlgorithmID.rsa)
        writer.u16BigEndian(TPMAlgorithmID.sha256)
        writer.u32BigEndian(signerAttributes)
        writer.sized16([])  // authPolicy
        writer.u16BigEndian(TPMAlgorithmID.null)  // symmetric
        writer.u16BigEndian(TPMAlgorithmID.rsassa)
        writer.u16BigEndian(TPMAlgorithmID.sha256)
        writer.u16BigEndian(2048)
        writer.u32BigEndian(0)
        writer.sized16([])
        return writer.bytes
    }

    /// go-tpm-tools' `AKTemplateECC` (NV 0x01c10003 on Compute Engine): NIST P-256, SHA-256 name,
    /// ECDSA with SHA-256, no symmetric algorithm or KDF, `unique` two 32-byte zero coordinates.
    public static var attestationKeyECC: [UInt8] {
        var writer = ByteWriter()
        writer.u16BigEndian(TPMAlgorithmID.ecc)
        writer.u16BigEndian(TPMAlgorithmID.sha256)
        writer.u32BigEndian(signerAttributes)
        writer.sized16([])
        writer.u16BigEndian(TPMAlgorithmID.null)
        writer.u16BigEndian(TPMAlgorithmID.ecdsa)
        writer.u16BigEndian(TPMAlgorithmID.sha256)
        writer.u16BigEndian(TPMAlgorithmID.nistP256)
        writer.u16BigEndian(TPMAlgorithmID.null)  // kdf
        writer.sized16([UInt8](repeating: 0, count: 32))
        writer.sized16([UInt8](repeating: 0, count: 32))
        return writer.bytes
    }
}
