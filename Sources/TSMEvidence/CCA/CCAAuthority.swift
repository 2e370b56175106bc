import Crypto

/// The mock CCA platform of a seed: the CPAK that signs platform tokens, the RAK that signs realm
/// tokens (both P-384, ES384), and the platform's identity and firmware measurements. The same
/// seed always gives the same keys, so `tsmfs trust-anchor --guest cca` in one process prints
/// the CPAK a daemon in another signs with.
public struct CCAAuthority: Sendable {
    /// The string every key and platform value derives from.
    public let seed: String
    let cpak: MockKey
    let rak: MockKey
    /// The platform claims every token carries, its challenge aside.
    public var platformTemplate: CCAPlatformClaims

    /// Derives the CPAK, the RAK and the platform claims from `seed` (HKDF, as the TDX and SNP authorities' keys).
    public init(seed: String = MockSeed.default) {
        self.seed = seed
        cpak = MockKey(seed: seed, label: "cca cpak", curve: .p384)
        rak = MockKey(seed: seed, label: "cca rak", curve: .p384)
        func digest(_ label: String) -> [UInt8] {
            Array(SHA256.hash(data: Array("tsmfs mock cca \(label) \(seed)".utf8)))
        }
        let signer = digest("firmware signer")
        let components = ["BL1", "BL2", "BL31", "RMM"].map {
            CCASoftwareComponent(
                type: $0, measurement: digest("firmware \($0)"), version: "1.0.0", signerID: signer,
                hashAlgorithm: "sha-256")
        }
        platformTemplate = CCAPlatformClaims(
            challenge: [], implementationID: digest("implementation"),
            instanceID: [0x01] + Array(SHA256.hash(data: cpak.publicKeyRaw)), config: Array("tsmfs mock".utf8),
            lifecycle: 0x3000, softwareComponents: components,
            verificationService: "https://veraison.example/.well-known/veraison/verification", hashAlgorithm: "sha-256")
    }

    /// The RAK as the realm token carries it (claim 44237): a COSE_Key.
    public var rakCOSEKey: [UInt8] { COSEKey.p384(rak.publicKeyRaw) }

    /// The CPAK public key.
    public var cpakPublicKey: P384.Signing.PublicKey {
        get throws(EvidenceError) {
            do {
                return try P384.Signing.PublicKey(rawRepresentation: cpak.publicKeyRaw)
            } catch {
                throw .invalidInput(field: "CPAK", reason: "\(error)")
            }
        }
    }

    /// The CPAK public key as PEM (SubjectPublicKeyInfo): the trust anchor a verifier is given.
    public var cpakPEM: String {
        get throws(EvidenceError) { try cpakPublicKey.pemRepresentation + "\n" }
    }

    /// A signed token over `realm` (whose ``CCARealmClaims/publicKey`` is replaced by this RAK):
    /// the realm token signed by the RAK, the platform token binding it signed by the CPAK.
    public func token(_ realm: CCARealmClaims, format: CCAToken.Format = .tag399) throws(EvidenceError) -> [UInt8] {
        guard realm.challenge.count == 64, realm.personalizationValue.count == 64 else {
            throw .invalidInput(field: "realm claims", reason: "challenge and personalization value must be 64 bytes")
        }
        var realm = realm
        realm.publicKey = rakCOSEKey
        realm.publicKeyHashAlgorithm = "sha-256"
        var platform = platformTemplate
        platform.challenge = Array(SHA256.hash(data: realm.publicKey))
        return CCAToken.collection(
            platform: COSESign1.sign(payload: platform.encoded(), key: cpak),
            realm: COSESign1.sign(payload: realm.encoded(), key: rak), format: format)
    }
}
