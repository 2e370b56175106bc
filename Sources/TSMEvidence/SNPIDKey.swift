import Crypto

/// The keys of a SEV-SNP guest's ID block as the firmware digests them into the report (AMD
/// SEV-SNP firmware ABI specification, SNP_LAUNCH_FINISH and its "ID_AUTH_INFO" structure; the
/// ATTESTATION_REPORT's ID_KEY_DIGEST at 0xE0, AUTHOR_KEY_DIGEST at 0x110 and SIGNER_INFO bit 0,
/// AUTHOR_KEY_EN): each digest is SHA-384 of the key in the firmware's public key format
/// (the specification's "ECDSA Public Key" table, virtee/sev's `SevEcdsaPubKey`): CURVE, a
/// little-endian u32 (2: P-384), at 0x000; QX at 0x004 and QY at 0x04C, 72 bytes each,
/// little-endian and zero-padded; reserved zeros to 0x403.
public enum SNPIDKey {
    /// Bytes of the firmware's ECDSA public key structure.
    public static let publicKeySize = 0x404
    /// CURVE for P-384.
    public static let curveP384: UInt32 = 2
    /// Bytes of each coordinate field.
    static let coordinateSize = 72
    /// A key file's limit: a P-384 PEM key is under 400 bytes.
    public static let fileLimit = 16 * 1024

    /// `key` in the firmware's public key format: the 0x404 bytes the digests cover.
    public static func sevPublicKey(_ key: P384.Signing.PublicKey) -> [UInt8] {
        let raw = Array(key.rawRepresentation)
        let pad = [UInt8](repeating: 0, count: coordinateSize - 48)
        let header: [UInt8] = [UInt8(curveP384), 0, 0, 0]
        let body = header + Array(raw[0..<48].reversed()) + pad + Array(raw[48..<96].reversed()) + pad
        return body + [UInt8](repeating: 0, count: publicKeySize - body.count)
    }

    /// ID_KEY_DIGEST or AUTHOR_KEY_DIGEST of `key`: SHA-384 of ``sevPublicKey(_:)``.
    public static func digest(_ key: P384.Signing.PublicKey) -> [UInt8] {
        Array(SHA384.hash(data: sevPublicKey(key)))
    }

    /// The public key of a PEM P-384 key: a private key (PKCS#8 `PRIVATE KEY` or SEC 1
    /// `EC PRIVATE KEY`, what `openssl ecparam -genkey` writes and virtee/sev's
    /// `generate_key_digest` reads) or a public key (SubjectPublicKeyInfo); nil for anything else.
    public static func publicKey(pem: String) -> P384.Signing.PublicKey? {
        if let key = try? P384.Signing.PrivateKey(pemRepresentation: pem) { return key.publicKey }
        return try? P384.Signing.PublicKey(pemRepresentation: pem)
    }

    /// The seed's mock ID key: the key whose digest is ID_KEY_DIGEST when an author key is given
    /// without an ID key (an author key certifies an ID key; the report has both digests).
    public static func mockIDKey(seed: String) throws(EvidenceError) -> P384.Signing.PublicKey {
        do {
            return try P384.Signing.PublicKey(
                rawRepresentation: MockKey(seed: seed, label: "sev-snp id key", curve: .p384).publicKeyRaw)
        } catch {
            throw .invalidInput(field: "ID key", reason: "\(error)")
        }
    }
}
