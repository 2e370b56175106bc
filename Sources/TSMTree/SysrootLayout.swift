import FuseKit
import TSMModel

/// A guest's paths relative to `/`, served from one register model: the RFC v2 tree at
/// `sys/kernel/tsm`, configfs-tsm reports at `sys/kernel/config/tsm/report`, and the merged
/// (6.16) `measurements/` devices with their `sys/class/misc` links. Faces share provider objects,
/// so an extend through any face shows in every other face and in the next report.
public struct SysrootLayout {
    /// The providers under `sys/kernel/tsm`.
    public var tsmProviders: [MeasurementProvider]
    /// The merged-ABI devices, each with the provider whose registers it shows.
    public var devices: [(device: MeasurementsDevice, provider: MeasurementProvider)]
    /// The guest driver behind configfs-tsm; nil leaves `sys/kernel/config/tsm` out (a release
    /// before configfs-tsm).
    public var reports: (any ReportProvider)?
    /// More files by path relative to the sysroot (device nodes, ACPI tables, logs).
    public var files: [(path: String, attribute: any Attribute)] = []
    /// Misc devices shown without `measurements/` (a release before tsm-mr): their
    /// `sys/devices/virtual/misc` directory and `sys/class/misc` link only.
    public var plainMiscDevices: [String] = []
    /// The RFC v2 tree at `sys/kernel/tsm`; false leaves it out (a release-exact image).
    public var unified = true
    /// The release's `TSM_REPORT_OUTBLOB_MAX`.
    public var outblobMax = ReportEntry.outblobMax

    public init(
        tsmProviders: [MeasurementProvider],
        devices: [(device: MeasurementsDevice, provider: MeasurementProvider)],
        reports: (any ReportProvider)?, files: [(path: String, attribute: any Attribute)] = []
    ) {
        self.tsmProviders = tsmProviders
        self.devices = devices
        self.reports = reports
        self.files = files
    }

    public func tree() throws(MergedLayout.Problem) -> Tree {
        var builder = TreeBuilder()
        let sys = builder.addDirectory("sys", in: builder.root)
        if unified {
            let tsm = builder.addDirectories("kernel/tsm", in: sys)
            RFCv2Layout.add(tsmProviders, to: &builder, under: tsm)
        }
        if let reports {
            let tsmConfig = builder.addDirectories("kernel/config/tsm", in: sys)
            builder.addGroup("report", in: tsmConfig, ReportGroup(provider: reports, outblobMax: outblobMax))
        }
        for (device, provider) in devices {
            try MergedLayout.add(device, provider: provider, to: &builder, sys: sys)
        }
        for device in plainMiscDevices {
            MergedLayout.addPlain(device, to: &builder, sys: sys)
        }
        for (path, attribute) in files {
            let components = path.split(separator: "/").map(String.init)
            guard let name = components.last else { continue }
            let directory = builder.addDirectories(components.dropLast().joined(separator: "/"), in: builder.root)
            builder.addFile(name, in: directory, attribute)
        }
        return builder.build()
    }
}
