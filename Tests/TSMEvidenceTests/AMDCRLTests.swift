import Foundation
import SwiftASN1
import TSMBytes
@testable import TSMEvidence
import Testing

/// The KDS CRLs (`/vcek/v1/Milan/crl`, `/vlek/v1/Milan/crl`): DER X.509 CRLs issued and signed by
/// the ARK with RSASSA-PSS SHA-384, listing the ASK or ASVK when `--revoke` names it; checked by
/// python `cryptography` (check_amd_crl.py) and by our own PSS check.
@Suite struct AMDCRLTests {
    let authority: SNPAuthority

    init() throws {
        authority = try Authorities.snp.get()
    }

    /// The serial of `role`'s certificate, as python prints it (hex of the INTEGER's value).
    /// (AMDCertificates.serial is a DER INTEGER of 16 bytes whose first is 0x40-0x7f.)
    func serialHex(_ role: String) -> String {
        Hex.encode(Array(AMDCertificates.serial(seed: authority.seed, role: role).dropFirst(2)))
    }

    @Test func arkSignsItWithPSSAndItListsNothingByDefault() throws {
        let response = MockKDS(authority: authority).get("/vcek/v1/Milan/crl")
        #expect(response.status == 200)
        #expect(response.contentType == "application/pkix-crl")
        guard case .constructed(let parts) = try DER.parse(response.body).content else {
            Issue.record("not a SEQUENCE")
            return
        }
        let nodes = Array(parts)
        #expect(nodes.count == 3)
        #expect(Array(nodes[1].encodedBytes) == AMDCertificates.pssWithTrailer)
        #expect(try ASN1BitString(derEncoded: nodes[2].encodedBytes).bytes.count == 512)
        if PythonVerifier.available {
            #expect(try check(response.body) == [])
        }
    }

    @Test(arguments: [(AMDRevocable.ask, "vcek"), (AMDRevocable.asvk, "vlek")])
    func revokedIntermediateIsListed(revoked: AMDRevocable, keyKind: String) throws {
        try #require(PythonVerifier.available, "needs python cryptography")
        let kds = MockKDS(authority: authority, revoked: [revoked])
        #expect(try check(kds.get("/\(keyKind)/v1/Milan/crl").body) == [serialHex(revoked.rawValue)])
        // The other hierarchy's CRL does not list it.
        let other = keyKind == "vcek" ? "vlek" : "vcek"
        #expect(try check(kds.get("/\(other)/v1/Milan/crl").body) == [])
        #expect(kds.get("/vcek/v1/Genoa/crl").status == 404)
    }

    @Test func aCorruptedCRLIsRefused() throws {
        try #require(PythonVerifier.available, "needs python cryptography")
        var crl = MockKDS(authority: authority, revoked: [.ask]).get("/vcek/v1/Milan/crl").body
        crl[crl.count - 600] ^= 0x01  // a byte of the revoked entries or extensions, signed
        let directory = try PythonVerifier.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let crlFile = try PythonVerifier.write(crl, "crl.der", in: directory)
        let ark = try PythonVerifier.write(Array(authority.rootCertificatePEM.utf8), "ark.pem", in: directory)
        #expect(try PythonVerifier.execute([PythonVerifier.crlScript, crlFile, ark]) == 1)
        let other = try PythonVerifier.write(
            Array(try SNPAuthority(seed: "other").rootCertificatePEM.utf8), "other.pem", in: directory)
        let good = try PythonVerifier.write(
            MockKDS(authority: authority).get("/vcek/v1/Milan/crl").body, "good.der", in: directory)
        #expect(try PythonVerifier.execute([PythonVerifier.crlScript, good, ark]) == 0)
        // Another seed's ARK has the same name and key (the keys are shared) but another serial:
        // the signature still verifies, as a CRL names no ARK serial; only the name and key matter.
        #expect(try PythonVerifier.execute([PythonVerifier.crlScript, good, other]) == 0)
    }

    /// check_amd_crl.py's revoked serials; a failed check records its exit status.
    func check(_ crl: [UInt8]) throws -> [String] {
        let directory = try PythonVerifier.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let crlFile = try PythonVerifier.write(crl, "crl.der", in: directory)
        let ark = try PythonVerifier.write(Array(authority.rootCertificatePEM.utf8), "ark.pem", in: directory)
        let output = directory.appendingPathComponent("out").path
        let status = try PythonVerifier.execute([PythonVerifier.crlScript, crlFile, ark, output])
        #expect(status == 0)
        return try String(contentsOfFile: output, encoding: .utf8).split(separator: "\n").map(String.init)
    }
}
