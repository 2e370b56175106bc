import FuseKit
import SystemPackage

/// A misc device with one `_IOWR` ioctl, such as `/dev/tdx_guest` (`TDX_CMD_GET_REPORT0`): the
/// request's first `inputSize` bytes go to `answer`, whose bytes are copied back to the caller.
/// The device has no read or write methods (EINVAL) and answers other ioctls with ENOTTY, a
/// buffer smaller than the request with EFAULT. Served as a 0600 regular file: FUSE cannot serve
/// a device node.
public struct IoctlDevice: Attribute {
    /// Answers one request's input bytes (ENXIO, EIO, ... on failure).
    public typealias Answer = @Sendable ([UInt8]) throws(Errno) -> [UInt8]

    public let command: UInt32
    let inputSize: Int
    let requestSize: Int
    let answer: Answer
    public let permissions: UInt16 = 0o600
    public let size: UInt64 = 0

    /// - Parameters:
    ///   - command: the one ioctl number served.
    ///   - inputSize: the bytes of the request the driver reads.
    ///   - requestSize: the whole request (`sizeof` the ioctl's struct), which the caller's
    ///     buffer must hold.
    public init(command: UInt32, inputSize: Int, requestSize: Int, answer: @escaping Answer) {
        self.command = command
        self.inputSize = inputSize
        self.requestSize = requestSize
        self.answer = answer
    }

    public func read(offset: Int64, count: Int) throws(Errno) -> [UInt8] { throw .invalidArgument }
    public func write(offset: Int64, data: UnsafeRawBufferPointer) throws(Errno) -> Int { throw .invalidArgument }

    public func ioctl(_ request: IoctlRequest) throws(Errno) -> IoctlReply {
        guard request.command == command else { throw .inappropriateIOCTLForDevice }
        guard request.input.count >= inputSize, request.outputSize >= requestSize else { throw .badAddress }
        return IoctlReply(try answer(Array(request.input.prefix(inputSize))))
    }
}
