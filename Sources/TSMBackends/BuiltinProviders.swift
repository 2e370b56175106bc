import TSMEvidence
import TSMModel

/// The built-in register tables that belong to no guest, in the same form a `--config` file
/// declares: the kernel's two samples. Each guest's own table is its definition's (TSMGuests).
public enum BuiltinProviders {
    /// A stand-in launch value: a non-zero, deterministic digest of a label.
    public static func launchValue(_ label: String, _ hash: HashAlgorithm) -> [UInt8] {
        hash.digest(Array("tsmfs \(label)".utf8))
    }

    /// The ASCII of `text`: the sample initialises each field with its own name, NUL-padded.
    static func ascii(_ text: String) -> [UInt8] { Array(text.utf8) }

    /// RFC v2's `samples/tsm/measurement-example.c`, byte for byte (ABI.md 2.7): the registers are
    /// slices of one 320-byte struct, `full_report` is that struct, `report_digest` its SHA-512 over
    /// bytes 0..255.
    public static let measurementExample = ProviderDescriptor(
        name: "measurement-example",
        registers: [
            RegisterDescriptor(
                name: "full_report", hash: nil, size: 320, flags: [.live, .readable, .file],
                derivation: .layout([
                    .register("static_mr", at: 0), .register("config_mr", at: 48), .register("rtmr0", at: 112),
                    .register("rtmr1", at: 144), .register("user_data", at: 192), .register("report_digest", at: 256),
                ])),
            RegisterDescriptor(name: "static_mr", hash: .sha384, flags: [.readable], initial: ascii("static_mr")),
            RegisterDescriptor(name: "config_mr", hash: .sha512, flags: [.readable], initial: ascii("config_mr")),
            RegisterDescriptor(name: "rtmr0", hash: .sha256, flags: .rtmr, initial: ascii("rtmr0")),
            RegisterDescriptor(
                name: "rtmr1", hash: .sha384, flags: RegisterFlags.rtmr.union(.writable), initial: ascii("rtmr1")),
            RegisterDescriptor(
                name: "user_data", hash: .sha512, flags: [.readable, .writable], initial: ascii("user_data")),
            RegisterDescriptor(
                name: "report_digest", hash: .sha512, flags: .liveReadable,
                derivation: .digest(.sha512, of: ["static_mr", "config_mr", "rtmr0", "rtmr1", "user_data"])),
        ])
}
