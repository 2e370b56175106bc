import SystemPackage
import TSMModel

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
    /// `TDX_CMD_GET_REPORT0` = `_IOWR('T', 1, struct tdx_report_req)`.
    public static let getReport0: UInt32 = 0xC440_5401
    /// The registers the measurements directory holds, with their 6.16 file names.
    public static let files: [(register: String, file: String)] = [
        ("mrtd", "mrtd:sha384"), ("mrconfigid", "mrconfigid"), ("mrowner", "mrowner"),
        ("mrownerconfig", "mrownerconfig"), ("rtmr0", "rtmr0:sha384"), ("rtmr1", "rtmr1:sha384"),
        ("rtmr2", "rtmr2:sha384"), ("rtmr3", "rtmr3:sha384"),
    ]

    /// The absolute measurements directory.
    public let measurements: String
    /// The absolute `/dev/tdx_guest`, or nil when the kernel root has none.
    public let device: String?
    let kernel: KernelFiles

    public init(measurements: String, device: String?, log: @escaping KernelLog) {
        self.measurements = measurements
        self.device = device
        self.kernel = KernelFiles(log: log)
    }

    static func fileName(_ register: String) -> String? {
        files.first { $0.register == register }?.file
    }

    /// The current value of `register` from its measurements file; EIO unless it is 48 bytes.
    public func read(_ register: String) throws(Errno) -> [UInt8] {
        guard let file = Self.fileName(register) else { throw .noSuchFileOrDirectory }
        let path = measurements + "/" + file
        let bytes = try kernel.read(path)
        guard bytes.count == 48 else { throw kernel.fail("read (\(bytes.count) bytes, not 48)", path, .ioError) }
        return bytes
    }

    /// A TDREPORT over `reportData` from the device, or nil when there is no device.
    public func tdReport(reportData: [UInt8]) throws(Errno) -> [UInt8]? {
        guard let device else { return nil }
        let request = reportData + [UInt8](repeating: 0, count: TDReport.size)
        let answer = try kernel.ioctl(device, command: Self.getReport0, buffer: request)
        return Array(answer[64..<(64 + TDReport.size)])
    }

    public func refresh(_ registers: inout RegisterValues) throws(MRError) {
        do throws(Errno) {
            for index in 0..<4 { try load("rtmr\(index)", into: &registers) }
        } catch {
            throw .backend(error)
        }
        // Every derived register (report0) from the registers just read: the fallback, and what
        // the ioctl's answer replaces.
        try SoftwareBackend().refresh(&registers)
        do throws(Errno) {
            guard let report = registers.table.indexByName["report0"], let data = registers["reportdata"],
                  let answer = try tdReport(reportData: data) else { return }
            registers.values[report] = answer
        } catch {
            throw .backend(error)
        }
    }

    public func extend(_ index: Int, with data: [UInt8], in registers: inout RegisterValues) throws(MRError) {
        let name = registers.table.registers[index].name
        guard name.hasPrefix("rtmr"), let file = Self.fileName(name) else { throw .accessDenied }
        do throws(Errno) {
            try kernel.write(measurements + "/" + file, data)
            try load(name, into: &registers)
        } catch {
            throw .backend(error)
        }
    }

    private func load(_ name: String, into registers: inout RegisterValues) throws(Errno) {
        guard let index = registers.table.indexByName[name] else { return }
        registers.values[index] = try read(name)
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

    public func refresh(_ registers: inout RegisterValues) throws(MRError) {
        let reportData = registers["reportdata"] ?? [UInt8](repeating: 0, count: 64)
        do throws(Errno) {
            let quote = try client.report(inblob: reportData)
            let body = try KernelGuestSetup.quoteBody(quote, log: client.files.log)
            for (index, value) in body.rtmrs.enumerated() {
                if let slot = registers.table.indexByName["rtmr\(index)"] { registers.values[slot] = value }
            }
        } catch {
            throw .backend(error)
        }
        try SoftwareBackend().refresh(&registers)
        do throws(Errno) {
            guard let report = registers.table.indexByName["report0"],
                  let answer = try device.tdReport(reportData: reportData) else { return }
            registers.values[report] = answer
        } catch {
            throw .backend(error)
        }
    }

    public func extend(_ index: Int, with data: [UInt8], in registers: inout RegisterValues) throws(MRError) {
        throw .accessDenied
    }
}
