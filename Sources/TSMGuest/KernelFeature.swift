/// The one table of which Linux release first shows which element of the guest attestation ABI.
/// Every `--kernel` decision (which files exist, which attributes a report entry shows, the blob
/// limit, which guests are possible) is read from here; `tsmfs kernels` prints it.
///
/// Releases are those whose merge window pulled the commit (from the pull tags and the
/// torvalds-tree revlists; see docs/DECISIONS.md, "--kernel VERSION"). Stable backports and
/// vendor kernels are not modelled.
public enum KernelFeature: String, CaseIterable, Sendable {
    /// `/dev/tdx_guest` and `TDX_CMD_GET_REPORT0`, with the misc-class entries
    /// `sys/devices/virtual/misc/tdx_guest` and `sys/class/misc/tdx_guest`.
    /// 6c8c1406a6d6 "virt: Add TDX guest driver" (tag x86_tdx_for_6.2).
    case tdxGuestDevice
    /// `sys/kernel/config/tsm/report/`: mkdir makes an entry; two fixed attribute sets.
    /// 70e6f7e2b985 "configfs-tsm: Introduce a shared ABI for attestation reports"
    /// (merge 5e2cb28dd7e1, tag tsm-for-6.7).
    case configfsTSMReport
    /// Provider `tdx_guest`: generation, provider, inblob, outblob (the default item type; the
    /// same set under the 6.11 callbacks). f4738f56d1dc "virt: tdx-guest: Add Quote generation
    /// support using TSM_REPORTS".
    case tdxGuestReports
    /// Provider `sev_guest`: the extra item type, + privlevel, privlevel_floor (always 0), auxblob.
    /// f47906782c76 "virt: sevguest: Add TSM_REPORTS support for SNP_GET_EXT_REPORT".
    case sevGuestReports
    /// One item type plus `report_attr_visible` / `report_bin_attr_visible`.
    /// 20dfee95936413 "x86/sev: Take advantage of configfs visibility support in TSM"
    /// (on 0e6a35b93745 "fs/configfs: Add a callback to determine attribute visibility").
    case reportVisibilityCallbacks
    /// sev_guest's `privlevel_floor` is the VMPCK in use (the executing VMPL), no longer always 0.
    /// 614dc0fb7632 "sev-guest: configfs-tsm: Allow the privlevel_floor attribute to be updated".
    case sevVMPCKFloor
    /// sev_guest under an SVSM: service_provider, service_guid, service_manifest_version and
    /// manifestblob. 627dc671518b "x86/sev: Extend the config-fs attestation support for an SVSM"
    /// (merge 408323581b72, tag x86_sev_for_v6.11_rc1; the ABI doc's "v6.10" is stale).
    case svsmAttestation
    /// Provider `arm_cca_guest`: no visibility callbacks, so all 11 attributes.
    /// 7999edc484ca "virt: arm-cca-guest: TSM_REPORT support for realms" (arm64-upstream, 6.13).
    case armCCAGuestReports
    /// `sys/devices/virtual/misc/tdx_guest/measurements/` (tsm-mr): mrconfigid, mrowner,
    /// mrownerconfig, mrtd:sha384, rtmr0..3:sha384. 4d2a7bfad5b7 "virt: tdx-guest: Expose TDX MRs
    /// as sysfs attributes" on b9e22b35d459 "tsm-mr: Add TVM Measurement Register support"
    /// (merge ae5ec8adb8ec, tag tsm-for-6.16).
    case tdxGuestMeasurements
    /// The `tsm_mr_sample` misc device and its `measurements/` (CONFIG_SAMPLE_TSM_MR).
    /// f6953f1f9ec4 "tsm-mr: Add tsm-mr sample code" (tag tsm-for-6.16).
    case tsmMRSample
    /// `TSM_REPORT_OUTBLOB_MAX` SZ_32K -> SZ_16M, for outblob, auxblob and manifestblob alike.
    /// 9342bf3d670b "configfs-tsm-report: Increase TSM_REPORT_OUTBLOB_MAX to 16MB" (tag tsm-for-7.0).
    case outblob16MiB

    /// The first release that has it.
    public var release: KernelRelease {
        switch self {
        case .tdxGuestDevice: return KernelRelease(6, 2)
        case .configfsTSMReport, .tdxGuestReports, .sevGuestReports: return KernelRelease(6, 7)
        case .reportVisibilityCallbacks, .sevVMPCKFloor, .svsmAttestation: return KernelRelease(6, 11)
        case .armCCAGuestReports: return KernelRelease(6, 13)
        case .tdxGuestMeasurements, .tsmMRSample: return KernelRelease(6, 16)
        case .outblob16MiB: return KernelRelease(7, 0)
        }
    }

    /// The mainline commit that brought it (abbreviated id).
    public var commit: String {
        switch self {
        case .tdxGuestDevice: return "6c8c1406a6d6"
        case .configfsTSMReport: return "70e6f7e2b985"
        case .tdxGuestReports: return "f4738f56d1dc"
        case .sevGuestReports: return "f47906782c76"
        case .reportVisibilityCallbacks: return "20dfee959364"
        case .sevVMPCKFloor: return "614dc0fb7632"
        case .svsmAttestation: return "627dc671518b"
        case .armCCAGuestReports: return "7999edc484ca"
        case .tdxGuestMeasurements: return "4d2a7bfad5b7"
        case .tsmMRSample: return "f6953f1f9ec4"
        case .outblob16MiB: return "9342bf3d670b"
        }
    }

    /// What a client sees, in a few words (refusals and `tsmfs kernels` say this).
    public var summary: String {
        switch self {
        case .tdxGuestDevice: return "/dev/tdx_guest (TDX_CMD_GET_REPORT0) and sys/class/misc/tdx_guest"
        case .configfsTSMReport: return "configfs-tsm reports (sys/kernel/config/tsm/report)"
        case .tdxGuestReports: return "the tdx_guest report provider (generation, provider, inblob, outblob)"
        case .sevGuestReports: return "the sev_guest report provider (+ privlevel, privlevel_floor, auxblob)"
        case .reportVisibilityCallbacks: return "configfs-tsm attribute visibility callbacks"
        case .sevVMPCKFloor: return "sev_guest privlevel_floor = the VMPCK in use (before: always 0)"
        case .svsmAttestation: return "SVSM attestation (service_provider, service_guid, service_manifest_version, manifestblob)"
        case .armCCAGuestReports: return "the arm_cca_guest report provider (all 11 attributes)"
        case .tdxGuestMeasurements: return "sys/devices/virtual/misc/tdx_guest/measurements (tsm-mr)"
        case .tsmMRSample: return "the tsm_mr_sample misc device (samples/tsm-mr)"
        case .outblob16MiB: return "outblob/auxblob/manifestblob up to 16 MiB (before: 32 KiB, EFBIG past it)"
        }
    }

    /// The report provider a `--guest` value plays (by its name, so a guest added later is
    /// checked as soon as it is named here), or nil for a guest the table does not know.
    public static func reports(ofGuestNamed name: String) -> KernelFeature? {
        ["tdx": .tdxGuestReports, "sev-snp": .sevGuestReports, "cca": .armCCAGuestReports][name]
    }
}

extension KernelRelease {
    /// Whether this release shows `feature`.
    public func has(_ feature: KernelFeature) -> Bool { self >= feature.release }

    /// `TSM_REPORT_OUTBLOB_MAX`: the largest outblob, auxblob or manifestblob a read returns.
    public var outblobMax: Int { has(.outblob16MiB) ? 16 << 20 : 32 << 10 }

    /// The release x face matrix, as a Markdown table (what `tsmfs kernels` prints).
    public static func matrix() -> String {
        func mark(_ release: KernelRelease, _ feature: KernelFeature) -> String { release.has(feature) ? "yes" : "-" }
        var lines = [
            "| release | tdx_guest reports | sev_guest reports | SVSM attributes + manifestblob | arm_cca_guest reports "
                + "| /dev/tdx_guest | tdx_guest/measurements | tsm_mr_sample | blob max |",
            "|---|---|---|---|---|---|---|---|---|",
        ]
        for release in modelled {
            let sev = release.has(.reportVisibilityCallbacks) ? "7 (callbacks; floor = VMPCK)" : "7 (fixed set; floor 0)"
            let limit = release.outblobMax >= 1 << 20 ? "\(release.outblobMax >> 20) MiB" : "\(release.outblobMax >> 10) KiB"
            lines.append("| \(release) | 4 | \(sev) | \(mark(release, .svsmAttestation)) | \(mark(release, .armCCAGuestReports)) "
                + "| \(mark(release, .tdxGuestDevice)) | \(mark(release, .tdxGuestMeasurements)) "
                + "| \(mark(release, .tsmMRSample)) | \(limit) |")
        }
        return lines.joined(separator: "\n")
    }

    /// Each element of the table with its release and commit, one a line.
    public static func elements() -> String {
        KernelFeature.allCases.map { "\($0.release)\t\($0.commit)\t\($0.summary)" }.joined(separator: "\n")
    }
}
