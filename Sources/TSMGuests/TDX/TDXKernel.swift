import SystemPackage
import TSMBackends
import TSMEvidence
import TSMGuest
import TSMModel

/// TDX on a real guest kernel (`--backend kernel`): the 6.16 measurements directory, served by
/// ``KernelTDXBackend`` with `report0` from `/dev/tdx_guest`; before 6.16, configfs-tsm quotes
/// of `tdx_guest`, the registers from a quote's body, RTMRs read-only.
public enum TDXKernel: KernelInterface {
    public static var direct: (path: String, label: String)? { (KernelTDXBackend.measurementsPath, "TDX, Linux 6.16+") }

    public static func fromDirect(root: String, log: @escaping KernelLog) throws(KernelGuestSetup.Failure)
        -> KernelGuestSetup.Found
    {
        try fromMeasurements(try backend(root: root, log: log))
    }

    public static func fromReports(
        _ client: ConfigfsReportClient, root: String,
        log: @escaping KernelLog
    ) throws(KernelGuestSetup.Failure) -> KernelGuestSetup.Found {
        try fromQuote(client, device: try backend(root: root, log: log))
    }

    static func backend(root: String, log: @escaping KernelLog) throws(KernelGuestSetup.Failure) -> KernelTDXBackend {
        let devicePath = root + KernelTDXBackend.devicePath
        let layout: KernelTDXLayout
        do {
            layout = try KernelTDXLayout(try RegisterTable(validating: TDXRegisters.table))
        } catch {
            throw .unusable("the built-in tdx provider: \(error)")
        }
        return KernelTDXBackend(
            measurements: root + KernelTDXBackend.measurementsPath,
            device: KernelFiles.exists(devicePath) ? devicePath : nil, layout: layout, log: log)
    }

    static func fromMeasurements(_ backend: KernelTDXBackend) throws(KernelGuestSetup.Failure) -> KernelGuestSetup.Found
    {
        var descriptor = TDXRegisters.table
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
        return KernelGuestSetup.Found(
            provider: try KernelGuestSetup.register(descriptor, backend),
            summary: "tdx from \(backend.measurements) (\(how))")
    }

    static func fromQuote(_ client: ConfigfsReportClient, device: KernelTDXBackend) throws(KernelGuestSetup.Failure)
        -> KernelGuestSetup.Found
    {
        let body: TDXQuoteBody
        do throws(Errno) {
            body = try quoteBody(try client.report(inblob: [UInt8](repeating: 0, count: 64)), log: client.files.log)
        } catch {
            throw .unusable("\(client.directory): cannot get a TDX quote: \(error)")
        }
        var descriptor = TDXRegisters.table
        let layout = device.layout
        descriptor.registers[layout.mrtd].initial = body.mrTD
        descriptor.registers[layout.mrconfigid].initial = body.mrConfigID
        descriptor.registers[layout.mrowner].initial = body.mrOwner
        descriptor.registers[layout.mrownerconfig].initial = body.mrOwnerConfig
        descriptor.registers[layout.servtdHash].initial = []
        for (index, value) in zip(layout.rtmrs, body.rtmrs) {
            descriptor.registers[index].initial = value
            descriptor.registers[index].flags = .liveReadable
        }
        return KernelGuestSetup.Found(
            provider: try KernelGuestSetup.register(descriptor, KernelTDXQuoteBackend(client: client, device: device)),
            summary: "tdx from TDX quotes of \(client.directory) (RTMRs read-only)")
    }

    /// The body of a TDX quote (v4); EIO, logged, when it does not parse.
    public static func quoteBody(_ quote: [UInt8], log: KernelLog) throws(Errno) -> TDXQuoteBody {
        do {
            return try TDXQuote.parse(quote).body
        } catch {
            log("parse outblob: not a TDX quote: \(error)")
            throw .ioError
        }
    }
}
