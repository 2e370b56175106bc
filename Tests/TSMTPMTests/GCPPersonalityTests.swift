import TSMBytes
import TSMEvidence
import TSMTPM
import TestSupport
import Testing
import X509

/// TPM2_CreatePrimary of `template` in the endorsement hierarchy, as go-tpm-tools'
/// `KeyFromNvIndex` does: the key's TPMT_PUBLIC (the object flushed).
func createPrimaryInEndorsement(_ tpm: VirtualTPM, template: [UInt8]) throws -> [UInt8] {
    let key = try loadPrimaryInEndorsement(tpm, template: template)
    let flushed = try TPMResponse(
        tpm.transmit(TPM2Commands.command(.flushContext, parameters: key.handle.bigEndianBytes)))
    #expect(flushed.code == .success)
    return key.public
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
