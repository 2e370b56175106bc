import TSMBytes
import TSMEvidence

/// Google Compute Engine's vTPM (`--vtpm gcp`), as go-tpm-tools reads it (client/handles.go,
/// client/keys.go `GceAttestationKeyRSA`/`GceAttestationKeyECC`): the AK templates, raw
/// TPMT_PUBLIC, in NV 0x01c10001 (RSA) and 0x01c10003 (ECC); the AKs are created from them with
/// TPM2_CreatePrimary in the endorsement hierarchy; their certificates in NV 0x01c10000 and
/// 0x01c10002, signed by the seed's mock "EK/AK CA Intermediate" (``TPMAKAuthority``, cloud
/// `.gce`). tsmfs answers no command itself.
public struct GCPPersonality: VTPMPersonality {
    /// The indices (go-tpm-tools client/handles.go).
    public static let rsaCertificateIndex: UInt32 = 0x01c1_0000
    public static let rsaTemplateIndex: UInt32 = 0x01c1_0001
    public static let eccCertificateIndex: UInt32 = 0x01c1_0002
    public static let eccTemplateIndex: UInt32 = 0x01c1_0003

    public init() {}

    /// The key pairs: template index, certificate index, template, what the subject says.
    static var keys: [(template: UInt32, certificate: UInt32, bytes: [UInt8], name: String)] {
        [
            (rsaTemplateIndex, rsaCertificateIndex, TPMTemplates.attestationKeyRSA, "RSA"),
            (eccTemplateIndex, eccCertificateIndex, TPMTemplates.attestationKeyECC, "ECC"),
        ]
    }

    /// Writes each template (when the index does not hold it already), creates its AK in the
    /// endorsement hierarchy (the same key at every start: a primary key derives from the
    /// hierarchy's seed and the template), and makes the certificate index hold that AK's
    /// certificate of this seed. Throws `.certificate` when the CA cannot issue it, `.tpm` when a
    /// TPM command fails.
    public func provision(_ tpm: VirtualTPM) throws(VTPMError) {
        let authority: TPMAKAuthority
        do {
            authority = try TPMAKAuthority(cloud: .gce, seed: tpm.configuration.seed)
        } catch {
            throw .certificate(role: "GCE EK/AK CA", reason: "\(error)")
        }
        for key in Self.keys {
            try PersonalityCommands.ensureIndex(
                tpm, index: key.template, data: key.bytes, attributes: PersonalityCommands.NV.readOnlyPlatform)
            let created = try PersonalityCommands.createPrimary(
                tpm, hierarchy: PersonalityCommands.endorsementHierarchy, template: key.bytes)
            try PersonalityCommands.flush(tpm, handle: created.handle)
            let ak = try PersonalityCommands.parsedPublic(created.public, what: "the \(key.name) AK")
            let certificate: [UInt8]
            do {
                certificate = try authority.akCertificate(for: ak, subject: "tsmfs vTPM \(key.name) AK")
            } catch {
                throw .certificate(role: "AK", reason: "\(error)")
            }
            try PersonalityCommands.ensureIndex(
                tpm, index: key.certificate, data: certificate, attributes: PersonalityCommands.NV.readOnlyPlatform)
        }
        tpm.logger.info("vTPM: GCE AK templates and certificates in place")
    }

    /// The PEM root of the seed's mock GCE EK/AK CA (for `tsmfs trust-anchor`), then the
    /// intermediate that signs the AK certificates.
    public static func certificateAuthorityPEM(seed: String) throws(VTPMError) -> String {
        do {
            let authority = try TPMAKAuthority(cloud: .gce, seed: seed)
            return authority.rootCertificatePEM + authority.intermediateCertificatePEM
        } catch {
            throw .certificate(role: "GCE EK/AK CA", reason: "\(error)")
        }
    }
}
