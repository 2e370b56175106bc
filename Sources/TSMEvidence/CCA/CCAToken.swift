import Crypto
import TSMBytes

/// A CCA attestation token as RMM 1.0 returns it through RSI_ATTESTATION_TOKEN_CONTINUE: the
/// CBOR collection `399({44234: bstr .cbor platform COSE_Sign1, 44241: bstr .cbor realm
/// COSE_Sign1})`, the platform token signed by the CPAK, the realm token by the RAK.
public struct CCAToken: Sendable, Equatable {
    /// How the two tokens are collected.
    public enum Format: String, Sendable, CaseIterable {
        /// RMM 1.0: `399({44234: bstr, 44241: bstr})`, what Linux 6.13-era realms see.
        case tag399
        /// TF-RMM v0.9's CMW collection: `907({44234: [263, bstr], 44241: [263, bstr]})`.
        case cmw
    }

    /// The RMM 1.0 collection's tag.
    public static let collectionTag: UInt64 = 399
    /// The CMW collection's tag (draft-ietf-rats-msg-wrap) and its records' content format.
    public static let cmwTag: UInt64 = 907, cmwContentFormat: UInt64 = 263
    /// The collection key of the platform token.
    public static let platformKey: Int64 = 44234
    /// The collection key of the realm token.
    public static let realmKey: Int64 = 44241
    /// A larger token is refused before it is decoded (TF-RMM's buffer is 4 KiB).
    public static let maxSize = 64 * 1024

    /// The collection the token came in.
    public let format: Format
    /// The platform token, signed by the CPAK.
    public let platform: COSESign1
    /// The realm token, signed by the RAK.
    public let realm: COSESign1
    /// The platform token's payload, parsed.
    public let platformClaims: CCAPlatformClaims
    /// The realm token's payload, parsed.
    public let realmClaims: CCARealmClaims

    /// Assembles the token's bytes from two signed messages, platform first as TF-RMM writes it.
    public static func collection(platform: [UInt8], realm: [UInt8], format: Format = .tag399) -> [UInt8] {
        switch format {
        case .tag399:
            return CBOR.tagged(collectionTag, .intMap([(platformKey, .bytes(platform)), (realmKey, .bytes(realm))]))
                .encoded()
        case .cmw:
            func record(_ bytes: [UInt8]) -> CBOR { .array([.unsigned(cmwContentFormat), .bytes(bytes)]) }
            return CBOR.tagged(cmwTag, .intMap([(platformKey, record(platform)), (realmKey, record(realm))])).encoded()
        }
    }

    /// The two tokens' bytes and the format of a collection.
    static func entries(_ top: CBOR) -> (platform: [UInt8], realm: [UInt8], format: Format)? {
        switch top {
        case .tagged(collectionTag, let collection):
            guard case .map(let pairs) = collection, pairs.count == 2,
                case .bytes(let platform) = collection[platformKey],
                case .bytes(let realm) = collection[realmKey]
            else { return nil }
            return (platform, realm, .tag399)
        case .tagged(cmwTag, let collection):
            guard case .map(let pairs) = collection, pairs.count == 2,
                case .array(let platform) = collection[platformKey], platform.count == 2,
                platform[0] == .unsigned(cmwContentFormat),
                case .bytes(let platformBytes) = platform[1],
                case .array(let realm) = collection[realmKey], realm.count == 2,
                realm[0] == .unsigned(cmwContentFormat),
                case .bytes(let realmBytes) = realm[1]
            else { return nil }
            return (platformBytes, realmBytes, .cmw)
        default:
            return nil
        }
    }

    /// Parses a token and both claim sets; checks no signature.
    public static func parse(_ bytes: [UInt8]) throws(EvidenceError) -> CCAToken {
        guard bytes.count <= maxSize else {
            throw .malformed(structure: "CCA token", reason: "\(bytes.count) bytes, more than \(maxSize)")
        }
        let top = try mappingCryptoError(CBORDecoder.decode(bytes, structure: "CCA token"))
        guard let (platformBytes, realmBytes, format) = entries(top) else {
            throw .malformed(
                structure: "CCA token",
                reason:
                    """
                    not tag 399 around {44234: bstr, 44241: bstr} nor tag 907 around {44234: [263, bstr], 44241: \
                    [263, bstr]}
                    """
            )
        }
        let platform = try mappingCryptoError(COSESign1.parse(platformBytes, structure: "platform token"))
        let realm = try mappingCryptoError(COSESign1.parse(realmBytes, structure: "realm token"))
        return CCAToken(
            format: format, platform: platform, realm: realm,
            platformClaims: try CCAPlatformClaims.parse(platform.payload),
            realmClaims: try CCARealmClaims.parse(realm.payload))
    }

    /// The digest `name` ("sha-256", "sha-384", "sha-512") of `bytes`, nil for another name.
    public static func hash(_ name: String, _ bytes: [UInt8]) -> [UInt8]? {
        switch name {
        case "sha-256": return Array(SHA256.hash(data: bytes))
        case "sha-384": return Array(SHA384.hash(data: bytes))
        case "sha-512": return Array(SHA512.hash(data: bytes))
        default: return nil
        }
    }

    /// Verifies a token against the CPAK: the realm signature with the RAK the realm token
    /// carries, the platform challenge = H44240(RAK COSE_Key bytes), then the platform signature.
    public static func verify(_ bytes: [UInt8], cpak: P384.Signing.PublicKey) throws(EvidenceError) -> CCAToken {
        let token = try parse(bytes)
        let rak = try mappingCryptoError(
            COSEKey.parseP384(token.realmClaims.publicKey, structure: "realm public key (44237)"))
        if let refusal = token.realm.es384Refusal { throw .failed(.realmSignature, reason: refusal) }
        guard token.realm.isValid(key: rak) else {
            throw .failed(.realmSignature, reason: "the ES384 signature by the RAK in claim 44237 does not verify")
        }
        let algorithm = token.realmClaims.publicKeyHashAlgorithm
        guard let expected = hash(algorithm, token.realmClaims.publicKey) else {
            throw .failed(.rakBinding, reason: "unknown public key hash algorithm \"\(algorithm)\"")
        }
        guard token.platformClaims.challenge == expected else {
            throw .failed(
                .rakBinding,
                reason:
                    """
                    platform challenge is \(Hex.encode(token.platformClaims.challenge)), \(algorithm)(RAK) is \
                    \(Hex.encode(expected))
                    """
            )
        }
        if let refusal = token.platform.es384Refusal { throw .failed(.platformSignature, reason: refusal) }
        guard token.platform.isValid(key: cpak) else {
            throw .failed(.platformSignature, reason: "the ES384 signature by the trust anchor (CPAK) does not verify")
        }
        return token
    }

    /// The CPAK from a PEM file's text (a PUBLIC KEY document, as `tsmfs trust-anchor` prints it).
    public static func cpak(pem: String) throws(EvidenceError) -> P384.Signing.PublicKey {
        do {
            return try P384.Signing.PublicKey(pemRepresentation: pem)
        } catch {
            throw .malformed(structure: "trust anchor", reason: "not a P-384 PUBLIC KEY PEM: \(error)")
        }
    }
}
