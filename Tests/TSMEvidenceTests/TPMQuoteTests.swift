import FoundationEssentials
import TSMBytes
@testable import TSMEvidence
import Testing

/// TPM quotes made by swtpm through tpm2-tools (Fixtures/README.md): our TPMT_PUBLIC,
/// TPMS_ATTEST and TPMT_SIGNATURE readers and `TPMQuoteCheck` accept them, and refuse each with the
/// check that a changed signature, nonce or PCR value breaks.
@Suite struct TPMQuoteTests {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent(
        "Fixtures")
    static let nonce = Array("tsmfs fixture nonce".utf8)
    static let pcrs: [UInt16: [Int: [UInt8]]] = [
        TPMAlgorithmID.sha256: [
            0: pattern(0, 32), 1: pattern(0, 32),
            10: Hex.decode("12db50484c569ef2d5446a9790ee2be42a913d1c755cde998469926762f54066") ?? [],
        ]
    ]

    static func fixture(_ name: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: directory.appendingPathComponent(name)))
    }

    @Test(arguments: ["rsa", "ecc"]) func acceptsARealQuote(_ kind: String) throws {
        let key = try TPMPublic(parsing: try Self.fixture("tpm-quote-\(kind).ak-tpmt-public"))
        #expect(key.attributes & TPMPublic.restricted != 0)
        #expect(key.attributes & TPMPublic.sign != 0)
        let quote = try TPMQuoteCheck.verify(
            quote: try Self.fixture("tpm-quote-\(kind).msg"), signature: try Self.fixture("tpm-quote-\(kind).sig"),
            key: key, nonce: Self.nonce, pcrs: Self.pcrs)
        // qualifiedSigner is the AK's Qualified Name (its parents' too), not its Name: same algorithm.
        #expect(quote.qualifiedSigner.prefix(2) == key.name?.prefix(2))
        #expect(quote.selections == [TPMQuote.Selection(hash: TPMAlgorithmID.sha256, indices: [0, 1, 10])])
        let signature = try TPMSignature(parsing: try Self.fixture("tpm-quote-\(kind).sig"))
        #expect(signature.encoded == (try Self.fixture("tpm-quote-\(kind).sig")))
    }

    @Test(arguments: ["rsa", "ecc"]) func refusesEachChange(_ kind: String) throws {
        let key = try TPMPublic(parsing: try Self.fixture("tpm-quote-\(kind).ak-tpmt-public"))
        let message = try Self.fixture("tpm-quote-\(kind).msg")
        let signature = try Self.fixture("tpm-quote-\(kind).sig")
        let original = message
        func check(
            message: [UInt8]? = nil, signature changed: [UInt8]? = nil, key other: TPMPublic? = nil,
            nonce: [UInt8] = Self.nonce, pcrs: [UInt16: [Int: [UInt8]]] = Self.pcrs
        ) -> VerificationCheck? {
            do throws(EvidenceError) {
                _ = try TPMQuoteCheck.verify(
                    quote: message ?? original, signature: changed ?? signature, key: other ?? key,
                    nonce: nonce, pcrs: pcrs)
                return nil
            } catch {
                return error.check
            }
        }
        var flipped = message
        flipped[flipped.count - 1] ^= 1
        #expect(check(message: flipped) == .tpmQuoteSignature)
        var badSignature = signature
        badSignature[badSignature.count - 1] ^= 1
        #expect(check(signature: badSignature) == .tpmQuoteSignature)
        let otherKind = kind == "rsa" ? "ecc" : "rsa"
        let other = try TPMPublic(parsing: try Self.fixture("tpm-quote-\(otherKind).ak-tpmt-public"))
        #expect(check(key: other) == .tpmQuoteSignature)
        #expect(check(nonce: Array("another nonce".utf8)) == .tpmQuoteNonce)
        var pcrs = Self.pcrs
        pcrs[TPMAlgorithmID.sha256]?[10] = pattern(1, 32)
        #expect(check(pcrs: pcrs) == .tpmPCRDigest)
        pcrs[TPMAlgorithmID.sha256]?[10] = nil
        #expect(check(pcrs: pcrs) == .tpmPCRDigest)
    }

    @Test func refusesWhatIsNotAQuoteOrAKey() throws {
        var message = try Self.fixture("tpm-quote-rsa.msg")
        message[5] = 0x17  // TPM_ST_ATTEST_CERTIFY
        #expect(throws: EvidenceError.self) { try TPMQuote(parsing: message) }
        #expect(throws: EvidenceError.self) { try TPMQuote(parsing: Array(message.prefix(40))) }
        var key = try Self.fixture("tpm-quote-rsa.ak-tpmt-public")
        key.append(0)
        #expect(throws: EvidenceError.self) { try TPMPublic(parsing: key) }
        #expect(throws: EvidenceError.self) { try TPMSignature(parsing: [0x00, 0x14, 0x00]) }
    }
}

/// The AK templates are go-tpm-tools' (client/template.go), byte for byte as go-tpm encodes them.
@Suite struct TPMTemplateTests {
    @Test func rsaTemplateIsGoTPMToolsAKTemplateRSA() throws {
        #expect(
            Hex.encode(TPMTemplates.attestationKeyRSA)
                == "0001000b00050072000000100014000b0800000000000000")
        let template = try TPMPublic(parsing: TPMTemplates.attestationKeyRSA)
        #expect(template.scheme == TPMAlgorithmID.rsassa)
        #expect(template.schemeHash == TPMAlgorithmID.sha256)
        #expect(template.key == .rsa(modulus: [], exponent: 65537))
    }

    @Test func eccTemplateIsGoTPMToolsAKTemplateECC() throws {
        let template = try TPMPublic(parsing: TPMTemplates.attestationKeyECC)
        #expect(template.scheme == TPMAlgorithmID.ecdsa)
        #expect(template.attributes == 0x0005_0072)
        #expect(template.key == .ecc(curve: TPMAlgorithmID.nistP256, x: pattern(0, 32), y: pattern(0, 32)))
        #expect(
            Hex.encode(TPMTemplates.attestationKeyECC.prefix(22))
                == "0023000b00050072000000100018000b000300100020")
    }
}
