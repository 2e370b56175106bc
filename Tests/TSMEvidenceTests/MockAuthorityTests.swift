import Crypto
import SwiftASN1
import TSMBytes
@testable import TSMEvidence
import Testing
import X509

@Suite struct MockAuthorityTests {
    @Test(arguments: [Guest.tdx, .sevSNP])
    func sameSeedGivesByteIdenticalCertificates(guest: Guest) throws {
        let first = try MockAuthority(guest: guest, seed: "alpha")
        let second = try MockAuthority(guest: guest, seed: "alpha")
        #expect(first.rootCertificatePEM == second.rootCertificatePEM)
        #expect(first.certificateChainPEM == second.certificateChainPEM)
        #expect(first.attestationPublicKey == second.attestationPublicKey)
        #expect(first.snpAuxblob == second.snpAuxblob)
    }

    @Test(arguments: [Guest.tdx, .sevSNP])
    func differentSeedsGiveDifferentKeys(guest: Guest) throws {
        let first = try MockAuthority(guest: guest, seed: "alpha")
        let second = try MockAuthority(guest: guest, seed: "beta")
        #expect(first.root.publicKey != second.root.publicKey)
        #expect(first.leaf.publicKey != second.leaf.publicKey)
        #expect(first.attestationPublicKey != second.attestationPublicKey)
        #expect(first.rootCertificateDER != second.rootCertificateDER)
    }

    /// A known answer: the default seed's root key never changes unnoticed (it is the trust anchor
    /// users save). Update deliberately, with a note in docs/DECISIONS.md, if the derivation changes.
    @Test func defaultSeedKeysAreStable() throws {
        let tdx = try Authorities.tdx.get()
        #expect(Hex.encode(tdx.root.publicKey.subjectPublicKeyInfoBytes).hasPrefix("04d523d553f730198d0acf650f9630c9"))
        #expect(Hex.encode(tdx.attestationPublicKey).hasPrefix("2ef1ea172cf9526e54c28bd586896567"))
    }

    @Test func tdxHierarchy() throws {
        let authority = try Authorities.tdx.get()
        #expect("\(authority.root.subject)" == "CN=tsmfs mock SGX root CA,O=tsmfs mock")
        #expect("\(authority.intermediate.subject)" == "CN=tsmfs mock PCK platform CA,O=tsmfs mock")
        #expect("\(authority.leaf.subject)" == "CN=tsmfs mock SGX PCK certificate,O=tsmfs mock")
        #expect(authority.root.issuer == authority.root.subject)
        #expect(authority.leaf.issuer == authority.intermediate.subject)
        #expect(P256.Signing.PublicKey(authority.leaf.publicKey) != nil)
        #expect(authority.leaf.signatureAlgorithm == .ecdsaWithSHA256)
        #expect(authority.rootCertificatePEM.hasPrefix("-----BEGIN CERTIFICATE-----\n"))
        #expect(authority.snpAuxblob.isEmpty)
    }

    @Test func snpHierarchy() throws {
        let authority = try Authorities.snp.get()
        #expect("\(authority.root.subject)" == "CN=tsmfs mock ARK,O=tsmfs mock")
        #expect("\(authority.intermediate.subject)" == "CN=tsmfs mock ASK,O=tsmfs mock")
        #expect("\(authority.leaf.subject)" == "CN=tsmfs mock VCEK,O=tsmfs mock")
        for certificate in [authority.root, authority.intermediate, authority.leaf] {
            #expect(P384.Signing.PublicKey(certificate.publicKey) != nil)
            #expect(certificate.signatureAlgorithm == .ecdsaWithSHA384)
        }
        let hwID = try #require(authority.leaf.extensions[oid: [1, 3, 6, 1, 4, 1, 3704, 1, 4]])
        #expect(Array(try ASN1OctetString(derEncoded: hwID.value).bytes) == authority.snpPlatform.chipID)
    }

    @Test func validityIsFixed() throws {
        let authority = try Authorities.tdx.get()
        #expect(authority.leaf.notValidBefore.timeIntervalSince1970 == 1_735_689_600)
        #expect(authority.leaf.notValidAfter.timeIntervalSince1970 == 2_524_608_000)
    }

    @Test func eachAuthorityMakesOnlyItsGuestsEvidence() throws {
        let tdx = try Authorities.tdx.get()
        let snp = try Authorities.snp.get()
        #expect(throws: EvidenceError.wrongGuest(expected: .sevSNP, actual: .tdx)) { try tdx.sign(SNPReport()) }
        #expect(throws: EvidenceError.wrongGuest(expected: .tdx, actual: .sevSNP)) { try snp.quote(try patternedBody()) }
    }

    @Test func keysAreValidForAnySeed() {
        for seed in ["", "x", String(repeating: "long seed ", count: 100), "ünïcödé"] {
            for curve in [ECCurve.p256, .p384] {
                let key = MockKey(seed: seed, label: "label", curve: curve)
                #expect(key.publicKeyRaw.count == 2 * curve.scalarSize)
            }
        }
    }
}
