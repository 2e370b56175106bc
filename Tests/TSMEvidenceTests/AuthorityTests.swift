import Crypto
import SwiftASN1
import TSMBytes
@testable import TSMEvidence
import Testing
import X509

@Suite struct AuthorityTests {
    @Test func sameSeedGivesByteIdenticalCertificates() throws {
        let (first, second) = (try TDXAuthority(seed: "alpha"), try TDXAuthority(seed: "alpha"))
        #expect(first.rootCertificatePEM == second.rootCertificatePEM)
        #expect(first.certificateChainPEM == second.certificateChainPEM)
        #expect(first.attestationPublicKey == second.attestationPublicKey)
        let (snp, again) = (try SNPAuthority(seed: "alpha"), try SNPAuthority(seed: "alpha"))
        #expect(snp.rootCertificatePEM == again.rootCertificatePEM)
        #expect(snp.certificateChainPEM == again.certificateChainPEM)
        #expect(snp.snpAuxblob == again.snpAuxblob)
    }

    @Test func differentSeedsGiveDifferentKeys() throws {
        let (first, second) = (try TDXAuthority(seed: "alpha"), try TDXAuthority(seed: "beta"))
        #expect(first.leafKey != second.leafKey)
        #expect(first.attestationPublicKey != second.attestationPublicKey)
        #expect(first.rootCertificateDER != second.rootCertificateDER)
        let (snp, other) = (try SNPAuthority(seed: "alpha"), try SNPAuthority(seed: "beta"))
        #expect(snp.leafKey != other.leafKey)
        #expect(snp.leafCertificateDER != other.leafCertificateDER)
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
        #expect("\(authority.tcbSigning.subject)" == "CN=Intel SGX TCB Signing" + mock)
        #expect(authority.tcbSigning.issuer == root.subject)
        #expect(root.issuer == root.subject)
        #expect(leaf.issuer == intermediate.subject)
        #expect(P256.Signing.PublicKey(leaf.publicKey) != nil)
        #expect(leaf.signatureAlgorithm == .ecdsaWithSHA256)
        #expect(authority.rootCertificatePEM.hasPrefix("-----BEGIN CERTIFICATE-----\n"))
    }

    @Test func validityIsFixed() throws {
        let leaf = try Certificate(derEncoded: try Authorities.tdx.get().leafCertificateDER)
        #expect(leaf.notValidBefore.timeIntervalSince1970 == 1_735_689_600)
        #expect(leaf.notValidAfter.timeIntervalSince1970 == 2_524_608_000)
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
