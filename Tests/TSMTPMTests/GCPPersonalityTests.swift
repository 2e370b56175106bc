import TSMBytes
import TSMEvidence
import TSMTPM
import TestSupport
import Testing
import X509

/// TPM2_CreatePrimary of `template` in the endorsement hierarchy, as go-tpm-tools'
/// `KeyFromNvIndex` does: the key's TPMT_PUBLIC (the object flushed).
func createPrimaryInEndorsement(_ tpm: VirtualTPM, template: [UInt8]) throws -> [UInt8] {
    var parameters = ByteWriter()
    parameters.append([0, 4, 0, 0, 0, 0])
    parameters.sized16(template)
    parameters.sized16([])
    parameters.u32BigEndian(0)
    let response = try TPMResponse(
        tpm.transmit(
            TPM2Commands.command(.createPrimary, handles: [0x4000_000B], passwords: 1, parameters: parameters.bytes)))
    try #require(response.code == .success)
    let handle = UInt32(bigEndianBytes: response.body[0..<4])
    var reader = ByteReader<VTPMError>(try response.parameters(handles: 1), structure: "CreatePrimary")
    let outPublic = try reader.sized16("outPublic")
    let flushed = try TPMResponse(tpm.transmit(TPM2Commands.command(.flushContext, parameters: handle.bigEndianBytes)))
    #expect(flushed.code == .success)
    return outPublic
}

@Suite("vTPM personality gcp")
struct GCPPersonalityTests {
    @Test("The AK templates and certificates are where go-tpm-tools reads them; the certificates certify those AKs")
    func certificates() throws {
        let parent = try makeTemporaryDirectory("tsmfs-vtpm")
        defer { removeTree(parent) }
        for _ in 0..<2 {  // the second start, on the same state, finds the same
            try withPersonality(GCPPersonality(), directory: parent) { tpm in
                let pairs: [(UInt32, UInt32, [UInt8], TPMAKAuthority.Cloud)] = [
                    (
                        GCPPersonality.rsaTemplateIndex, GCPPersonality.rsaCertificateIndex,
                        TPMTemplates.attestationKeyRSA, .gce
                    ),
                    (
                        GCPPersonality.eccTemplateIndex, GCPPersonality.eccCertificateIndex,
                        TPMTemplates.attestationKeyECC, .gce
                    ),
                ]
                for (templateIndex, certificateIndex, template, cloud) in pairs {
                    let stored = try nvRead(tpm, index: templateIndex, size: try nvSize(tpm, index: templateIndex))
                    #expect(stored == template)
                    let key = try TPMPublic(parsing: try createPrimaryInEndorsement(tpm, template: stored))
                    let der = try nvRead(tpm, index: certificateIndex, size: try nvSize(tpm, index: certificateIndex))
                    try expectCertificate(try Certificate(derEncoded: der), cloud: cloud, key: key)
                }
            }
        }
    }

    @Test("The SVSM manifest's EK public area is the TPMT_PUBLIC of 0x81010001")
    func endorsementKeyPublic() throws {
        try withVTPM { tpm, _ in
            let area = try tpm.endorsementKeyPublic()
            let key = try TPMPublic(parsing: area)
            #expect(key.nameAlg == TPMAlgorithmID.sha256)
            #expect(Array(try ekPublic(tpm).prefix(2 + area.count)) == UInt16(area.count).bigEndianBytes + area)
        }
    }
}
