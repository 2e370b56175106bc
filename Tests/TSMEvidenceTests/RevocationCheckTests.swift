import Crypto
import Foundation
@testable import TSMEvidence
import Testing

/// `tsmfs verify --crl`: the chain checked against the ARK's CRL as the KDS serves it (revoked
/// ASK or ASVK named, a CRL of another ARK or out of date refused), and the ID block keys in the
/// firmware's public key format.
@Suite struct RevocationCheckTests {
    let authority: SNPAuthority
    let now = Date()

    init() throws {
        authority = try Authorities.snp.get()
    }

    var verifier: EvidenceVerifier { EvidenceVerifier(trustAnchorDER: authority.rootCertificateDER) }

    @Test func anUnrevokingCRLIsAcceptedAndParsed() throws {
        let evidence = try authority.sign(try patternedReport(platform: authority.snpPlatform))
        let crl = try authority.crl(keyKind: "vcek", revoked: [], at: now)
        let parsed = try AMDRevocationList(der: crl)
        #expect(parsed.revokedSerials.isEmpty)
        #expect(parsed.issuer == (try AMDCertificate(der: authority.rootCertificateDER, role: "ARK")).subject)
        #expect(
            try verifier.verifySNPReport(evidence.report, auxblob: evidence.auxblob, crl: crl, at: now).version == 3)
    }

    @Test(arguments: [(SNPSigningKey.vcek, AMDRevocable.ask, "ASK"), (.vlek, .asvk, "ASVK")])
    func theRevokedIntermediateIsNamed(key: SNPSigningKey, revoked: AMDRevocable, role: String) throws {
        let evidence = try authority.sign(try patternedReport(platform: authority.snpPlatform), key: key)
        let crl = try authority.crl(keyKind: revoked.keyKind, revoked: [revoked], at: now)
        let serial = AMDCertificates.serial(seed: authority.seed, role: revoked.rawValue)
        #expect(try AMDRevocationList(der: crl).revokedSerials == [serial])
        let reason =
            "the \(role) (serial \(serial.dropFirst(2).map { String(format: "%02x", $0) }.joined())) "
            + "is revoked: the ARK's CRL lists it"
        #expect(throws: EvidenceError.failed(.revocation, reason: reason)) {
            try verifier.verifySNPReport(evidence.report, auxblob: evidence.auxblob, crl: crl, at: now)
        }
        // Without the CRL the same evidence verifies: only a verifier that checks it refuses.
        #expect(
            try verifier.verifySNPReport(evidence.report, auxblob: evidence.auxblob, at: now).signingKey == key.field)
    }

    @Test func anotherARKsOrAStaleOrBrokenCRLIsRefused() throws {
        let evidence = try authority.sign(try patternedReport(platform: authority.snpPlatform))
        // The ARK's name, another key's signature (the ASK's): every seed's ARK has the same published key.
        let foreign = try AMDCRL.make(
            arkKey: try RSAPSSSigner(pem: MockRSAKeys.askPEM, role: "ASK"), revoked: [], number: 1,
            thisUpdate: now.addingTimeInterval(-3600), nextUpdate: now.addingTimeInterval(86_400))
        #expect(throws: EvidenceError.failed(.revocation, reason: "the CRL is not signed by the ARK")) {
            try verifier.verifySNPReport(evidence.report, auxblob: evidence.auxblob, crl: foreign, at: now)
        }
        let crl = try authority.crl(keyKind: "vcek", revoked: [], at: now)
        let later = now.addingTimeInterval(31 * 86_400)
        #expect(throws: EvidenceError.self) {
            try verifier.verifySNPReport(evidence.report, auxblob: evidence.auxblob, crl: crl, at: later)
        }
        let earlier = now.addingTimeInterval(-3 * 3600)
        #expect(throws: EvidenceError.self) {
            try verifier.verifySNPReport(evidence.report, auxblob: evidence.auxblob, crl: crl, at: earlier)
        }
        var flipped = crl
        flipped[flipped.count - 10] ^= 1
        #expect(throws: EvidenceError.failed(.revocation, reason: "the CRL is not signed by the ARK")) {
            try verifier.verifySNPReport(evidence.report, auxblob: evidence.auxblob, crl: flipped, at: now)
        }
        #expect(throws: EvidenceError.malformed(structure: "CRL", reason: "not a DER X.509 CRL (bad DER)")) {
            try AMDRevocationList(der: Array(crl.prefix(100)))
        }
        #expect(throws: EvidenceError.self) { try AMDRevocationList(der: [UInt8](repeating: 0x30, count: 70_000)) }
    }

    @Test func everyTruncationAndByteFlipOfAnUnrevokingCRLIsRefused() throws {
        let evidence = try authority.sign(try patternedReport(platform: authority.snpPlatform))
        let crl = try authority.crl(keyKind: "vcek", revoked: [], at: now)
        for length in 0..<crl.count {
            #expect(throws: EvidenceError.self) {
                try verifier.verifySNPReport(evidence.report, auxblob: evidence.auxblob, crl: Array(crl.prefix(length)))
            }
        }
        // The CRL revokes nothing, so a flipped byte accepted would be a tampered CRL believed: each is
        // refused by the parser, the algorithm check or the ARK's signature.
        for index in crl.indices {
            var flipped = crl
            flipped[index] ^= 0x80
            #expect(throws: EvidenceError.self) {
                try verifier.verifySNPReport(evidence.report, auxblob: evidence.auxblob, crl: flipped, at: now)
            }
        }
    }

    @Test func idKeysAreInTheFirmwaresPublicKeyFormat() throws {
        let key = P384.Signing.PrivateKey().publicKey
        let sev = SNPIDKey.sevPublicKey(key)
        #expect(sev.count == 0x404)
        #expect(Array(sev[0..<4]) == [2, 0, 0, 0])
        let raw = Array(key.rawRepresentation)
        #expect(Array(sev[4..<52]) == Array(raw[0..<48].reversed()))
        #expect(sev[52..<76].allSatisfy { $0 == 0 })
        #expect(Array(sev[0x4C..<(0x4C + 48)]) == Array(raw[48..<96].reversed()))
        #expect(sev[(0x4C + 48)...].allSatisfy { $0 == 0 })
        #expect(SNPIDKey.digest(key) == Array(SHA384.hash(data: sev)))
        #expect(SNPIDKey.publicKey(pem: key.pemRepresentation)?.rawRepresentation == key.rawRepresentation)
        let privateKey = P384.Signing.PrivateKey()
        #expect(
            SNPIDKey.publicKey(pem: privateKey.pemRepresentation)?.rawRepresentation
                == privateKey.publicKey.rawRepresentation)
        #expect(SNPIDKey.publicKey(pem: P256.Signing.PrivateKey().pemRepresentation) == nil)
        let mock = { (seed: String) in try SNPIDKey.digest(SNPIDKey.mockIDKey(seed: seed)) }
        #expect(try mock("a") == mock("a"))
        #expect(try mock("a") != mock("b"))
    }
}
