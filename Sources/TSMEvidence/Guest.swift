/// The confidential-computing guest whose evidence is made or checked: the configfs-tsm provider
/// that would serve the `outblob` (ABI.md 4.5: `tdx_guest`, `sev_guest`, `arm_cca_guest`).
public enum Guest: String, Sendable, CaseIterable {
    /// Intel TDX: the outblob is a DCAP Quote v4 with the PCK chain inside (ABI.md 4.6).
    case tdx
    /// AMD SEV-SNP: the outblob is an ATTESTATION_REPORT; the auxblob is the certificate table.
    case sevSNP = "sev-snp"
    /// Arm CCA (a Realm): the outblob is the CCA attestation token, platform and realm tokens.
    case cca
}
