import Crypto
import TSMBytes
@testable import TSMCrypto
@testable import TSMEvidence
import Testing

/// Issue 24, items 7 and 12: tokens signed with the mock authority's own keys (what anyone with
/// their own CPAK as trust anchor can make) whose headers or claims are wrong are refused, each
/// with its reason, and CBOR's refusals name the value.
@Suite struct COSEStrictnessTests {
    /// A token whose realm token has `realmProtected` as its protected header and `realm` as
    /// claims, and whose platform token has `platformProtected`, both signed with the authority's
    /// keys over exactly those headers.
    static func token(
        realm: CCARealmClaims? = nil, realmProtected: [UInt8]? = nil, platformProtected: [UInt8]? = nil
    ) -> [UInt8] {
        let authority = CCAAuthority()
        let es384 = CBOR.intMap([(1, .int(COSESign1.es384))]).encoded()
        var claims =
            realm
            ?? CCARealmClaims(
                challenge: [UInt8](repeating: 1, count: 64), personalizationValue: [UInt8](repeating: 2, count: 64),
                hashAlgorithm: "sha-256", publicKey: [], publicKeyHashAlgorithm: "sha-256",
                rim: [UInt8](repeating: 3, count: 32),
                rems: Array(repeating: [UInt8](repeating: 4, count: 32), count: 4))
        claims.publicKey = authority.rakCOSEKey
        var platform = authority.platformTemplate
        platform.challenge = Array(SHA256.hash(data: claims.publicKey))
        func signed(_ payload: [UInt8], _ protected: [UInt8], _ key: MockKey) -> [UInt8] {
            let signature = key.sign(COSESign1.sigStructure(protected: protected, payload: payload))
            return COSESign1(protected: protected, payload: payload, signature: signature).encoded()
        }
        return CCAToken.collection(
            platform: signed(platform.encoded(), platformProtected ?? es384, authority.cpak),
            realm: signed(claims.encoded(), realmProtected ?? es384, authority.rak))
    }

    static func verify(_ token: [UInt8]) throws -> CCAToken {
        try CCAToken.verify(token, cpak: try CCAAuthority().cpakPublicKey)
    }

    @Test func theUnalteredTokenVerifies() throws {
        #expect(throws: Never.self) { try Self.verify(Self.token()) }
    }

    @Test("a protected header with a key twice, or crit naming an unknown label, is refused (RFC 9052 §3, §3.1)")
    func headers() throws {
        // {1: -35, 1: -35}
        let doubled: [UInt8] = [0xA2, 0x01, 0x38, 0x22, 0x01, 0x38, 0x22]
        #expect(
            throws: EvidenceError.malformed(
                structure: "realm token", reason: "the map at offset 0 has the key at offset 4 twice")
        ) { try Self.verify(Self.token(realmProtected: doubled)) }
        let crit = CBOR.intMap([(1, .int(COSESign1.es384)), (2, .array([.int(99)])), (99, .int(0))]).encoded()
        #expect(
            throws: EvidenceError.malformed(
                structure: "platform token",
                reason: "crit (2) names label 99, which is not processed here (RFC 9052 §3.1)")
        ) { try Self.verify(Self.token(platformProtected: crit)) }
        let critAlg = CBOR.intMap([(1, .int(COSESign1.es384)), (2, .array([.int(1)]))]).encoded()
        #expect(throws: Never.self) { try Self.verify(Self.token(platformProtected: critAlg)) }
        let emptyCrit = CBOR.intMap([(1, .int(COSESign1.es384)), (2, .array([]))]).encoded()
        #expect(throws: EvidenceError.self) { try Self.verify(Self.token(realmProtected: emptyCrit)) }
    }

    @Test("no alg, or alg -7, is named as such, not as a signature that does not verify")
    func algorithmMessages() throws {
        #expect(
            throws: EvidenceError.failed(
                .realmSignature, reason: "the protected header names no algorithm (label 1); ES384 (-35) is needed")
        ) { try Self.verify(Self.token(realmProtected: CBOR.map([]).encoded())) }
        #expect(
            throws: EvidenceError.failed(
                .platformSignature,
                reason: "the protected header names algorithm -7 (ES256); only ES384 (-35) is accepted")
        ) { try Self.verify(Self.token(platformProtected: CBOR.intMap([(1, .int(-7))]).encoded())) }
    }

    @Test("realm hash algorithm: md5 refused; sha-512 with a 32-byte RIM refused; sha-512 with 64 bytes verifies")
    func realmHashAlgorithm() throws {
        var realm = CCARealmClaims(
            challenge: [UInt8](repeating: 1, count: 64), personalizationValue: [UInt8](repeating: 2, count: 64),
            hashAlgorithm: "md5", publicKey: [], publicKeyHashAlgorithm: "sha-256",
            rim: [UInt8](repeating: 3, count: 32), rems: Array(repeating: [UInt8](repeating: 4, count: 32), count: 4))
        #expect(
            throws: EvidenceError.malformed(
                structure: "realm claims", reason: "hash algorithm (44236) \"md5\" is not sha-256 or sha-512 (RMM 1.0)")
        ) { try Self.verify(Self.token(realm: realm)) }
        realm.hashAlgorithm = "sha-512"
        #expect(
            throws: EvidenceError.malformed(
                structure: "realm claims", reason: "RIM (44238) has 32 bytes; a sha-512 digest has 64")
        ) { try Self.verify(Self.token(realm: realm)) }
        realm.rim = [UInt8](repeating: 3, count: 64)
        realm.rems = Array(repeating: [UInt8](repeating: 4, count: 64), count: 4)
        #expect(throws: Never.self) { try Self.verify(Self.token(realm: realm)) }
    }

    @Test("CBOR: 0xff is a break code, a 2^64-1 length is named as declared")
    func cborMessages() throws {
        #expect(
            throws: CryptoError.malformed(
                structure: "CBOR", reason: "a break code (0xff) at offset 0 with no indefinite-length item open")
        ) { try CBORDecoder.decode([0xFF]) }
        #expect(
            throws: CryptoError.malformed(
                structure: "CBOR",
                reason: "the byte string at offset 0 declares a length of 18446744073709551615, but 0 bytes remain")
        ) { try CBORDecoder.decode([0x5B] + [UInt8](repeating: 0xFF, count: 8)) }
        #expect(
            throws: CryptoError.malformed(
                structure: "CBOR", reason: "reserved additional information 31 at offset 0")
        ) { try CBORDecoder.decode([0x1F]) }
    }
}
