import TSMGuest

/// The kernel releases that show TDX's elements (see `KernelFeature`).
extension TDXGuest {
    /// `/dev/tdx_guest` and `TDX_CMD_GET_REPORT0`, with the misc-class entries
    /// `sys/devices/virtual/misc/tdx_guest` and `sys/class/misc/tdx_guest`.
    /// 6c8c1406a6d6 "virt: Add TDX guest driver" (tag x86_tdx_for_6.2).
    public static let guestDevice = KernelFeature(
        KernelRelease(6, 2), commit: "6c8c1406a6d6", "/dev/tdx_guest (TDX_CMD_GET_REPORT0) and sys/class/misc/tdx_guest"
    )
    /// Provider `tdx_guest`: generation, provider, inblob, outblob (the default item type; the
    /// same set under the 6.11 callbacks). f4738f56d1dc "virt: tdx-guest: Add Quote generation
    /// support using TSM_REPORTS".
    public static let reportsFeature = KernelFeature(
        KernelRelease(6, 7), commit: "f4738f56d1dc",
        "tdx_guest reports (generation, provider, inblob, outblob)")
    /// `sys/devices/virtual/misc/tdx_guest/measurements/` (tsm-mr): mrconfigid, mrowner,
    /// mrownerconfig, mrtd:sha384, rtmr0..3:sha384. 4d2a7bfad5b7 "virt: tdx-guest: Expose TDX MRs
    /// as sysfs attributes" on b9e22b35d459 "tsm-mr: Add TVM Measurement Register support"
    /// (merge ae5ec8adb8ec, tag tsm-for-6.16).
    public static let measurementsFeature = KernelFeature(
        KernelRelease(6, 16), commit: "4d2a7bfad5b7", "sys/devices/virtual/misc/tdx_guest/measurements (tsm-mr)")
    /// The `tsm_mr_sample` misc device and its `measurements/` (CONFIG_SAMPLE_TSM_MR).
    /// f6953f1f9ec4 "tsm-mr: Add tsm-mr sample code" (tag tsm-for-6.16).
    public static let sampleFeature = KernelFeature(
        KernelRelease(6, 16), commit: "f6953f1f9ec4", "the tsm_mr_sample misc device (samples/tsm-mr)")

    public static var kernelFeatures: [KernelFeature] {
        [guestDevice, reportsFeature, measurementsFeature, sampleFeature]
    }

    /// `/dev/tdx_guest` (6.2): before configfs-tsm (6.7) the TDREPORT ioctl is all a TD has.
    public static var minimumKernelFeature: KernelFeature { guestDevice }

    public static var kernelColumns: [KernelColumn] {
        [
            KernelColumn("tdx_guest reports") { $0.has(reportsFeature) ? "4" : "-" },
            KernelColumn("/dev/tdx_guest", marking: guestDevice),
            KernelColumn("tdx_guest/measurements", marking: measurementsFeature),
            KernelColumn("tsm_mr_sample", marking: sampleFeature),
            intelDriverColumn,
        ]
    }
}
