import SystemPackage
import TSMBackends
import TSMEvidence
import TSMModel

/// Which registers of the `tdx` table the kernel backend reads, extends and rebuilds: resolved
/// once from the table, so no refresh or extend looks a register up by name.
public struct KernelTDXLayout: Sendable {
    /// The 6.16 file of each register the measurements directory holds, by register index.
    public let files: [Int: String]
    public let mrtd, mrconfigid, mrowner, mrownerconfig: Int
    public let rtmrs: [Int]
    public let servtdHash: Int
    public let reportData: Int
    public let report0: Int

    public init(_ table: RegisterTable) throws(RegisterBindingError) {
        let face = "the kernel backend"
        var files: [Int: String] = [:]
        for file in TDXDevices.tdxGuest.files {
            guard let index = table.indexByName[file.register] else {
                throw RegisterBindingError(
                    face: face, provider: table.name, need: .digest(file.register, .sha384), problem: .missingRegister)
            }
            files[index] = file.name
        }
        var rtmrs: [Int] = []
        for need in TDXRegisters.rtmrs { rtmrs.append(try table.index(of: need, for: face)) }
        self.files = files
        self.rtmrs = rtmrs
        mrtd = try table.index(of: TDXRegisters.mrtd, for: face)
        mrconfigid = try table.index(of: TDXRegisters.mrconfigid, for: face)
        mrowner = try table.index(of: TDXRegisters.mrowner, for: face)
        mrownerconfig = try table.index(of: TDXRegisters.mrownerconfig, for: face)
        servtdHash = try table.index(of: TDXRegisters.servtdHash, for: face)
        reportData = try table.index(of: TDXRegisters.reportData, for: face)
        report0 = try table.index(of: TDXRegisters.report0, for: face)
    }
}

/// The `tdx` provider backed by a real TDX guest kernel (6.16+): the RTMRs are the files of
/// `/sys/devices/virtual/misc/tdx_guest/measurements/` (ABI.md 3.6), and `report0` is a TDREPORT
/// from the `/dev/tdx_guest` `TDX_CMD_GET_REPORT0` ioctl over the `reportdata` register.
///
/// - `refresh` (`tsm_measurement.refresh`) re-reads `rtmr0:sha384` ... `rtmr3:sha384` and rebuilds
///   `report0`: from the ioctl when the device exists, else laid out from the registers as the
///   software model does (same TDREPORT offsets, but no MAC and no TEE_TCB_INFO).
/// - `extend` (`tsm_measurement.extend`) writes the 48 bytes to `rtmrN:sha384` at offset 0 (the
///   kernel runs TDG.MR.RTMR.EXTEND), then re-reads the register's value.
///
/// A failed read, write or ioctl fails the tsmfs read or write with the kernel's errno (ENXIO,
/// EBUSY, EIO, EINTR, ...); a value of the wrong size is EIO. Each failure is logged with the file.
public struct KernelTDXBackend: MeasurementBackend {
    /// The 6.16 measurements directory, relative to the kernel root.
    public static let measurementsPath = "sys/devices/virtual/misc/tdx_guest/measurements"
    /// The TDX guest device, relative to the kernel root.
    public static let devicePath = "dev/tdx_guest"

    /// The absolute measurements directory.
    public let measurements: String
    /// The absolute `/dev/tdx_guest`, or nil when the kernel root has none.
    public let device: String?
    public let layout: KernelTDXLayout
    let kernel: KernelFiles

    public init(measurements: String, device: String?, layout: KernelTDXLayout, log: @escaping KernelLog) {
        self.measurements = measurements
        self.device = device
        self.layout = layout
        self.kernel = KernelFiles(log: log)
    }

    /// The current value of the 6.16 file `file`; EIO unless it is 48 bytes.
    public func read(file: String) throws(Errno) -> [UInt8] {
        let path = measurements + "/" + file
        let bytes = try kernel.read(path)
        guard bytes.count == 48 else { throw kernel.fail("read (\(bytes.count) bytes, not 48)", path, .ioError) }
        return bytes
    }

    /// A TDREPORT over `reportData` from the device, or nil when there is no device.
    public func tdReport(reportData: [UInt8]) throws(Errno) -> [UInt8]? {
        guard let device else { return nil }
        let request = reportData + [UInt8](repeating: 0, count: TDReport.size)
        let answer = try kernel.ioctl(device, command: TDReport.getReport0Command, buffer: request)
        return Array(answer[TDReport.reportDataSize..<TDReport.requestSize])
    }

    /// The kernel can fail a read or a report.
    public var refreshMayFail: Bool { true }

    public func refresh(_ registers: inout RegisterValues) throws(MRError) {
        do throws(Errno) {
            for index in layout.rtmrs { try load(index, into: &registers) }
        } catch {
            throw .backend(error)
        }
        // Every derived register (report0) from the registers just read: the fallback, and what
        // the ioctl's answer replaces.
        try SoftwareBackend().refresh(&registers)
        do throws(Errno) {
            guard let answer = try tdReport(reportData: registers.values[layout.reportData]) else { return }
            registers.values[layout.report0] = answer
        } catch {
            throw .backend(error)
        }
    }

    public func extend(_ index: Int, with data: [UInt8], in registers: inout RegisterValues) throws(MRError) {
        guard layout.rtmrs.contains(index), let file = layout.files[index] else { throw .accessDenied }
        do throws(Errno) {
            try kernel.write(measurements + "/" + file, data)
            try load(index, into: &registers)
        } catch {
            throw .backend(error)
        }
    }

    private func load(_ index: Int, into registers: inout RegisterValues) throws(Errno) {
        guard let file = layout.files[index] else { return }
        registers.values[index] = try read(file: file)
    }
}

/// The `tdx` provider backed by configfs-tsm only (a TDX kernel before 6.16, without the
/// measurements files): every refresh asks for a quote over the `reportdata` register and takes
/// the RTMRs from its body; `report0` is laid out from the registers (or comes from the
/// `/dev/tdx_guest` ioctl when present). The kernel offers no RTMR extend here, so the RTMRs are
/// served read-only and this backend refuses extends with EACCES.
public struct KernelTDXQuoteBackend: MeasurementBackend {
    let client: ConfigfsReportClient
    let device: KernelTDXBackend

    public init(client: ConfigfsReportClient, device: KernelTDXBackend) {
        self.client = client
        self.device = device
    }

    /// The kernel can fail a read or a report.
    public var refreshMayFail: Bool { true }

    public func refresh(_ registers: inout RegisterValues) throws(MRError) {
        let layout = device.layout
        let reportData = registers.values[layout.reportData]
        do throws(Errno) {
            let quote = try client.report(inblob: reportData)
            let body = try TDXKernel.quoteBody(quote, log: client.files.log)
            for (index, value) in zip(layout.rtmrs, body.rtmrs) { registers.values[index] = value }
        } catch {
            throw .backend(error)
        }
        try SoftwareBackend().refresh(&registers)
        do throws(Errno) {
            guard let answer = try device.tdReport(reportData: reportData) else { return }
            registers.values[layout.report0] = answer
        } catch {
            throw .backend(error)
        }
    }

    public func extend(_ index: Int, with data: [UInt8], in registers: inout RegisterValues) throws(MRError) {
        throw .accessDenied
    }
}
