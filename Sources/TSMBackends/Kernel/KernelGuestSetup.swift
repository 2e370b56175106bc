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
    public enum Failure: Error, CustomStringConvertible {
        /// Neither interface exists under the root.
        case noInterface(root: String, measurements: String, reports: String)
        /// An interface exists but could not be used.
        case unusable(String)

        public var description: String {
            switch self {
            case .noInterface(let root, let measurements, let reports):
                return "no confidential-computing interface under \(root): looked for \(measurements) "
                    + "(TDX, Linux 6.16+) and \(reports) (configfs-tsm, TDX or SEV-SNP)"
            case .unusable(let reason): return reason
            }
        }
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
        let layout: KernelTDXLayout
        do {
            layout = try KernelTDXLayout(try RegisterTable(validating: BuiltinProviders.tdx))
        } catch {
            throw .unusable("the built-in tdx provider: \(error)")
        }
        let tdx = KernelTDXBackend(measurements: measurements, device: device, layout: layout, log: log)

        if KernelFiles.exists(measurements) {
            return try tdxFromMeasurements(tdx)
        }
        guard KernelFiles.exists(reportDirectory) else {
            throw .noInterface(root: root, measurements: measurements, reports: reportDirectory)
        }
        let client = ConfigfsReportClient(directory: reportDirectory, log: log)
        let name: String
        do {
            name = try client.providerName()
        } catch {
            throw .unusable("\(reportDirectory): cannot probe the report provider: \(error)")
        }
        switch name {
        case "sev_guest": return try snp(client)
        case "tdx_guest": return try tdxFromQuote(client, device: tdx)
        default:
            throw .unusable("\(reportDirectory): provider '\(name)' is not supported (tdx_guest, sev_guest)")
        }
    }

    private static func tdxFromMeasurements(_ backend: KernelTDXBackend) throws(Failure) -> Found {
        var descriptor = BuiltinProviders.tdx
        let layout = backend.layout
        do throws(Errno) {
            for (index, file) in layout.files { descriptor.registers[index].initial = try backend.read(file: file) }
        } catch {
            throw .unusable("\(backend.measurements): cannot read the TDX registers: \(error)")
        }
        // servtd_hash is not in the 6.16 files: only a TDREPORT has it. A device that cannot be
        // used (a unit without DeviceAllow=/dev/tdx_guest, say) must not stop the registers that
        // can be served: it stays zero, and report0 reads answer the device's errno.
        do throws(Errno) {
            let at = TDReport.Offset.servtdHash
            let report = try backend.tdReport(reportData: [UInt8](repeating: 0, count: TDReport.reportDataSize))
            descriptor.registers[layout.servtdHash].initial = report.map { Array($0[at..<at + 48]) } ?? []
        } catch {
            descriptor.registers[layout.servtdHash].initial = []
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
            throw .unusable("\(client.directory): cannot get a TDX quote: \(error)")
        }
        var descriptor = BuiltinProviders.tdx
        let layout = device.layout
        for (index, value) in zip(layout.launch, [body.mrTD, body.mrConfigID, body.mrOwner, body.mrOwnerConfig]) {
            descriptor.registers[index].initial = value
        }
        descriptor.registers[layout.servtdHash].initial = []
        for (index, value) in zip(layout.rtmrs, body.rtmrs) {
            descriptor.registers[index].initial = value
            descriptor.registers[index].flags = .liveReadable
        }
        return Found(provider: try register(descriptor, KernelTDXQuoteBackend(client: client, device: device)),
                     summary: "tdx from TDX quotes of \(client.directory) (RTMRs read-only)")
    }

    private static func snp(_ client: ConfigfsReportClient) throws(Failure) -> Found {
        let report: SNPReport
        do {
            report = try SNPReport.parse(try client.report(inblob: [UInt8](repeating: 0, count: 64)))
        } catch {
            throw .unusable("\(client.directory): cannot get an SEV-SNP report: \(error)")
        }
        var descriptor = BuiltinProviders.sevSNP
        let values = [report.measurement, report.hostData, report.idKeyDigest, report.authorKeyDigest, report.familyID,
                      report.imageID, report.policy.littleEndianBytes, report.guestSVN.littleEndianBytes]
        do {
            let table = try RegisterTable(validating: descriptor)
            for (need, value) in zip(SNPRegisters.needs, values) {
                descriptor.registers[try table.index(of: need, for: "the kernel backend")].initial = value
            }
        } catch {
            throw .unusable("the built-in sev-snp provider: \(error)")
        }
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

    private static func register(_ descriptor: ProviderDescriptor, _ backend: any MeasurementBackend) throws(Failure) -> MeasurementProvider {
        do {
            return try MeasurementProvider(descriptor, backend: backend)
        } catch {
            throw .unusable("cannot register the \(descriptor.name) provider: \(error)")
        }
    }
}
