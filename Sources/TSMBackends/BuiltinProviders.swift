import TSMEvidence
import TSMModel

/// The built-in register tables, in the same form a `--config` file declares; `tsmfs providers
/// --json` prints them as such a file.
public enum BuiltinProviders {
    /// What a plain mount serves when no `--provider` narrows the set.
    public static let all: [ProviderDescriptor] = [cca, measurementExample, tdx]

    public static func named(_ name: String) -> ProviderDescriptor? {
        catalogue.first { $0.name == name }
    }

    /// A stand-in launch value: a non-zero, deterministic digest of a label.
    static func launchValue(_ label: String, _ hash: HashAlgorithm) -> [UInt8] {
        hash.digest(Array("tsmfs \(label)".utf8))
    }

    /// The ASCII of `text`: the sample initialises each field with its own name, NUL-padded.
    static func ascii(_ text: String) -> [UInt8] { Array(text.utf8) }

    /// RFC v2's `samples/tsm/measurement-example.c`, byte for byte (ABI.md 2.7): the registers are
    /// slices of one 320-byte struct, `full_report` is that struct, `report_digest` its SHA-512 over
    /// bytes 0..255.
    public static let measurementExample = ProviderDescriptor(name: "measurement-example", registers: [
        RegisterDescriptor(name: "full_report", hash: nil, size: 320, flags: [.live, .readable, .file], derivation: .layout([
            .register("static_mr", at: 0), .register("config_mr", at: 48), .register("rtmr0", at: 112),
            .register("rtmr1", at: 144), .register("user_data", at: 192), .register("report_digest", at: 256),
        ])),
        RegisterDescriptor(name: "static_mr", hash: .sha384, flags: [.readable], initial: ascii("static_mr")),
        RegisterDescriptor(name: "config_mr", hash: .sha512, flags: [.readable], initial: ascii("config_mr")),
        RegisterDescriptor(name: "rtmr0", hash: .sha256, flags: .rtmr, initial: ascii("rtmr0")),
        RegisterDescriptor(name: "rtmr1", hash: .sha384, flags: RegisterFlags.rtmr.union(.writable), initial: ascii("rtmr1")),
        RegisterDescriptor(name: "user_data", hash: .sha512, flags: [.readable, .writable], initial: ascii("user_data")),
        RegisterDescriptor(name: "report_digest", hash: .sha512, flags: .liveReadable,
                           derivation: .digest(.sha512, of: ["static_mr", "config_mr", "rtmr0", "rtmr1", "user_data"])),
    ])

    /// A TDX guest in RFC v2 shape: launch registers, four RTMRs extended as TDG.MR.RTMR.EXTEND,
    /// `reportdata` and a `report0` TDREPORT rebuilt from them (ABI.md 3.2, 3.6 offsets).
    public static let tdx: ProviderDescriptor = {
        let rtmr = RegisterFlags.rtmr.union(.writable)
        let statics = ["mrtd", "mrconfigid", "mrowner", "mrownerconfig", "servtd_hash"]
        var registers = statics.map {
            RegisterDescriptor(name: $0, hash: .sha384, flags: [.readable], initial: launchValue("tdx \($0)", .sha384))
        }
        registers += (0..<4).map { RegisterDescriptor(name: "rtmr\($0)", hash: .sha384, flags: rtmr) }
        registers.append(RegisterDescriptor(name: "reportdata", hash: nil, size: 64, flags: [.readable, .writable, .file]))
        registers.append(RegisterDescriptor(name: "report0", hash: nil, size: TDReport.size, flags: [.live, .readable, .file],
                                            derivation: .layout(tdReportFields)))
        return ProviderDescriptor(name: "tdx", registers: registers)
    }()

    /// An Arm CCA realm: the RIM and four REMs, all SHA-256, so SHA-256 extends are served.
    public static let cca: ProviderDescriptor = {
        var registers = [RegisterDescriptor(name: "rim", hash: .sha256, flags: [.readable], initial: launchValue("cca rim", .sha256))]
        registers += (0..<4).map { RegisterDescriptor(name: "rem\($0)", hash: .sha256, flags: RegisterFlags.rtmr.union(.writable)) }
        return ProviderDescriptor(name: "cca", registers: registers)
    }()
}

extension BuiltinProviders {
    /// The registers a TDREPORT (TSMEvidence's ``TDReport``) shows, with their offsets: what the
    /// `tdx` provider's `report0` lays out.
    public static let tdReportRegisters: [(register: String, offset: Int)] = [
        ("mrtd", TDReport.Offset.mrTD), ("mrconfigid", TDReport.Offset.mrConfigID), ("mrowner", TDReport.Offset.mrOwner),
        ("mrownerconfig", TDReport.Offset.mrOwnerConfig),
    ] + (0..<4).map { ("rtmr\($0)", TDReport.Offset.rtmr($0)) } + [("servtd_hash", TDReport.Offset.servtdHash)]

    /// `report0`'s layout: REPORTTYPE, REPORTDATA, TDATTRIBUTES, XFAM and the registers.
    static let tdReportFields: [LayoutField] =
        [.bytes(TDReport.reportType, at: TDReport.Offset.reportType), .register("reportdata", at: TDReport.Offset.reportData),
         .bytes(TDReport.tdAttributes, at: TDReport.Offset.tdAttributes), .bytes(TDReport.xfam, at: TDReport.Offset.xfam)]
        + tdReportRegisters.map { .register($0.register, at: $0.offset) }
}

extension BuiltinProviders {
    /// An AMD SEV-SNP guest's launch values, which the kernel shows only inside a report: the
    /// launch MEASUREMENT (sha384) and the other signed launch fields as F files. Read-only:
    /// SEV-SNP has no extendable registers. A `--guest sev-snp` sysroot serves it and signs these
    /// values into every report.
    public static let sevSNP = ProviderDescriptor(name: "sev-snp", registers: [
        RegisterDescriptor(name: "measurement", hash: .sha384, flags: [.readable], initial: launchValue("sev-snp measurement", .sha384)),
        RegisterDescriptor(name: "host_data", hash: nil, size: 32, flags: [.readable, .file], initial: launchValue("sev-snp host_data", .sha256)),
        RegisterDescriptor(name: "id_key_digest", hash: nil, size: 48, flags: [.readable, .file]),
        RegisterDescriptor(name: "author_key_digest", hash: nil, size: 48, flags: [.readable, .file]),
        RegisterDescriptor(name: "family_id", hash: nil, size: 16, flags: [.readable, .file]),
        RegisterDescriptor(name: "image_id", hash: nil, size: 16, flags: [.readable, .file]),
        // POLICY (little-endian u64): SMT allowed (bit 16), reserved bit 17 set, ABI 0.0.
        RegisterDescriptor(name: "policy", hash: nil, size: 8, flags: [.readable, .file], initial: [0x00, 0x00, 0x03, 0x00, 0x00, 0x00, 0x00, 0x00]),
        RegisterDescriptor(name: "guest_svn", hash: nil, size: 4, flags: [.readable, .file]),
    ])

    /// Every built-in provider by name, including those a plain mount does not serve by default.
    public static let catalogue: [ProviderDescriptor] = all + [sevSNP, tsmMrSample]
}
