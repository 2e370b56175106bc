import TSMTPM

/// `--vtpm NAME`: a virtual TPM (swtpm) beside the guest's own evidence, as most confidential VMs
/// in production are attested through (docs/vtpm.md), and the personality it has. A guest that
/// takes it lists ``option`` and keeps ``parse(_:guest:)``'s value in its settings. (Named
/// `VTPMKind` beside TSMTPM's `VTPMPersonality`, the engine's protocol that the cloud kinds give.)
public enum VTPMKind: String, Sendable, CaseIterable {
    /// A TPM as swtpm_setup provisions it: an RSA EK at 0x81010001, its certificate in NV
    /// 0x01C00002 signed by the seeded mock EK CA; nothing of a cloud's.
    case plain
    /// Azure's (SEV-SNP only): the HCL report at NV 0x01400001 over an SNP report the guest's own
    /// report path signs, the AK at 0x81000003 and its certificate (``AzurePersonality``); as on
    /// Azure, no configfs-tsm report and no /dev/sev-guest.
    case azure
    /// Google Compute Engine's (SEV-SNP, TDX): AK templates and certificates at 0x01c10000-3
    /// (``GCPPersonality``).
    case gcp
    /// Coconut-SVSM's (SEV-SNP, Linux 6.16 and later): the guest runs under the SVSM, whose
    /// manifest's vTPM service entry is the EK's TPMT_PUBLIC.
    case svsm

    /// The option, as the guests that take it list it.
    public static let option = GuestOption(
        "--vtpm", value: "NAME",
        "SEV-SNP, TDX: serve a virtual TPM (swtpm, which must be installed) at /dev/tpm0 and /dev/tpmrm0, its boot log "
            + "at /sys/kernel/security/tpm0/binary_bios_measurements and its SHA-256 PCRs as the `tpm` provider; "
            + "NAME: plain, gcp; on SEV-SNP also azure (the HCL report at NV 0x01400001; no configfs-tsm report, "
            + "no /dev/sev-guest) and svsm (6.16 and later; implies --svsm, the SVSM's vTPM entry is the EK). "
            + "With --state it persists beside the state file (FILE.vtpm/).")

    /// The value of `--vtpm` among `values` for `guest`, nil when it is not given; an error
    /// naming the kinds that guest takes (its ``GuestDefinition/vtpmKinds``) otherwise.
    public static func parse(
        _ values: GuestOptionValues, guest: any GuestDefinition.Type
    ) throws(GuestOptionError) -> VTPMKind? {
        guard let text = values[option.name] else { return nil }
        let taken = guest.vtpmKinds
        guard let kind = VTPMKind(rawValue: text), taken.contains(kind) else {
            throw GuestOptionError(
                "--vtpm \(text): not one of \(taken.map(\.rawValue).joined(separator: ", ")) (--guest \(guest.name))")
        }
        return kind
    }

    /// `tsmfs trust-anchor --vtpm NAME`: the mock CA that signs this kind's certificates, as PEM:
    /// for `plain` and `svsm` the EK CA of NV 0x01C00002's certificate; for `azure` and `gcp` the
    /// AK CA's root, then the intermediate that signs the AK certificates.
    public func trustAnchorPEM(seed: String) throws(VTPMError) -> String {
        switch self {
        case .plain, .svsm: return try VirtualTPM.ekCertificateAuthority(seed: seed)
        case .azure: return try AzurePersonality.certificateAuthorityPEM(seed: seed)
        case .gcp: return try GCPPersonality.certificateAuthorityPEM(seed: seed)
        }
    }
}
