import TSMGuest

/// The kernel releases of `/dev/sev-guest` (see `KernelFeature`, `SNPGuestDevice`).
extension SNPGuest {
    /// The misc device's name: `/dev/sev-guest`, `sys/devices/virtual/misc/sev-guest`.
    public static let guestDeviceName = "sev-guest"
    /// `/dev/sev-guest` with SNP_GET_REPORT, SNP_GET_DERIVED_KEY and SNP_GET_EXT_REPORT.
    /// fce96cf04430 "virt: Add SEV-SNP guest driver", with 68de0b2f9386 "virt: sevguest: Add
    /// support to derive key" and d80b494f7123 "virt: sevguest: Add support to get extended
    /// report" (all tip x86/sev, merged for 5.19).
    public static let guestDevice = KernelFeature(
        KernelRelease(5, 19), commit: "fce96cf04430",
        "/dev/sev-guest (SNP_GET_REPORT, SNP_GET_DERIVED_KEY, SNP_GET_EXT_REPORT)")
    /// SNP_GET_EXT_REPORT with a certificate buffer too small: the driver reissues the request
    /// without certificates and returns 0 with the report (exitinfo2 still says INVALID_LEN).
    /// 47894e0fa6a5 "virt/sev-guest: Prevent IV reuse in the SNP guest driver" (tip x86/urgent,
    /// 2022-11-21; in mainline before 6.1). Before it the driver returned the host's failure, EIO.
    public static let sizingReturnsZero = KernelFeature(
        KernelRelease(6, 1), commit: "47894e0fa6a5", "sev-guest: the certificate sizing call returns 0 with a report")
    /// ... and EIO again, without a report. dd093fb08e8f "virt/sev-guest: Return -EIO if
    /// certificate buffer is not large enough" (tip x86/urgent, 2023-03-01; mainline in the 6.3
    /// merge window; backported in the 6.1.16 stable review series: stable releases are not
    /// modelled, so `--kernel 6.1` is 6.1.0's answer).
    public static let sizingFailsAgain = KernelFeature(
        KernelRelease(6, 3), commit: "dd093fb08e8f", "sev-guest: the certificate sizing call returns EIO again")

    /// Whether `release` answers the sizing call with 0 (6.1-6.2) rather than EIO.
    static func sizingSucceeds(on release: KernelRelease) -> Bool {
        release.has(sizingReturnsZero) && !release.has(sizingFailsAgain)
    }
}
