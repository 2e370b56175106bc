import CLinux
import Glibc
import SystemPackage

/// One restricted ioctl on a regular file, as libfuse's low-level `ioctl` callback gives it.
///
/// The kernel (fs/fuse/ioctl.c, `fuse_do_ioctl`) copies `_IOC_SIZE(command)` bytes at ``argument``
/// in when the command's direction has `_IOC_WRITE` (``input``), and copies back at most
/// ``outputSize`` bytes of the reply when it has `_IOC_READ`. Memory the argument points at is not
/// copied: read and write it with ``CallerMemory`` on ``context``'s pid, as a driver's
/// `copy_from_user`/`copy_to_user` would.
public struct IoctlRequest: @unchecked Sendable {
    public var command: UInt32
    /// The `arg` of ioctl(2): an address in the caller (``context``'s pid).
    public var argument: UInt64
    /// The bytes the kernel copied in; valid only during the call.
    public var input: UnsafeRawBufferPointer
    /// The most the kernel copies back to ``argument``.
    public var outputSize: Int
    /// The caller (`fuse_req_ctx`): its pid, uid and gid.
    public var context: RequestContext

    public init(
        command: UInt32, argument: UInt64 = 0, input: UnsafeRawBufferPointer, outputSize: Int,
        context: RequestContext = RequestContext(uid: 0, gid: 0, pid: 0)
    ) {
        self.command = command
        self.argument = argument
        self.input = input
        self.outputSize = outputSize
        self.context = context
    }

    /// The caller's memory.
    public var callerMemory: CallerMemory { CallerMemory(pid: context.pid) }
}

/// The answer to an ioctl: `fuse_reply_ioctl(req, -errno, output, output.count)`. The kernel
/// copies `output` back to the argument even when ``error`` is set, then returns the error:
/// how a driver that fails after writing its struct (`exitinfo2`) is served.
public struct IoctlReply: Sendable, Equatable {
    /// nil: ioctl(2) returns 0; else it fails with this errno.
    public var error: Errno?
    /// Copied back to the argument (at most the request's `outputSize`); empty copies nothing.
    public var output: [UInt8]

    public init(_ output: [UInt8], error: Errno? = nil) {
        self.output = output
        self.error = error
    }
}

/// Another process's memory through `process_vm_readv(2)` and `process_vm_writev(2)`: the
/// `copy_from_user`/`copy_to_user` of an ioctl's pointers.
///
/// Reaching a process needs the right to ptrace it (PTRACE_MODE_ATTACH_REALCREDS): a root daemon
/// reaches every caller; a non-root daemon only processes of its own uid that are not set-id,
/// and not even those when `kernel.yama.ptrace_scope` is 2 or more. Failures answer EFAULT, as a
/// pointer that does not map would, and tell ``log`` why.
public struct CallerMemory: Sendable {
    /// The largest single copy (64 KiB): no driver emulated here copies more.
    public static let maximumCopy = 64 * 1024

    public let pid: Int32
    /// Where a failure's cause goes; stderr by default.
    public var log: @Sendable (String) -> Void

    public init(pid: Int32, log: @escaping @Sendable (String) -> Void = CallerMemory.standardError) {
        self.pid = pid
        self.log = log
    }

    /// Writes one line to standard error.
    public static let standardError: @Sendable (String) -> Void = { message in
        let line = Array((message + "\n").utf8)
        _ = line.withUnsafeBytes { Glibc.write(2, $0.baseAddress, $0.count) }
    }

    /// `count` bytes at `address` in the caller. EFAULT when the address is 0, the count is above
    /// ``maximumCopy``, or the memory cannot be read whole (unmapped, or the process unreachable).
    public func read(_ address: UInt64, count: Int) throws(Errno) -> [UInt8] {
        try check(address, count: count, "read")
        var buffer = [UInt8](repeating: 0, count: count)
        guard count > 0 else { return buffer }
        let copied = buffer.withUnsafeMutableBytes { bytes -> Int in
            var local = iovec(iov_base: bytes.baseAddress, iov_len: count)
            var remote = iovec(iov_base: UnsafeMutableRawPointer(bitPattern: UInt(address)), iov_len: count)
            return clinux_process_vm_readv(pid, &local, 1, &remote, 1)
        }
        try finish(copied, count: count, address: address, "read")
        return buffer
    }

    /// Writes `bytes` at `address` in the caller. EFAULT as for ``read(_:count:)``; a partial
    /// write (the end of a mapping) is EFAULT too, as `copy_to_user` reports it.
    public func write(_ bytes: [UInt8], at address: UInt64) throws(Errno) {
        try check(address, count: bytes.count, "write")
        guard !bytes.isEmpty else { return }
        var source = bytes
        let copied = source.withUnsafeMutableBytes { data -> Int in
            var local = iovec(iov_base: data.baseAddress, iov_len: data.count)
            var remote = iovec(iov_base: UnsafeMutableRawPointer(bitPattern: UInt(address)), iov_len: data.count)
            return clinux_process_vm_writev(pid, &local, 1, &remote, 1)
        }
        try finish(copied, count: bytes.count, address: address, "write")
    }

    private func check(_ address: UInt64, count: Int, _ verb: String) throws(Errno) {
        guard count >= 0, count <= Self.maximumCopy else {
            log("caller memory: \(verb) of \(count) bytes in pid \(pid) refused: the limit is \(Self.maximumCopy)")
            throw .badAddress
        }
        guard address != 0 || count == 0 else { throw .badAddress }
    }

    private func finish(_ copied: Int, count: Int, address: UInt64, _ verb: String) throws(Errno) {
        if copied == count { return }
        let place = "\(count) bytes at 0x\(String(address, radix: 16)) in pid \(pid)"
        if copied < 0 {
            let cause = Errno(rawValue: Glibc.errno)
            switch cause {
            case .badAddress: break  // an unmapped address: the caller's mistake, EFAULT says it all
            case .notPermitted:
                log("caller memory: cannot \(verb) \(place): not permitted (ptrace access: another uid, set-id, Yama)")
            case .noSuchProcess:
                log("caller memory: cannot \(verb) \(place): the process is gone")
            default:
                log("caller memory: cannot \(verb) \(place): \(cause)")
            }
        }
        throw .badAddress
    }
}
