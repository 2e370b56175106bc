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
        #expect(first.leafKey != second.leafKey)
        #expect(first.attestationPublicKey != second.attestationPublicKey)
        #expect(first.rootCertificateDER != second.rootCertificateDER)
    }

    /// A known answer: the default seed's root key never changes unnoticed (it is the trust anchor
    /// users save). Update deliberately, with a note in docs/DECISIONS.md, if the derivation changes.
    @Test func defaultSeedKeysAreStable() throws {
        let tdx = try Authorities.tdx.get()
        let root = try Certificate(derEncoded: tdx.rootCertificateDER)
        #expect(Hex.encode(root.publicKey.subjectPublicKeyInfoBytes).hasPrefix("04d523d553f730198d0acf650f9630c9"))
        #expect(Hex.encode(tdx.attestationPublicKey).hasPrefix("2ef1ea172cf9526e54c28bd586896567"))
    }

    @Test func tdxHierarchy() throws {
        let authority = try Authorities.tdx.get()
        let root = try Certificate(derEncoded: authority.rootCertificateDER)
        let intermediate = try Certificate(derEncoded: authority.intermediateCertificateDER)
        let leaf = try Certificate(derEncoded: authority.leafCertificateDER)
        let mock = ",OU=not Intel: tsmfs test authority,O=tsmfs mock,L=Santa Clara,ST=CA,C=US"
        #expect("\(root.subject)" == "CN=Intel SGX Root CA" + mock)
        #expect("\(intermediate.subject)" == "CN=Intel SGX PCK Platform CA" + mock)
        #expect("\(leaf.subject)" == "CN=Intel SGX PCK Certificate" + mock)
        #expect("\(try #require(authority.tcbSigning).subject)" == "CN=Intel SGX TCB Signing" + mock)
        #expect(authority.tcbSigning?.issuer == root.subject)
        #expect(root.issuer == root.subject)
        #expect(leaf.issuer == intermediate.subject)
        #expect(P256.Signing.PublicKey(leaf.publicKey) != nil)
        #expect(leaf.signatureAlgorithm == .ecdsaWithSHA256)
        #expect(authority.rootCertificatePEM.hasPrefix("-----BEGIN CERTIFICATE-----\n"))
        #expect(authority.snpAuxblob.isEmpty)
    }

    @Test func validityIsFixed() throws {
        let leaf = try Certificate(derEncoded: try Authorities.tdx.get().leafCertificateDER)
        #expect(leaf.notValidBefore.timeIntervalSince1970 == 1_735_689_600)
        #expect(leaf.notValidAfter.timeIntervalSince1970 == 2_524_608_000)
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
