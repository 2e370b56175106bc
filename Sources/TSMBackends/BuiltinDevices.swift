import TSMModel

/// The merged-ABI (Linux 6.16) misc device of the kernel's sample; a guest's own devices are its
/// definition's.
public enum BuiltinDevices {
    /// `/sys/devices/virtual/misc/tsm_mr_sample/measurements/` (ABI.md 3.5), over the
    /// `tsm_mr_sample` provider. The crypto-agile files are banks aliasing rtmr0 and rtmr1.
    public static let tsmMrSample = MeasurementsDevice(
        device: "tsm_mr_sample", provider: "tsm_mr_sample",
        files: [
            MeasurementsFile(name: "config_mr", register: "config_mr", permissions: 0o444),
            MeasurementsFile(name: "report_digest:sha512", register: "report_digest", permissions: 0o444),
            MeasurementsFile(name: "rtmr0:sha256", register: "rtmr0", permissions: 0o444),
            MeasurementsFile(name: "rtmr1:sha384", register: "rtmr1", permissions: 0o644),
            MeasurementsFile(name: "rtmr_crypto_agile:sha256", register: "rtmr0", permissions: 0o644),
            MeasurementsFile(name: "rtmr_crypto_agile:sha384", register: "rtmr1", permissions: 0o644),
            MeasurementsFile(name: "static_mr:sha384", register: "static_mr", permissions: 0o444),
        ])
}

extension BuiltinProviders {
    /// The merged sample `samples/tsm-mr/tsm_mr_sample.c` (ABI.md 3.5): one 256-byte struct whose
    /// fields start as their own names; `report_digest` is SHA-512 of bytes 0..191. It has no
    /// `/sys/kernel/tsm` face: the merged kernel shows it only under its misc device.
    public static let tsmMrSample = ProviderDescriptor(
        name: "tsm_mr_sample",
        registers: [
            RegisterDescriptor(name: "static_mr", hash: .sha384, flags: [.readable], initial: ascii("static_mr")),
            RegisterDescriptor(name: "config_mr", hash: .sha512, flags: [.readable], initial: ascii("config_mr")),
            RegisterDescriptor(name: "rtmr0", hash: .sha256, flags: .liveReadable, initial: ascii("rtmr0")),
            RegisterDescriptor(
                name: "rtmr1", hash: .sha384, flags: RegisterFlags.rtmr.union(.writable), initial: ascii("rtmr1")),
            RegisterDescriptor(
                name: "report_digest", hash: .sha512, flags: .liveReadable,
                derivation: .digest(.sha512, of: ["static_mr", "config_mr", "rtmr0", "rtmr1"])),
        ])
}
