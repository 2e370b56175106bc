import Crypto
import TSMBytes
import TestSupport
@testable import TSMEvidence
import Testing

/// The CCA token: Arm's example decodes and verifies with our code, our tokens have the bytes
/// the RMM 1.0 specification and TF-RMM give them, and a flipped byte fails a named check.
@Suite struct CCATokenTests {
    @Test func decodesAndVerifiesArmsExampleToken() throws {
        let bytes = try #require(Hex.decode(ArmCCAExample.tokenHex))
        #expect(bytes.count == 2124)
        #expect(
            Hex.encode(SHA256.hash(data: bytes)) == "70a46f0855e405e6c95a5cfeecf821022ec706978aedaca316ff83430c22fe56")
        let token = try CCAToken.verify(bytes, cpak: try CCAToken.cpak(pem: ArmCCAExample.platformKeyPEM))
        let realm = token.realmClaims
        #expect(realm.profile == "tag:arm.com,2023:realm#1.0.0")
        #expect(Hex.encode(realm.challenge).hasPrefix("6e86d6d97cc713bc"))
        #expect(
            String(decoding: realm.personalizationValue, as: UTF8.self).hasPrefix(
                "The quick brown fox jumps over 13 lazy dogs."))
        #expect(realm.hashAlgorithm == "sha-256" && realm.publicKeyHashAlgorithm == "sha-256")
        #expect(realm.publicKey.count == 107 && Hex.encode(realm.publicKey).hasPrefix("a401022002215830"))
        #expect(Hex.encode(realm.rim) == "311314ab73620350cf758834ae5c65d9e8c2dc7febe6e7d9654bbe864e300d49")
        #expect(realm.rems.map { Hex.encode($0.prefix(4)) } == ["24d5b0a2", "788fc090", "dac46a58", "32c6afc6"])
        let platform = token.platformClaims
        #expect(Hex.encode(platform.challenge) == "0d22e08a98469058486318283489bdb36f09dbefeb1864df433fa6e54ea2d711")
        #expect(platform.lifecycle == 12291 && platform.config == [0xCF, 0xCF, 0xCF, 0xCF])
        #expect(platform.softwareComponents.count == 13 && platform.softwareComponents.first?.type == "RSE_BL1_2")
        #expect(platform.verificationService == "https://veraison.example/.well-known/veraison/verification")
        // Our encoder writes Arm's bytes back from the decoded items, head for head.
        #expect(try CBORDecoder.decode(bytes).encoded() == bytes)
        #expect(
            throws: EvidenceError.failed(
                .platformSignature, reason: "the ES384 signature by the trust anchor (CPAK) does not verify")
        ) {
            try CCAToken.verify(bytes, cpak: try CCAAuthority().cpakPublicKey)
        }
    }

    @Test func ourTokenHasTheSpecifiedShape() throws {
        let authority = CCAAuthority(seed: "shape")
        let bytes = try authority.token(sampleRealm())
        // 399({44234: bstr(d2 84 44 a1013822 a0 ...), 44241: ...})
        #expect(Hex.encode(bytes.prefix(7)) == "d9018fa219acca")
        let token = try CCAToken.verify(bytes, cpak: try authority.cpakPublicKey)
        #expect(Hex.encode(token.platform.encoded().prefix(8)) == "d28444a1013822a0")
        #expect(token.realm.protected == [0xA1, 0x01, 0x38, 0x22] && token.realm.signature.count == 96)
        // Realm claim order as TF-RMM writes it: 10, 44235, 44237, 44236, 44240, 265, 44238, 44239.
        guard case .map(let pairs) = try CBORDecoder.decode(token.realm.payload) else {
            Issue.record("not a map"); return
        }
        #expect(pairs.compactMap(\.key.intValue) == [10, 44235, 44237, 44236, 44240, 265, 44238, 44239])
        let rak = token.realmClaims.publicKey
        #expect(
            rak.count == 107 && Hex.encode(rak.prefix(8)) == "a401022002215830" && rak[56...58] == [0x22, 0x58, 0x30])
        #expect(token.platformClaims.challenge == Array(SHA256.hash(data: rak)))
        #expect(token.realmClaims.challenge == pattern(0xC0, 48) + pattern(0, 16))
        #expect(token.platformClaims.instanceID.count == 33 && token.platformClaims.instanceID[0] == 1)
        #expect(token.platformClaims.lifecycle == 0x3000)
        // COSE: the Sig_structure's bytes, as RFC 9052 §4.4 lays them out.
        let structure = COSESign1.sigStructure(protected: [0xA1, 0x01, 0x38, 0x22], payload: [0xA0])
        #expect(Hex.encode(structure) == "846a5369676e61747572653144a10138224041a0")
    }

    /// TF-RMM v0.9's CMW collection: 907({44234: [263, bstr], 44241: [263, bstr]}), same tokens inside.
    @Test func cmwCollection() throws {
        let authority = CCAAuthority(seed: "cmw")
        let bytes = try authority.token(sampleRealm(), format: .cmw)
        #expect(Hex.encode(bytes.prefix(12)) == "d9038ba219acca8219010759")
        let token = try CCAToken.verify(bytes, cpak: try authority.cpakPublicKey)
        #expect(token.format == .cmw)
        let legacy = try CCAToken.parse(try authority.token(sampleRealm()))
        #expect(legacy.format == .tag399 && legacy.realm == token.realm && legacy.platform == token.platform)
        #expect(throws: EvidenceError.self) {
            try CCAToken.parse(
                CBOR.tagged(907, .intMap([(44234, .array([.unsigned(262), .bytes([])])), (44241, .bytes([]))]))
                    .encoded())
        }
    }

    @Test func sameSeedSameKeysOtherSeedOthers() throws {
        #expect(try CCAAuthority(seed: "a").cpakPEM == CCAAuthority(seed: "a").cpakPEM)
        #expect(try CCAAuthority(seed: "a").cpakPEM != CCAAuthority(seed: "b").cpakPEM)
        #expect(CCAAuthority(seed: "a").rakCOSEKey != CCAAuthority(seed: "b").rakCOSEKey)
        #expect(try CCAAuthority().cpakPEM.hasPrefix("-----BEGIN PUBLIC KEY-----\n"))
    }

    /// Any byte of either payload flipped fails verification (a signature or the binding).
    @Test func everyPayloadByteIsCovered() throws {
        let authority = CCAAuthority(seed: "flip")
        let bytes = try authority.token(sampleRealm())
        let cpak = try authority.cpakPublicKey
        let token = try CCAToken.parse(bytes)
        for payload in [token.platform.payload, token.realm.payload] {
            let start = try #require(bytes.firstRange(of: payload)).lowerBound
            for offset in start..<start + payload.count {
                var flipped = bytes
                flipped[offset] ^= 0x01
                #expect(throws: EvidenceError.self, "offset \(offset)") { try CCAToken.verify(flipped, cpak: cpak) }
            }
        }
    }

    @Test func refusesMalformedTokens() throws {
        let authority = CCAAuthority(seed: "bad")
        var realm = sampleRealm()
        realm.rems.removeLast()
        let short = try authority.token(realm)
        #expect(throws: EvidenceError.malformed(structure: "realm claims", reason: "REMs (44239) is not an array of 4"))
        {
            try CCAToken.parse(short)
        }
        var wrong = sampleRealm()
        wrong.challenge = pattern(1, 32)
        #expect(throws: EvidenceError.self) { try authority.token(wrong) }
        #expect(throws: EvidenceError.self) { try CCAToken.parse(CBOR.tagged(907, .map([])).encoded()) }
        #expect(throws: EvidenceError.self) { try CCAToken.parse([UInt8](repeating: 0, count: CCAToken.maxSize + 1)) }
    }

    /// Mutated tokens never crash the parser, and whatever CBOR the decoder accepts re-encodes
    /// to a document that decodes to the same item.
    @Test func mutatedTokensNeverCrash() throws {
        var random = SeededGenerator(seed: 15)
        let token = try CCAAuthority(seed: "fuzz").token(sampleRealm())
        for _ in 0..<1500 {
            var bytes = token
            for _ in 0..<1 + random.below(4) {
                bytes[random.below(bytes.count)] = UInt8(truncatingIfNeeded: random.next())
            }
            _ = try? CCAToken.parse(bytes)
            if let item = try? CBORDecoder.decode(bytes) {
                #expect(try CBORDecoder.decode(item.encoded()) == item)
            }
        }
    }
}

/// A refusal by TSMCrypto's CBOR decoder reaches a token's reader as the EvidenceError of the
/// same case, with the message it had when the decoder lived in TSMEvidence.
@Suite struct CryptoErrorMappingTests {
    @Test func cborRefusalsReadAsBefore() {
        #expect(
            throws: EvidenceError.truncated(
                structure: "CCA token", field: "CBOR item", offset: 1, needed: 4, available: 3)
        ) {
            try CCAToken.parse([0x44, 0x01, 0x02, 0x03])
        }
        let error = EvidenceError(CryptoError.malformed(structure: "CBOR", reason: "more than 4096 data items"))
        #expect(error.description == "malformed CBOR: more than 4096 data items")
        #expect(EvidenceError(CryptoError.key(role: "ARK", reason: "x")).description == "ARK certificate: x")
    }
}
