import TSMBytes
import Glibc
import SystemPackage

/// Where the kernel backend logs: one line per failed kernel file operation, naming the file and
/// the error. The daemon hands in its logger; tests may collect the lines.
public typealias KernelLog = @Sendable (String) -> Void

/// Thin typed wrappers over the system calls the kernel backend makes on sysfs, configfs and
/// `/dev/tdx_guest` files. Every failure is the call's errno, logged with the file's path.
public struct KernelFiles: Sendable {
    public let log: KernelLog

    public init(log: @escaping KernelLog) {
        self.log = log
    }

    public func fail(_ operation: String, _ path: String, _ errno: Errno) -> Errno {
        log("\(operation) \(path): \(errno) (errno \(errno.rawValue))")
        return errno
    }

    /// Whether `path` exists (stat succeeds).
    public static func exists(_ path: String) -> Bool {
        var st = stat()
        return stat(path, &st) == 0
    }

    /// One file, read from offset 0 to its end. sysfs and configfs fill a file once per open, so
    /// one open covers the whole value.
    public func read(_ path: String) throws(Errno) -> [UInt8] {
        do {
            // configfs-tsm's outblob is the largest file read here (16 MiB in recent kernels).
            return try FileBytes.read(path: path, limit: 16 << 20)
        } catch {
            throw fail("read", path, Errno(rawValue: error.errno))
        }
    }

    /// One write of all of `bytes` at offset 0, then close. A short write is EIO. configfs stores a
    /// binary attribute only at close, and its result is lost there (ABI.md 4.3).
    public func write(_ path: String, _ bytes: [UInt8]) throws(Errno) {
        do {
            let fd = try FileDescriptor.open(FilePath(path), .writeOnly, retryOnInterrupt: true)
            try fd.closeAfter {
                let count = try bytes.withUnsafeBytes { try fd.write(toAbsoluteOffset: 0, $0, retryOnInterrupt: true) }
                if count != bytes.count { throw Errno.ioError }
            }
        } catch let error as Errno {
            throw fail("write", path, error)
        } catch {
            throw fail("write", path, .ioError)
        }
    }

    func makeDirectory(_ path: String) throws(Errno) {
        guard mkdir(path, 0o755) == 0 else { throw fail("mkdir", path, Errno(rawValue: errno)) }
    }

    func removeDirectory(_ path: String) throws(Errno) {
        guard rmdir(path) == 0 else { throw fail("rmdir", path, Errno(rawValue: errno)) }
    }

    /// `ioctl(fd, command, buffer)` on `path` opened read-write: `buffer` goes in and comes back
    /// as the driver filled it.
    public func ioctl(_ path: String, command: UInt32, buffer: [UInt8]) throws(Errno) -> [UInt8] {
        let fd = open(path, O_RDWR | O_CLOEXEC)
        guard fd >= 0 else { throw fail("open", path, Errno(rawValue: errno)) }
        defer { close(fd) }
        var data = buffer
        let rc = data.withUnsafeMutableBytes { (raw: UnsafeMutableRawBufferPointer) -> Int32 in
            guard let base = raw.baseAddress else { Glibc.errno = EFAULT; return -1 }
            return Glibc.ioctl(fd, UInt(command), base)
        }
        guard rc == 0 else { throw fail("ioctl \(String(command, radix: 16))", path, Errno(rawValue: errno)) }
        return data
    }
}
