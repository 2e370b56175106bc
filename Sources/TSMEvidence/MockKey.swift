import Crypto
import FoundationEssentials
import SwiftASN1
import X509

/// A mock private key: a P-256 or P-384 scalar derived from a seed and a role label, signing with
/// RFC 6979 nonces. It plays every key of the mock authority (root, intermediate and leaf CA
/// keys, the DCAP attestation key, the VCEK) and signs certificates through swift-certificates'
/// `CustomPrivateKey`, so the same seed gives byte-identical certificates.
public struct MockKey: Sendable, Hashable {
    /// P-256 (DCAP keys) or P-384 (AMD keys).
    public let curve: ECCurve
    /// The private scalar d, big-endian, `curve.scalarSize` bytes, 1 ≤ d < n.
    let scalar: [UInt8]

    /// d = (HKDF-SHA256(ikm: seed, salt: "tsmfs mock authority", info: label) mod (n − 1)) + 1,
    /// the HKDF output being 8 bytes longer than the scalar so the reduction's bias is < 2⁻⁶⁴
    /// (the FIPS 186-4 B.4.1 method). Any seed and label give a valid key.
    public init(seed: String, label: String, curve: ECCurve) {
        self.curve = curve
        let okm = HKDF<SHA256>.deriveKey(
            inputKeyMaterial: SymmetricKey(data: Array(seed.utf8)),
            salt: Array("tsmfs mock authority".utf8),
            info: Array(label.utf8),
            outputByteCount: curve.scalarSize + 8
        ).withUnsafeBytes { Array($0) }
        scalar = curve.scalar(reducing: okm)
    }

    /// A key from a raw big-endian scalar (tests use RFC 6979's vectors).
    init(scalar: [UInt8], curve: ECCurve) {
        self.curve = curve
        self.scalar = scalar
    }

    /// The uncompressed public point x‖y without the 0x04 prefix (DCAP's 64-byte attestation key
    /// format for P-256).
    public var publicKeyRaw: [UInt8] {
        switch curve {
        case .p256:
            return (try? Array(P256.Signing.PrivateKey(rawRepresentation: scalar).publicKey.rawRepresentation)) ?? []
        case .p384:
            return (try? Array(P384.Signing.PrivateKey(rawRepresentation: scalar).publicKey.rawRepresentation)) ?? []
        }
    }

    /// The public key as swift-certificates wraps it.
    public var certificatePublicKey: Certificate.PublicKey {
        get throws {
            switch curve {
            case .p256: return Certificate.PublicKey(try P256.Signing.PrivateKey(rawRepresentation: scalar).publicKey)
            case .p384: return Certificate.PublicKey(try P384.Signing.PrivateKey(rawRepresentation: scalar).publicKey)
            }
        }
    }

    /// The SubjectPublicKeyInfo DER (id-ecPublicKey, the named curve, the uncompressed point).
    public var subjectPublicKeyInfo: [UInt8] {
        get throws(EvidenceError) {
            do {
                switch curve {
                case .p256:
                    return Array(try P256.Signing.PrivateKey(rawRepresentation: scalar).publicKey.derRepresentation)
                case .p384:
                    return Array(try P384.Signing.PrivateKey(rawRepresentation: scalar).publicKey.derRepresentation)
                }
            } catch {
                throw .certificate(role: "mock key", reason: "\(error)")
            }
        }
    }

    /// The raw r‖s ECDSA signature over the curve hash (SHA-256 or SHA-384) of `message`.
    public func sign(_ message: [UInt8]) -> [UInt8] {
        DeterministicECDSA.sign(message, scalar: scalar, curve: curve)
    }

    var signatureAlgorithm: Certificate.SignatureAlgorithm {
        curve == .p256 ? .ecdsaWithSHA256 : .ecdsaWithSHA384
    }
}

/// The `CustomPrivateKey` face of a mock key: swift-certificates hands it the TBSCertificate bytes.
struct MockCertificateSigner: CustomPrivateKey {
    static let defaultPEMDiscriminator = "PRIVATE KEY"

    let key: MockKey
    let publicKey: Certificate.PublicKey

    init(_ key: MockKey) throws {
        self.key = key
        self.publicKey = try key.certificatePublicKey
    }

    var defaultSignatureAlgorithm: Certificate.SignatureAlgorithm { key.signatureAlgorithm }
    var supportedSignatureAlgorithms: [Certificate.SignatureAlgorithm] { [key.signatureAlgorithm] }

    func signSynchronously(bytes: some DataProtocol, signatureAlgorithm: Certificate.SignatureAlgorithm) throws
        -> Certificate.Signature
    {
        guard signatureAlgorithm == key.signatureAlgorithm else {
            throw EvidenceError.invalidInput(
                field: "signature algorithm", reason: "\(signatureAlgorithm) with a \(key.curve.rawValue) key")
        }
        let raw = key.sign(Array(bytes))
        let der: [UInt8]
        switch key.curve {
        case .p256: der = Array(try P256.Signing.ECDSASignature(rawRepresentation: raw).derRepresentation)
        case .p384: der = Array(try P384.Signing.ECDSASignature(rawRepresentation: raw).derRepresentation)
        }
        return try Certificate.Signature(
            signatureAlgorithm: signatureAlgorithm, signatureBytes: ASN1BitString(bytes: der[...]))
    }

    /// The PKCS#8 form of the key, which `PEMSerializable` asks for; tsmfs never writes it out.
    func serialize(into coder: inout DER.Serializer) throws {
        let pkcs8: [UInt8]
        switch key.curve {
        case .p256: pkcs8 = Array(try P256.Signing.PrivateKey(rawRepresentation: key.scalar).derRepresentation)
        case .p384: pkcs8 = Array(try P384.Signing.PrivateKey(rawRepresentation: key.scalar).derRepresentation)
        }
        coder.serializeRawBytes(pkcs8)
    }

    static func == (lhs: Self, rhs: Self) -> Bool { lhs.key == rhs.key }
    func hash(into hasher: inout Hasher) { hasher.combine(key) }
}
