import TSMTPM

/// `--vtpm NAME`: a virtual TPM (swtpm) beside the guest's own evidence, as most confidential VMs
/// in production are attested through (docs/vtpm.md). A guest that takes it lists ``option`` and
/// keeps ``parse(_:)``'s value in its settings.
public enum VTPMPersonality: String, Sendable, CaseIterable {
    /// A TPM as swtpm_setup provisions it: an RSA EK at 0x81010001, its certificate in NV
    /// 0x01C00002 signed by the seeded mock EK CA; nothing of a cloud's.
    case plain

    /// The option, as the guests that take it list it.
    public static let option = GuestOption(
        "--vtpm", value: "NAME",
        "SEV-SNP, TDX: serve a virtual TPM (swtpm, which must be installed) at /dev/tpm0 and /dev/tpmrm0, its boot log "
            + "at /sys/kernel/security/tpm0/binary_bios_measurements and its SHA-256 PCRs as the `tpm` provider; "
            + "NAME: " + allCases.map(\.rawValue).joined(separator: ", ") + ". With --state it persists beside "
            + "the state file (FILE.vtpm/).")

    /// The value of `--vtpm` among `values`, nil when it is not given.
    public static func parse(_ values: GuestOptionValues) throws(GuestOptionError) -> VTPMPersonality? {
        guard let text = values[option.name] else { return nil }
        guard let personality = VTPMPersonality(rawValue: text) else {
            throw GuestOptionError(
                "--vtpm \(text): not one of \(allCases.map(\.rawValue).joined(separator: ", "))")
        }
        return personality
    }

    /// `tsmfs trust-anchor --vtpm NAME`: the mock CA that signs this personality's certificates
    /// (for `plain`, the EK CA of NV 0x01C00002's certificate), as PEM.
    public func trustAnchorPEM(seed: String) throws(VTPMError) -> String {
        switch self {
        case .plain: return try VirtualTPM.ekCertificateAuthority(seed: seed)
        }
    }
}
