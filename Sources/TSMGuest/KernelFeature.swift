/// One element of the guest attestation ABI and the Linux release that first shows it. Every
/// `--kernel` decision (which files exist, which attributes a report entry shows, the blob
/// limit, which guests are possible) is read from these; `tsmfs kernels` prints them. The
/// elements of configfs-tsm itself are here; each guest declares its own beside its definition.
///
/// Releases are those whose merge window pulled the commit (from the pull tags and the
/// torvalds-tree revlists; see docs/DECISIONS.md, "--kernel VERSION"). Stable backports and
/// vendor kernels are not modelled.
public struct KernelFeature: Sendable, Hashable {
    /// The first release that has it.
    public let release: KernelRelease
    /// The mainline commit that brought it (abbreviated id).
    public let commit: String
    /// What a client sees, in a few words (refusals and `tsmfs kernels` say this).
    public let summary: String

    public init(_ release: KernelRelease, commit: String, _ summary: String) {
        self.release = release
        self.commit = commit
        self.summary = summary
    }

    /// `sys/kernel/config/tsm/report/`: mkdir makes an entry; two fixed attribute sets.
    /// 70e6f7e2b985 "configfs-tsm: Introduce a shared ABI for attestation reports"
    /// (merge 5e2cb28dd7e1, tag tsm-for-6.7).
    public static let configfsTSMReport = KernelFeature(
        KernelRelease(6, 7), commit: "70e6f7e2b985", "configfs-tsm reports (sys/kernel/config/tsm/report)")
    /// One item type plus `report_attr_visible` / `report_bin_attr_visible`.
    /// 20dfee95936413 "x86/sev: Take advantage of configfs visibility support in TSM"
    /// (on 0e6a35b93745 "fs/configfs: Add a callback to determine attribute visibility").
    public static let reportVisibilityCallbacks = KernelFeature(
        KernelRelease(6, 11), commit: "20dfee959364", "configfs-tsm attribute visibility callbacks")
    /// `TSM_REPORT_OUTBLOB_MAX` SZ_32K -> SZ_16M, for outblob, auxblob and manifestblob alike.
    /// 9342bf3d670b "configfs-tsm-report: Increase TSM_REPORT_OUTBLOB_MAX to 16MB" (tag tsm-for-7.0).
    public static let outblob16MiB = KernelFeature(
        KernelRelease(7, 0), commit: "9342bf3d670b",
        "outblob/auxblob/manifestblob up to 16 MiB (before: 32 KiB, EFBIG past it)")

    /// The elements of configfs-tsm itself, every guest's reports built on them.
    public static let common: [KernelFeature] = [configfsTSMReport, reportVisibilityCallbacks, outblob16MiB]
}

extension KernelRelease {
    /// Whether this release shows `feature`.
    public func has(_ feature: KernelFeature) -> Bool { self >= feature.release }

    /// `TSM_REPORT_OUTBLOB_MAX`: the largest outblob, auxblob or manifestblob a read returns.
    public var outblobMax: Int { has(.outblob16MiB) ? 16 << 20 : 32 << 10 }
}

extension GuestCatalogue {
    /// The release x face matrix, as a Markdown table (what `tsmfs kernels` prints): each guest's
    /// columns in catalogue order, then the blob limit.
    public func kernelMatrix() -> String {
        let columns = guests.flatMap { $0.kernelColumns }
        var lines = [
            "| release | " + columns.map(\.header).joined(separator: " | ") + " | blob max |",
            "|---|" + String(repeating: "---|", count: columns.count + 1),
        ]
        for release in KernelRelease.modelled {
            let limit =
                !release.has(.configfsTSMReport)
                ? "-"
                : release.outblobMax >= 1 << 20 ? "\(release.outblobMax >> 20) MiB" : "\(release.outblobMax >> 10) KiB"
            lines.append(
                "| \(release) | " + columns.map { $0.cell(release) }.joined(separator: " | ") + " | \(limit) |")
        }
        return lines.joined(separator: "\n")
    }

    /// Each element with its release and commit, one a line, oldest first.
    public func kernelElements() -> String {
        kernelFeatures.map { "\($0.release)\t\($0.commit)\t\($0.summary)" }.joined(separator: "\n")
    }
}
