import TSMModel

/// Where a TDX guest's kernel shows its registers and logs beside `sys/kernel/tsm`.
public enum TDXDevices {
    /// `/sys/devices/virtual/misc/tdx_guest/measurements/` (ABI.md 3.6), over the `tdx` provider:
    /// the same registers as `/sys/kernel/tsm/tdx/`, so an extend through either shows in both.
    public static let tdxGuest = MeasurementsDevice(
        device: "tdx_guest", provider: TDXRegisters.table.name,
        files: [
            MeasurementsFile(name: "mrconfigid", register: TDXRegisters.mrconfigid.name, permissions: 0o444),
            MeasurementsFile(name: "mrowner", register: TDXRegisters.mrowner.name, permissions: 0o444),
            MeasurementsFile(name: "mrownerconfig", register: TDXRegisters.mrownerconfig.name, permissions: 0o444),
            MeasurementsFile(name: "mrtd:sha384", register: TDXRegisters.mrtd.name, permissions: 0o444),
        ]
            + TDXRegisters.rtmrs.map {
                MeasurementsFile(name: "\($0.name):sha384", register: $0.name, permissions: 0o644)
            })
}

/// Where a TDX sysroot serves the event logs, relative to its root: the ACPI CCEL table and its
/// log area at their Linux paths, and the runtime log (no Linux counterpart) under `tsmfs/`.
public enum EventLogPaths {
    public static let ccelTable = "sys/firmware/acpi/tables/CCEL"
    public static let ccelData = "sys/firmware/acpi/tables/data/CCEL"
    public static let runtimeLog = "tsmfs/runtime_log"
}
