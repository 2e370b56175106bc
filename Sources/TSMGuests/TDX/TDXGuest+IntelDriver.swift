import TSMGuest

/// `--tdx-driver`: which TDX guest driver stands behind `/dev/tdx_guest` (docs/DECISIONS.md,
/// issue 25).
extension TDXGuest {
    /// The driver: Linux's own, or Intel's out-of-tree one with its quote and RTMR ioctls.
    public enum Driver: String, Sendable, CaseIterable {
        /// drivers/virt/coco/tdx-guest of mainline: `TDX_CMD_GET_REPORT0` only.
        case upstream
        /// Intel's TDX kernels' driver before configfs-tsm: also `TDX_CMD_GET_QUOTE` and
        /// `TDX_CMD_EXTEND_RTMR` (``IntelTDXGuestDevice``).
        case intel
    }

    /// `--tdx-driver NAME`; a name other than ``Driver``'s is refused, `intel` outside 6.2-6.6 too
    /// (``kernelRefusal(_:release:)``).
    public static let driverOption = GuestOption(
        "--tdx-driver", value: "NAME",
        "TDX: the driver behind /dev/tdx_guest: upstream (Linux's own, default) or intel (Intel's out-of-tree "
            + "driver of its TDX kernels before configfs-tsm: TDX_CMD_GET_QUOTE and TDX_CMD_EXTEND_RTMR beside "
            + "TDX_CMD_GET_REPORT0; with --kernel \(guestDevice.release) to \(lastReleaseBeforeReports)).")

    /// The newest modelled release without configfs-tsm reports (6.6): the last `--tdx-driver
    /// intel` combines with.
    static var lastReleaseBeforeReports: KernelRelease {
        KernelRelease.modelled.last { !$0.has(reportsFeature) } ?? guestDevice.release
    }

    /// Whether `release` can have Intel's driver: it has `/dev/tdx_guest` (6.2) and not yet
    /// configfs-tsm's quotes (6.7), which took the ioctl's place.
    static func hasIntelDriver(_ release: KernelRelease) -> Bool {
        release.has(guestDevice) && !release.has(reportsFeature)
    }

    /// `--tdx-driver`'s value; upstream when not given.
    static func driver(_ values: GuestOptionValues) throws(GuestOptionError) -> Driver {
        guard let text = values[driverOption.name] else { return .upstream }
        guard let driver = Driver(rawValue: text) else {
            let known = Driver.allCases.map(\.rawValue).joined(separator: ", ")
            throw GuestOptionError("--tdx-driver \(text): not one of \(known)")
        }
        return driver
    }

    /// The `tsmfs kernels` column: where `--tdx-driver intel` can be asked for.
    static var intelDriverColumn: KernelColumn {
        KernelColumn("--tdx-driver intel (GET_QUOTE, EXTEND_RTMR)") { hasIntelDriver($0) ? "option" : "-" }
    }

    /// `--tdx-driver intel` before 6.2 (no `/dev/tdx_guest`) or from 6.7 (configfs-tsm replaced it).
    public static func kernelRefusal(_ values: GuestOptionValues, release: KernelRelease) -> KernelRelease.Refusal? {
        guard values[driverOption.name] == Driver.intel.rawValue else { return nil }
        let option = "\(driverOption.name) \(Driver.intel.rawValue)"
        if !release.has(guestDevice) { return .lacks(guestDevice, option: option, release: release) }
        if release.has(reportsFeature) {
            return .superseded(reportsFeature, option: option, release: release, last: lastReleaseBeforeReports)
        }
        return nil
    }
}
