import FuseKit
import SystemPackage
import TSMBytes
import TSMEvidence
import TSMModel
import TSMTree

/// `/dev/tdx_guest` as Intel's out-of-tree TDX guest driver serves it (`--tdx-driver intel`: the
/// driver of Intel's TDX kernels before configfs-tsm, drivers/virt/coco/tdx-guest with
/// `tdx_get_quote` and `tdx_extend_rtmr`): upstream's `TDX_CMD_GET_REPORT0`, and
///
/// - `TDX_CMD_EXTEND_RTMR` (`_IOR('T', 3, struct tdx_extend_rtmr_req)`: 48 bytes of data, then
///   the RTMR index): extends the `tdx` provider's RTMR, the register the RFC v2 tree, the 6.16
///   files and the event log show. EPERM for RTMR 0 and 1 (the firmware's and the kernel's),
///   EINVAL past RTMR 3 (the TDCALL's invalid operand), a backend's errno as it comes.
/// - `TDX_CMD_GET_QUOTE` (`_IOR('T', 4, struct tdx_quote_req)`: `{u64 buf, u64 len}`): the
///   shared buffer at `buf` (``TDXQuoteBuffer``) read, answered by the VMM and QGS, and `len`
///   bytes of it written back. EINVAL for `len` 0, EIO for a buffer the VMM refuses (a version
///   other than 1, `in_len` past the buffer, `len` over 128 KiB); a framing QGS cannot read, or a
///   refusal, is told in the buffer's status and message, with ioctl(2) returning 0.
///
/// Both are declared `_IOR` although they carry input: FUSE copies nothing in, so the request is
/// read at the argument pointer in the caller (``CallerMemory``), and nothing is copied back
/// through FUSE. EFAULT for memory that cannot be reached; ENOTTY for other requests. No read or
/// write method (EINVAL). Served as a 0600 regular file: FUSE cannot serve a device node.
public struct IntelTDXGuestDevice: Attribute {
    /// `TDX_CMD_EXTEND_RTMR` = `_IOR('T', 3, struct tdx_extend_rtmr_req)`: EFAULT, EPERM (RTMR 0,
    /// 1), EINVAL (past RTMR 3), or the backend's errno.
    public static let extendRTMR: UInt32 = 0x8031_5403
    /// `TDX_CMD_GET_QUOTE` = `_IOR('T', 4, struct tdx_quote_req)`: EINVAL (`len` 0), EFAULT, EIO
    /// (the VMM refuses the buffer); other failures are in the buffer's status and message.
    public static let getQuote: UInt32 = 0x8010_5404
    /// `sizeof(struct tdx_extend_rtmr_req)`: data[48], index.
    static let extendRequestSize = 49
    /// `sizeof(struct tdx_quote_req)`: buf, len.
    static let quoteRequestSize = 16

    public let permissions: UInt16 = 0o600
    public let size: UInt64 = 0
    /// Upstream's TDREPORT ioctl, which Intel's driver keeps.
    let report0: IoctlDevice
    /// RTMR0...RTMR3 of the `tdx` provider.
    let rtmrs: [RegisterHandle]
    /// The quoting enclave: the quote of a TDREPORT, nil when it refuses the report.
    let quote: @Sendable ([UInt8]) -> [UInt8]?

    /// - Parameters:
    ///   - report0: the `TDX_CMD_GET_REPORT0` device the upstream driver would serve.
    ///   - rtmrs: RTMR0...RTMR3, in order.
    ///   - quote: a TDREPORT's quote, or nil (the QE's refusal: QGS_MSG_ERROR_UNEXPECTED).
    public init(report0: IoctlDevice, rtmrs: [RegisterHandle], quote: @escaping @Sendable ([UInt8]) -> [UInt8]?) {
        self.report0 = report0
        self.rtmrs = rtmrs
        self.quote = quote
    }

    public func read(offset: Int64, count: Int) throws(Errno) -> [UInt8] { throw .invalidArgument }
    public func write(offset: Int64, data: UnsafeRawBufferPointer) throws(Errno) -> Int { throw .invalidArgument }

    public func ioctl(_ request: IoctlRequest) throws(Errno) -> IoctlReply {
        switch request.command {
        case report0.command: return try report0.ioctl(request)
        case Self.extendRTMR: try extend(at: request.argument, request.callerMemory)
        case Self.getQuote: try getQuote(at: request.argument, request.callerMemory)
        default: throw .inappropriateIOCTLForDevice
        }
        return IoctlReply([])
    }

    /// `tdx_extend_rtmr`.
    private func extend(at address: UInt64, _ memory: CallerMemory) throws(Errno) {
        let request = try memory.read(address, count: Self.extendRequestSize)
        let index = Int(request[48])
        guard index >= 2 else { throw .notPermitted }
        guard index < rtmrs.count else { throw .invalidArgument }
        let rtmr = rtmrs[index]
        let failure = Array(request[0..<48]).withUnsafeBytes { data -> MRError? in
            do throws(MRError) {
                _ = try rtmr.provider.extend(rtmr.index, offset: 0, data: data)
                return nil
            } catch {
                return error
            }
        }
        if let failure { throw failure.errno }
    }

    /// `tdx_get_quote`: the request, the shared buffer (page-aligned, zero-padded, as the driver
    /// allocates it), the VMM's and QGS's answer, `len` bytes back.
    private func getQuote(at address: UInt64, _ memory: CallerMemory) throws(Errno) {
        let request = try memory.read(address, count: Self.quoteRequestSize)
        let buffer = UInt64(littleEndianBytes: request[0..<8])
        let length = UInt64(littleEndianBytes: request[8..<16])
        guard length > 0 else { throw .invalidArgument }
        guard length <= UInt64(TDXQuoteBuffer.maximumLength) else { throw .ioError }
        let count = Int(length)
        var shared = try Self.read(memory, at: buffer, count: count)
        let page = TDXQuoteBuffer.pageSize
        shared += [UInt8](repeating: 0, count: (count + page - 1) / page * page - count)
        let answered: [UInt8]
        switch TDXQuoteBuffer.parse(shared) {
        case .refused:
            throw .ioError
        case .failed(let status):
            answered = TDXQuoteBuffer.failing(shared, status: status)
        case .refusedByQGS(let error):
            answered = TDXQuoteBuffer.answering(shared, quote: [], error: error)
        case .quote(let tdReport):
            if let quote = quote(tdReport) {
                answered = TDXQuoteBuffer.answering(shared, quote: quote)
            } else {
                answered = TDXQuoteBuffer.answering(shared, quote: [], error: TDXQuoteBuffer.qgsErrorUnexpected)
            }
        }
        try Self.write(memory, Array(answered[0..<count]), at: buffer)
    }

    /// `count` bytes at `address`, in copies ``CallerMemory`` takes.
    static func read(_ memory: CallerMemory, at address: UInt64, count: Int) throws(Errno) -> [UInt8] {
        var bytes: [UInt8] = []
        while bytes.count < count {
            let chunk = min(CallerMemory.maximumCopy, count - bytes.count)
            let (next, overflow) = address.addingReportingOverflow(UInt64(bytes.count))
            guard !overflow else { throw .badAddress }
            bytes += try memory.read(next, count: chunk)
        }
        return bytes
    }

    /// `bytes` written at `address`, in copies ``CallerMemory`` takes.
    static func write(_ memory: CallerMemory, _ bytes: [UInt8], at address: UInt64) throws(Errno) {
        var done = 0
        while done < bytes.count {
            let chunk = min(CallerMemory.maximumCopy, bytes.count - done)
            let (next, overflow) = address.addingReportingOverflow(UInt64(done))
            guard !overflow else { throw .badAddress }
            try memory.write(Array(bytes[done..<done + chunk]), at: next)
            done += chunk
        }
    }
}
