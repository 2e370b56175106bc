import SystemPackage
import TSMEvidence
import TSMModel

/// `tsmfs mount --backend kernel`: finds which confidential guest the kernel under a root is, and
/// registers the RFC v2 provider that serves it, its launch registers read from the kernel at start.
///
/// Looked for, in order:
/// 1. `sys/devices/virtual/misc/tdx_guest/measurements/` (TDX, Linux 6.16+): the `tdx` provider
///    over ``KernelTDXBackend``;
/// 2. `sys/kernel/config/tsm/report/` whose probe entry's `provider` is `sev_guest` (SEV-SNP,
///    Linux 6.7+): the read-only `sev-snp` provider with the launch values of one report;
/// 3. the same directory with `tdx_guest` (TDX before 6.16): the `tdx` provider over
///    ``KernelTDXQuoteBackend``, its registers from a quote's body, RTMRs read-only.
public enum KernelGuestSetup {
    /// Why no provider could be set up: the message names what was looked for or what failed.
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    /// The guest found under `root` and its provider.
    public struct Found {
        public let provider: MeasurementProvider
        /// A phrase for the daemon's one line: which interface serves it.
        public let summary: String
    }

    /// Detects the guest under `root` and registers its provider; each kernel file error is
    /// logged through `log` as well as reported.
    public static func detect(root: String, log: @escaping KernelLog) throws(Failure) -> Found {
        let base = root.hasSuffix("/") ? root : root + "/"
        let measurements = base + KernelTDXBackend.measurementsPath
        let reportDirectory = base + ConfigfsReportClient.relativePath
        let devicePath = base + KernelTDXBackend.devicePath
        let device = KernelFiles.exists(devicePath) ? devicePath : nil
        let tdx = KernelTDXBackend(measurements: measurements, device: device, log: log)

        if KernelFiles.exists(measurements) {
            return try tdxFromMeasurements(tdx)
        }
        guard KernelFiles.exists(reportDirectory) else {
            throw Failure(description: "no confidential-computing interface under \(root): looked for \(measurements) "
                + "(TDX, Linux 6.16+) and \(reportDirectory) (configfs-tsm, TDX or SEV-SNP)")
        }
        let client = ConfigfsReportClient(directory: reportDirectory, log: log)
        let name: String
        do {
            name = try client.providerName()
        } catch {
            throw Failure(description: "\(reportDirectory): cannot probe the report provider: \(error)")
        }
        switch name {
        case "sev_guest": return try snp(client)
        case "tdx_guest": return try tdxFromQuote(client, device: tdx)
        default:
            throw Failure(description: "\(reportDirectory): provider '\(name)' is not supported (tdx_guest, sev_guest)")
        }
    }

    private static func tdxFromMeasurements(_ backend: KernelTDXBackend) throws(Failure) -> Found {
        var descriptor = BuiltinProviders.tdx
        do throws(Errno) {
            for (index, register) in descriptor.registers.enumerated() where KernelTDXBackend.fileName(register.name) != nil {
                descriptor.registers[index].initial = try backend.read(register.name)
            }
        } catch {
            throw Failure(description: "\(backend.measurements): cannot read the TDX registers: \(error)")
        }
        // servtd_hash is not in the 6.16 files: only a TDREPORT has it. A device that cannot be
        // used (a unit without DeviceAllow=/dev/tdx_guest, say) must not stop the registers that
        // can be served: it stays zero, and report0 reads answer the device's errno.
        do throws(Errno) {
            let servtd = try backend.tdReport(reportData: [UInt8](repeating: 0, count: 64)).map { Array($0[912..<960]) }
            setInitial(&descriptor, "servtd_hash", servtd ?? [])
        } catch {
            setInitial(&descriptor, "servtd_hash", [])
            backend.kernel.log("servtd_hash: no TDREPORT at start (\(error)); served as zero")
        }
        let how = backend.device == nil ? "report0 laid out from the registers" : "report0 from \(backend.device ?? "")"
        return Found(provider: try register(descriptor, backend),
                     summary: "tdx from \(backend.measurements) (\(how))")
    }

    private static func tdxFromQuote(_ client: ConfigfsReportClient, device: KernelTDXBackend) throws(Failure) -> Found {
        let body: TDXQuoteBody
        do throws(Errno) {
            body = try quoteBody(try client.report(inblob: [UInt8](repeating: 0, count: 64)), log: client.files.log)
        } catch {
            throw Failure(description: "\(client.directory): cannot get a TDX quote: \(error)")
        }
        var descriptor = BuiltinProviders.tdx
        setInitial(&descriptor, "mrtd", body.mrTD)
        setInitial(&descriptor, "mrconfigid", body.mrConfigID)
        setInitial(&descriptor, "mrowner", body.mrOwner)
        setInitial(&descriptor, "mrownerconfig", body.mrOwnerConfig)
        setInitial(&descriptor, "servtd_hash", [])
        for (index, value) in body.rtmrs.enumerated() {
            setInitial(&descriptor, "rtmr\(index)", value)
            if let slot = descriptor.registers.firstIndex(where: { $0.name == "rtmr\(index)" }) {
                descriptor.registers[slot].flags = .liveReadable
            }
        }
        return Found(provider: try register(descriptor, KernelTDXQuoteBackend(client: client, device: device)),
                     summary: "tdx from TDX quotes of \(client.directory) (RTMRs read-only)")
    }

    private static func snp(_ client: ConfigfsReportClient) throws(Failure) -> Found {
        let report: SNPReport
        do {
            report = try SNPReport.parse(try client.report(inblob: [UInt8](repeating: 0, count: 64)))
        } catch {
            throw Failure(description: "\(client.directory): cannot get an SEV-SNP report: \(error)")
        }
        var descriptor = BuiltinProviders.sevSNP
        setInitial(&descriptor, "measurement", report.measurement)
        setInitial(&descriptor, "host_data", report.hostData)
        setInitial(&descriptor, "id_key_digest", report.idKeyDigest)
        setInitial(&descriptor, "author_key_digest", report.authorKeyDigest)
        setInitial(&descriptor, "family_id", report.familyID)
        setInitial(&descriptor, "image_id", report.imageID)
        setInitial(&descriptor, "policy", littleEndian(report.policy, count: 8))
        setInitial(&descriptor, "guest_svn", littleEndian(UInt64(report.guestSVN), count: 4))
        // Launch values never change: no live register, so the software model's callbacks are
        // never called and the files are read-only.
        return Found(provider: try register(descriptor, SoftwareBackend()),
                     summary: "sev-snp from a report of \(client.directory)")
    }

    /// The body of a TDX quote (v4); EIO, logged, when it does not parse.
    static func quoteBody(_ quote: [UInt8], log: KernelLog) throws(Errno) -> TDXQuoteBody {
        do {
            return try TDXQuote.parse(quote).body
        } catch {
            log("parse outblob: not a TDX quote: \(error)")
            throw .ioError
        }
    }

    private static func setInitial(_ descriptor: inout ProviderDescriptor, _ name: String, _ value: [UInt8]) {
        guard let index = descriptor.registers.firstIndex(where: { $0.name == name }) else { return }
        descriptor.registers[index].initial = value
    }

    private static func littleEndian(_ value: UInt64, count: Int) -> [UInt8] {
        (0..<count).map { UInt8(truncatingIfNeeded: value >> (8 * UInt64($0))) }
    }

    private static func register(_ descriptor: ProviderDescriptor, _ backend: any MeasurementBackend) throws(Failure) -> MeasurementProvider {
        do {
            return try MeasurementProvider(descriptor, backend: backend)
        } catch {
            throw Failure(description: "cannot register the \(descriptor.name) provider: \(error)")
        }
    }
}
