import TSMBytes
@testable import TSMEvidence
import Testing

/// The mock KDS serves the same VCEK and chain as the report's auxblob, at the URLs snpguest and
/// go-sev-guest build, and refuses other chips, products and malformed parameters.
@Suite struct MockKDSTests {
    let authority: SNPAuthority
    let kds: MockKDS

    init() throws {
        authority = try Authorities.snp.get()
        kds = MockKDS(authority: authority)
    }

    @Test func vcekAtTheReportsTCBIsTheAuxblobs() throws {
        let response = kds.get(kds.vcekPath)
        #expect(response.status == 200)
        #expect(response.contentType == "application/pkix-cert")
        #expect(response.body == authority.leafCertificateDER)
        #expect(try SNPCertificateTable.parse(authority.snpAuxblob).certificate(.vcek) == response.body)
        // snpguest zero-pads the SPLs to two digits and may send an uppercase hwid.
        let tcb = authority.snpPlatform.tcb
        let padded =
            "/vcek/v1/Milan/\(Hex.encode(authority.snpPlatform.chipID).uppercased())"
            + "?blSPL=0\(tcb.bootloader)&teeSPL=00&snpSPL=\(tcb.snp)&ucodeSPL=\(tcb.microcode)"
        #expect(kds.get(padded).body == authority.leafCertificateDER)
    }

    @Test func otherTCBGivesAVCEKNamingIt() throws {
        let response = kds.get(
            "/vcek/v1/Milan/\(Hex.encode(authority.snpPlatform.chipID))?blSPL=3&snpSPL=8&ucodeSPL=115")
        #expect(response.status == 200)
        let vcek = try AMDCertificate(der: response.body, role: "VCEK")
        #expect(vcek.extensionValue(VCEKExtension.bootloaderSPL) == [0x02, 0x01, 3])
        #expect(vcek.extensionValue(VCEKExtension.teeSPL) == [0x02, 0x01, 0])
        #expect(vcek.issuer == AMDCertificates.name("SEV-Milan"))
    }

    @Test func certChainIsASKThenARK() {
        let response = kds.get("/vcek/v1/Milan/cert_chain")
        #expect(response.status == 200)
        #expect(
            String(decoding: response.body, as: UTF8.self) == authority.intermediateCertificatePEM
                + authority.rootCertificatePEM)
    }

    @Test(arguments: [
        ("/vcek/v1/Milan/" + String(repeating: "ab", count: 64), 404),
        ("/vcek/v1/Genoa/cert_chain", 404),
        ("/vlek/v1/Milan/" + String(repeating: "ab", count: 64), 404),
        ("/vcek/v1/Milan", 404),
        ("/vcek/v1/Milan/zz", 400),
        ("/" + String(repeating: "a", count: 2000), 414),
    ])
    func refusals(target: String, status: Int) {
        #expect(kds.get(target).status == status)
    }

    @Test func badSPLsAre400() {
        let base = "/vcek/v1/Milan/\(Hex.encode(authority.snpPlatform.chipID))?"
        for query in ["blSPL=256", "blSPL=x", "fooSPL=1", "blSPL", "snpSPL=0001"] {
            #expect(kds.get(base + query).status == 400, "\(query)")
        }
    }
}
