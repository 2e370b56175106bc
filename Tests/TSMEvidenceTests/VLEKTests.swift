import SwiftASN1
@testable import TSMEvidence
import Testing

/// A VLEK-signed report (`--signing-key vlek`): SIGNING_KEY 1, CHIP_ID zero, the table's VLEK
/// issued by the ASVK (in the ASK entry) under the ARK, the VLEK carrying CSP_ID and no hwID;
/// our verifier accepts it and names the ASVK when the chain is wrong.
@Suite struct VLEKTests {
    let authority: SNPAuthority
    let evidence: SNPEvidence

    init() throws {
        authority = try Authorities.snp.get()
        evidence = try authority.sign(try patternedReport(platform: authority.snpPlatform), key: .vlek)
    }

    @Test func reportAndTableAreAMDsVLEKLayout() throws {
        let report = try SNPReport.parse(evidence.report)
        #expect(report.signingKey == 1)
        #expect((report.signerInfo >> 2) & 7 == SNPSigningKey.vlek.field)
        #expect(report.chipID == [UInt8](repeating: 0, count: 64))
        let table = try SNPCertificateTable.parse(evidence.auxblob)
        #expect(table.entries.map(\.guid) == [.vlek, .ask, .ark])
        #expect(table.certificate(.vcek) == nil)
        #expect(table.certificate(.ask) == authority.asvkCertificateDER)
        let vlek = try AMDCertificate(der: try #require(table.certificate(.vlek)), role: "VLEK")
        let asvk = try AMDCertificate(der: authority.asvkCertificateDER, role: "ASVK")
        #expect(vlek.subject == AMDCertificates.name("SEV-VLEK"))
        #expect(vlek.issuer == AMDCertificates.name("SEV-VLEK-Milan"))
        #expect(asvk.subject == vlek.issuer)
        #expect(asvk.issuer == AMDCertificates.name("ARK-Milan"))
        #expect(asvk.isCertificateAuthority)
        #expect(vlek.extensionValue(VCEKExtension.hwID) == nil)
        let cspID = try #require(vlek.extensionValue(VCEKExtension.cspID))
        #expect(String(try ASN1IA5String(derEncoded: cspID)) == AMDCertificates.mockCSPID)
        #expect(vlek.extensionValue(VCEKExtension.snpSPL) == [0x02, 0x01, authority.snpPlatform.tcb.snp])
    }

    @Test func verifierAcceptsItAndTheOtherTCBsVLEK() throws {
        let verifier = EvidenceVerifier(trustAnchorDER: authority.rootCertificateDER)
        #expect(try verifier.verifySNPReport(evidence.report, auxblob: evidence.auxblob).signingKey == 1)
        var report = try patternedReport(platform: authority.snpPlatform)
        report.reportedTCB = SNPTCB(bootloader: 3, tee: 0, snp: 8, microcode: 115)
        let old = try authority.sign(report, key: .vlek)
        #expect(try verifier.verifySNPReport(old.report, auxblob: old.auxblob).reportedTCB == report.reportedTCB)
    }

    @Test func theASKInsteadOfTheASVKIsNamed() throws {
        let table = try SNPCertificateTable.parse(evidence.auxblob)
        let wrong = try SNPCertificateTable(entries: [
            (.vlek, try #require(table.certificate(.vlek))), (.ask, authority.intermediateCertificateDER),
            (.ark, authority.rootCertificateDER),
        ]).encoded()
        let verifier = EvidenceVerifier(trustAnchorDER: authority.rootCertificateDER)
        #expect(throws: EvidenceError.failed(.vcekChain, reason: "the VLEK's issuer is not the ASVK's subject")) {
            try verifier.verifySNPReport(evidence.report, auxblob: wrong)
        }
        // A VCEK-signed report whose table has a VLEK but no VCEK.
        let vcekSigned = try authority.sign(try patternedReport(platform: authority.snpPlatform))
        #expect(throws: EvidenceError.self) {
            try verifier.verifySNPReport(vcekSigned.report, auxblob: evidence.auxblob)
        }
    }

    @Test func kdsServesTheASVKChain() {
        let response = MockKDS(authority: authority).get("/vlek/v1/Milan/cert_chain")
        #expect(response.status == 200)
        #expect(
            String(decoding: response.body, as: UTF8.self) == authority.asvkCertificatePEM
                + authority.rootCertificatePEM)
        #expect(MockKDS(authority: authority).get("/vlek/v1/Genoa/cert_chain").status == 404)
    }
}
