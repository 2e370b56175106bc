import TSMGuest

/// The kernel releases of `/dev/sev-guest` (see `KernelFeature`, `SNPGuestDevice`).
extension SNPGuest {
    /// The misc device's name: `/dev/sev-guest`, `sys/devices/virtual/misc/sev-guest`.
    public static let guestDeviceName = "sev-guest"
    /// `/dev/sev-guest` with SNP_GET_REPORT, SNP_GET_DERIVED_KEY and SNP_GET_EXT_REPORT.
    /// fce96cf04430 "virt: Add SEV-SNP guest driver".
    public static let guestDevice = KernelFeature(
        KernelRelease(5, 19), commit: "fce96cf04430",
        "/dev/sev-guest (SNP_GET_REPORT, SNP_GET_DERIVED_KEY, SNP_GET_EXT_REPORT)")
    /// SNP_GET_EXT_REPORT with a certificate buffer too small: the driver reissues the request
    /// without certificates and returns 0 with the report (exitinfo2 still says INVALID_LEN).
    /// 47894e0fa6a5 "virt/sev-guest: Prevent IV reuse in the SNP guest driver".
    public static let sizingReturnsZero = KernelFeature(
        KernelRelease(6, 1), commit: "47894e0fa6a5", "sev-guest: the certificate sizing call returns 0 with a report")
    /// ... and EIO again, without a report. dd093fb08e8f "virt: sev-guest: Return -EIO if
    /// certificate buffer is not large enough".
    public static let sizingFailsAgain = KernelFeature(
        KernelRelease(6, 3), commit: "dd093fb08e8f", "sev-guest: the certificate sizing call returns EIO again")

    /// Whether `release` answers the sizing call with 0 (6.1-6.2) rather than EIO.
    static func sizingSucceeds(on release: KernelRelease) -> Bool {
        release.has(sizingReturnsZero) && !release.has(sizingFailsAgain)
    }
}
