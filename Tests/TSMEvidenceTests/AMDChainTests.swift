import _CryptoExtras
import Crypto
import SwiftASN1
import TSMBytes
@testable import TSMEvidence
import Testing

/// The mock SEV-SNP chain has AMD's shape: RSA-4096 ARK and ASK, RSASSA-PSS SHA-384 everywhere,
/// AMD's names and extensions, a VCEK whose hwID and SPLs are the report's; it is deterministic,
/// and the verifier refuses a change to any byte of what is signed.
@Suite struct AMDChainTests {
    let authority: SNPAuthority
    let evidence: SNPEvidence

    init() throws {
        authority = try Authorities.snp.get()
        evidence = try authority.sign(try patternedReport(platform: authority.snpPlatform))
    }

    func certificates() throws -> (ark: AMDCertificate, ask: AMDCertificate, vcek: AMDCertificate) {
        (
            try AMDCertificate(der: authority.rootCertificateDER, role: "ARK"),
            try AMDCertificate(der: authority.intermediateCertificateDER, role: "ASK"),
            try AMDCertificate(der: authority.leafCertificateDER, role: "VCEK")
        )
    }

    @Test func namesAndAlgorithmsAreAMDs() throws {
        let (ark, ask, vcek) = try certificates()
        #expect(ark.subject == AMDCertificates.name("ARK-Milan"))
        #expect(ark.issuer == ark.subject)
        #expect(ask.subject == AMDCertificates.name("SEV-Milan"))
        #expect(ask.issuer == ark.subject)
        #expect(vcek.subject == AMDCertificates.name("SEV-VCEK"))
        #expect(vcek.issuer == ask.subject)
        // The ARK's Name as AMD's ARK-Milan has it (research: openssl asn1parse of AMD's ark.pem).
        #expect(
            Hex.encode(ark.subject)
                == "307b31143012060355040b0c0b456e67696e656572696e67310b30090603550406130255533114301206035504070c0b"
                + "53616e746120436c617261310b300906035504080c024341311f301d060355040a0c16416476616e636564204d696372"
                + "6f20446576696365733112301006035504030c0941524b2d4d696c616e"
        )
        #expect(
            Hex.encode(AMDCertificates.pssWithTrailer)
                == """
                304606092a864886f70d01010a3039a00f300d06096086480165030402020500a11c301a06092a864886f70d010108300d0609\
                6086480165030402020500a203020130a303020101
                """
        )
        for certificate in [ark, ask] {
            #expect(certificate.signatureAlgorithm == AMDCertificates.pssWithTrailer)
            let key = try _RSA.Signing.PublicKey(derRepresentation: certificate.subjectPublicKeyInfo)
            #expect(key.keySizeInBits == 4096)
            #expect(certificate.isCertificateAuthority)
        }
        #expect(vcek.signatureAlgorithm == AMDCertificates.pssWithoutTrailer)
        #expect(try P384.Signing.PublicKey(derRepresentation: vcek.subjectPublicKeyInfo).rawRepresentation.count == 96)
    }

    @Test func vcekExtensionsAreAMDsAndTheReports() throws {
        let vcek = try certificates().vcek
        let arcs = vcek.extensions.map { $0.oid.description }
        let prefix = "1.3.6.1.4.1.3704.1."
        #expect(arcs == ["1", "2", "3.1", "3.2", "3.4", "3.5", "3.6", "3.7", "3.3", "3.8", "4"].map { prefix + $0 })
        #expect(vcek.extensions.allSatisfy { !$0.critical })
        #expect(vcek.extensionValue(VCEKExtension.structVersion) == [0x02, 0x01, 0x00])
        #expect(vcek.extensionValue(VCEKExtension.productName) == [0x16, 0x08] + Array("Milan-B0".utf8))
        #expect(vcek.extensionValue(VCEKExtension.bootloaderSPL) == [0x02, 0x01, 4])
        #expect(vcek.extensionValue(VCEKExtension.snpSPL) == [0x02, 0x01, 22])
        #expect(vcek.extensionValue(VCEKExtension.microcodeSPL) == [0x02, 0x02, 0x00, 213])
        // hwID is the raw 64 CHIP_ID bytes, no DER tag, as in every real VCEK.
        #expect(vcek.extensionValue(VCEKExtension.hwID) == authority.snpPlatform.chipID)
        #expect(Array(evidence.report[0x1A0..<0x1E0]) == authority.snpPlatform.chipID)
    }

    @Test func chipIDNeverStartsLikeDER() {
        for seed in (0..<600).map({ "seed \($0)" }) {
            let first = SNPPlatform.mock(seed: seed).chipID[0]
            #expect(first != 0x02 && first != 0x04, "\(seed)")
        }
    }

    @Test func sameSeedGivesTheSameARKPin() throws {
        let again = try SNPAuthority()
        #expect(again.rootCertificateDER == authority.rootCertificateDER)
        #expect(again.snpAuxblob == authority.snpAuxblob)
        let other = try SNPAuthority(seed: "other")
        #expect(other.rootCertificateDER != authority.rootCertificateDER)
        #expect(other.leafKey != authority.leafKey)
    }

    @Test func pssSignaturesVerifyWithSwiftCrypto() throws {
        let (ark, ask, vcek) = try certificates()
        let arkKey = try _RSA.Signing.PublicKey(derRepresentation: ark.subjectPublicKeyInfo)
        let askKey = try _RSA.Signing.PublicKey(derRepresentation: ask.subjectPublicKeyInfo)
        for (certificate, key) in [(ark, arkKey), (ask, arkKey), (vcek, askKey)] {
            #expect(RSAPSSSigner.isValid(signature: certificate.signature, of: certificate.tbs, by: key))
        }
        #expect(!RSAPSSSigner.isValid(signature: vcek.signature, of: vcek.tbs, by: arkKey))
    }

    @Test func kdsStyleVCEKsNameTheirTCB() throws {
        let tcb = SNPTCB(bootloader: 3, tee: 0, snp: 8, microcode: 115)
        let vcek = try AMDCertificate(der: try authority.vcekCertificate(tcb: tcb), role: "VCEK")
        #expect(vcek.extensionValue(VCEKExtension.snpSPL) == [0x02, 0x01, 8])
        #expect(vcek.extensionValue(VCEKExtension.microcodeSPL) == [0x02, 0x01, 115])
        #expect(try authority.vcekCertificate(tcb: authority.snpPlatform.tcb) == authority.leafCertificateDER)
    }

    /// Acceptance: flipping any one bit of any byte of the signed part (0..<0x2A0) is refused.
    @Test func everySignedByteIsProtected() {
        let verifier = EvidenceVerifier(trustAnchorDER: authority.rootCertificateDER)
        for offset in SNPReport.signedRange {
            var corrupted = evidence.report
            corrupted[offset] ^= 0x01
            #expect(throws: EvidenceError.self, "offset \(offset)") {
                try verifier.verifySNPReport(corrupted, auxblob: evidence.auxblob)
            }
        }
    }

    /// Every 3rd byte of the certificate table (header and the three certificates) is protected too.
    @Test func certificateTableBytesAreProtected() {
        let verifier = EvidenceVerifier(trustAnchorDER: authority.rootCertificateDER)
        for offset in stride(from: 0, to: evidence.auxblob.count, by: 3) {
            var corrupted = evidence.auxblob
            corrupted[offset] ^= 0x01
            #expect(throws: EvidenceError.self, "offset \(offset)") {
                try verifier.verifySNPReport(evidence.report, auxblob: corrupted)
            }
        }
    }

    @Test func reportedTCBOtherThanTheVCEKsFails() throws {
        var report = try patternedReport(platform: authority.snpPlatform)
        report.reportedTCB = SNPTCB(bootloader: 4, tee: 0, snp: 21, microcode: 213)
        let signed = try authority.sign(report)
        // `sign` puts the VCEK for REPORTED_TCB in its table; the platform's table has the other one.
        #expect(throws: EvidenceError.failed(.vcekBinding, reason: "REPORTED_TCB's SNP SPL 21 is not the VCEK's")) {
            try EvidenceVerifier(trustAnchorDER: authority.rootCertificateDER).verifySNPReport(
                signed.report, auxblob: authority.snpAuxblob)
        }
        #expect(signed.auxblob != authority.snpAuxblob)
        _ = try EvidenceVerifier(trustAnchorDER: authority.rootCertificateDER).verifySNPReport(
            signed.report, auxblob: signed.auxblob)
    }

    /// Every truncation of each certificate, and an oversized one, is refused with an error.
    @Test func truncatedCertificatesAreRefused() {
        for der in [authority.rootCertificateDER, authority.intermediateCertificateDER, authority.leafCertificateDER] {
            for length in 0..<der.count {
                #expect(throws: EvidenceError.self, "\(length) bytes") {
                    try AMDCertificate(der: Array(der.prefix(length)), role: "x")
                }
            }
        }
        #expect(throws: EvidenceError.self) {
            try AMDCertificate(
                der: authority.leafCertificateDER + [UInt8](repeating: 0, count: AMDCertificate.maximumSize), role: "x")
        }
    }

    @Test func arkPEMIsATrustAnchor() throws {
        let verifier = try EvidenceVerifier(trustAnchorPEM: authority.rootCertificatePEM)
        #expect(verifier.anchorDER == authority.rootCertificateDER)
        _ = try verifier.verifySNPReport(evidence.report, auxblob: evidence.auxblob)
    }
}
