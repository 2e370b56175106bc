import FuseKit
import SystemPackage
import TSMBytes
import TSMTree

/// `/dev/sev-guest`, the SEV-SNP guest driver's misc device (drivers/virt/coco/sev-guest), with
/// `SNP_GET_REPORT`, `SNP_GET_DERIVED_KEY` and `SNP_GET_EXT_REPORT` as `snp_guest_ioctl` answers
/// them. FUSE copies the 32-byte `snp_guest_request_ioctl` in and out; the buffers it points at
/// are read and written in the caller (``CallerMemory``), as the driver's
/// `copy_from_user`/`copy_to_user`.
///
/// Errno as the driver returns them: EINVAL for `msg_version` 0 (nothing copied back), a null
/// `req_data`/`resp_data`, or a `certs_len` above 16 KiB or not page-aligned; EFAULT for memory
/// that cannot be reached; ENOTTY for other requests; EIO (or 0, on 6.1-6.2) for a certificate
/// buffer too small. `exitinfo2` is 0xff before dispatch and goes back whenever it is not 0.
/// No read or write method (EINVAL). Served as a 0600 regular file: FUSE cannot serve a device.
public struct SNPGuestDevice: Attribute {
    public static let getReport: UInt32 = 0xC020_5300
    public static let getDerivedKey: UInt32 = 0xC020_5301
    public static let getExtReport: UInt32 = 0xC020_5302
    /// `sizeof(struct snp_guest_request_ioctl)`.
    static let ioctlSize = 32
    /// `SEV_FW_BLOB_MAX_SIZE`: the largest certificate buffer the driver takes.
    static let certificateBufferMax = 16 * 1024
    static let pageSize = 4096
    /// `SNP_GUEST_VMM_ERR(SNP_GUEST_VMM_ERR_INVALID_LEN)`.
    static let vmmInvalidLength: UInt64 = 1 << 32

    public let permissions: UInt16 = 0o600
    public let size: UInt64 = 0
    let firmware: SNPFirmware
    /// 6.1-6.2 answer the certificate sizing call with 0 and a report; other releases with EIO.
    let sizingSucceeds: Bool

    init(firmware: SNPFirmware, sizingSucceeds: Bool) {
        self.firmware = firmware
        self.sizingSucceeds = sizingSucceeds
    }

    public func read(offset: Int64, count: Int) throws(Errno) -> [UInt8] { throw .invalidArgument }
    public func write(offset: Int64, data: UnsafeRawBufferPointer) throws(Errno) -> Int { throw .invalidArgument }

    /// `struct snp_guest_request_ioctl`.
    struct Request {
        var msgVersion: UInt8
        var reqData: UInt64
        var respData: UInt64
        var exitinfo2: UInt64

        init(_ bytes: [UInt8]) {
            msgVersion = bytes[0]
            reqData = UInt64(littleEndianBytes: bytes[8..<16])
            respData = UInt64(littleEndianBytes: bytes[16..<24])
            exitinfo2 = UInt64(littleEndianBytes: bytes[24..<32])
        }

        func encoded(over original: [UInt8]) -> [UInt8] {
            // The padding after msg_version goes back as it came.
            Array(original[0..<8]) + reqData.littleEndianBytes + respData.littleEndianBytes
                + exitinfo2.littleEndianBytes
        }
    }

    public func ioctl(_ request: IoctlRequest) throws(Errno) -> IoctlReply {
        let memory = request.callerMemory
        // copy_from_user(&input, argp, sizeof(input)), whatever the command's own size.
        let original =
            request.input.count >= Self.ioctlSize
            ? Array(request.input.prefix(Self.ioctlSize))
            : try memory.read(request.argument, count: Self.ioctlSize)
        var input = Request(original)
        input.exitinfo2 = 0xff
        guard input.msgVersion != 0 else { throw .invalidArgument }
        var result: Errno?
        do throws(Errno) {
            switch request.command {
            case Self.getReport: try getReport(&input, memory)
            case Self.getDerivedKey: try getDerivedKey(&input, memory)
            case Self.getExtReport: try getExtReport(&input, memory)
            default: throw .inappropriateIOCTLForDevice
            }
        } catch {
            result = error
        }
        // copy_to_user(argp, &input, sizeof(input)) only when exitinfo2 is set.
        guard input.exitinfo2 != 0 else { return IoctlReply([], error: result) }
        let back = input.encoded(over: original)
        if request.outputSize >= Self.ioctlSize { return IoctlReply(back, error: result) }
        // A command whose _IOC size is smaller (an unknown number): the driver still writes 32.
        try memory.write(back, at: request.argument)
        return IoctlReply([], error: result)
    }

    private func getReport(_ input: inout Request, _ memory: CallerMemory) throws(Errno) {
        guard input.reqData != 0, input.respData != 0 else { throw .invalidArgument }
        let request = try memory.read(input.reqData, count: SNPFirmware.reportRequestSize)
        let response = try firmware.report(request)
        input.exitinfo2 = 0
        try memory.write(response, at: input.respData)
    }

    private func getDerivedKey(_ input: inout Request, _ memory: CallerMemory) throws(Errno) {
        guard input.reqData != 0, input.respData != 0 else { throw .invalidArgument }
        let request = try memory.read(input.reqData, count: SNPFirmware.keyRequestSize)
        let response = firmware.derivedKey(request)
        input.exitinfo2 = 0
        try memory.write(response, at: input.respData)
    }

    /// `get_ext_report`: `snp_ext_report_req` is the report request, `certs_address` (u64 at 96)
    /// and `certs_len` (u32 at 104), 112 bytes.
    private func getExtReport(_ input: inout Request, _ memory: CallerMemory) throws(Errno) {
        guard input.reqData != 0, input.respData != 0 else { throw .invalidArgument }
        var extRequest = try memory.read(input.reqData, count: 112)
        let certsAddress = UInt64(littleEndianBytes: extRequest[96..<104])
        let certsLength = Int(UInt32(littleEndianBytes: extRequest[104..<108]))
        let wantsCertificates = certsLength != 0 && certsAddress != 0
        if wantsCertificates {
            guard certsLength <= Self.certificateBufferMax, certsLength % Self.pageSize == 0 else {
                throw .invalidArgument
            }
        }
        let pages = wantsCertificates ? certsLength / Self.pageSize : 0
        let (response, table) = try firmware.extendedReport(Array(extRequest[0..<96]))
        let needed = (table.count + Self.pageSize - 1) / Self.pageSize * Self.pageSize
        if needed > pages * Self.pageSize {
            // The host refuses the buffer and says how many pages it needs; the driver reissues
            // the request without certificates (so a report exists) and writes the length back.
            input.exitinfo2 = Self.vmmInvalidLength
            extRequest.replaceSubrange(104..<108, with: UInt32(needed).littleEndianBytes)
            try memory.write(extRequest, at: input.reqData)
            guard sizingSucceeds else { throw .ioError }
            if pages > 0 { try memory.write([UInt8](repeating: 0, count: certsLength), at: certsAddress) }
            try memory.write(response, at: input.respData)
            return
        }
        input.exitinfo2 = 0
        if pages > 0 {
            try memory.write(table + [UInt8](repeating: 0, count: certsLength - table.count), at: certsAddress)
        }
        try memory.write(response, at: input.respData)
    }
}
