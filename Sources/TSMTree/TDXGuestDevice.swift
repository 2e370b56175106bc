import SystemPackage
import TSMModel

/// `/dev/tdx_guest`: the TDX guest misc device. Its one ioctl, `TDX_CMD_GET_REPORT0`
/// (`_IOWR('T', 1, struct tdx_report_req)` = 0xC4405401), takes 64 bytes of report data and
/// returns them followed by a 1024-byte TDREPORT made from the registers at that moment with
/// that report data. The device has no read or write methods (EINVAL), and answers other
/// ioctls with ENOTTY. Served as a 0600 regular file: FUSE cannot serve a device node.
public struct TDXGuestDevice: Attribute {
    public static let getReport0: UInt32 = 0xC440_5401
    static let reportDataSize = 64
    static let requestSize = 64 + 1024

    /// Makes a TDREPORT over the given report data (ENXIO, EIO, ... on failure).
    public typealias ReportMaker = @Sendable ([UInt8]) throws(Errno) -> [UInt8]

    let makeReport: ReportMaker
    public let permissions: UInt16 = 0o600
    public let size: UInt64 = 0

    public init(makeReport: @escaping ReportMaker) {
        self.makeReport = makeReport
    }

    public func read(offset: Int64, count: Int) throws(Errno) -> [UInt8] { throw .invalidArgument }
    public func write(offset: Int64, data: UnsafeRawBufferPointer) throws(Errno) -> Int { throw .invalidArgument }

    public func ioctl(command: UInt32, input: UnsafeRawBufferPointer, outputSize: Int) throws(Errno) -> [UInt8] {
        guard command == Self.getReport0 else { throw .inappropriateIOCTLForDevice }
        guard input.count >= Self.reportDataSize, outputSize >= Self.requestSize else { throw .badAddress }
        let reportData = Array(input.prefix(Self.reportDataSize))
        let report = try makeReport(reportData)
        return reportData + report
    }
}
