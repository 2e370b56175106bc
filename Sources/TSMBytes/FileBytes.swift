import Glibc

/// Why a file could not be read whole.
public enum FileReadError: Error, Sendable, Equatable, CustomStringConvertible {
    /// `open(2)` failed with `errno`.
    case cannotOpen(path: String, errno: Int32)
    /// `read(2)` failed with `errno` (EINTR is retried, never reported).
    case cannotRead(path: String, errno: Int32)
    /// The file holds more than `limit` bytes (or never ends, like `/dev/zero`).
    case tooLarge(path: String, limit: Int)

    /// The error number a caller that speaks errno should answer: the call's own, or EFBIG past
    /// the limit.
    public var errno: Int32 {
        switch self {
        case .cannotOpen(_, let errno), .cannotRead(_, let errno): return errno
        case .tooLarge: return EFBIG
        }
    }

    /// "PATH: cannot open: No such file or directory", "PATH: more than N bytes".
    public var description: String {
        switch self {
        case .cannotOpen(let path, let errno): return "\(path): cannot open: \(String(cString: strerror(errno)))"
        case .cannotRead(let path, let errno): return "\(path): cannot read: \(String(cString: strerror(errno)))"
        case .tooLarge(let path, let limit): return "\(path): more than \(limit) bytes"
        }
    }
}

/// The one whole-file reader of tsmfs: config files, evidence, event logs, sysfs and configfs
/// attributes. Every read has a size limit, so a huge file or a character device that never ends
/// costs at most `limit + 1` bytes of memory before it fails.
public enum FileBytes {
    /// A limit fit for the files tsmfs reads: configs, quotes with certificate chains, event logs.
    public static let defaultLimit = 16 << 20

    /// The whole of `path`, opened `O_RDONLY | O_CLOEXEC` and read to end of file. Throws
    /// ``FileReadError/tooLarge(path:limit:)`` as soon as more than `limit` bytes arrive.
    public static func read(path: String, limit: Int = defaultLimit) throws(FileReadError) -> [UInt8] {
        var fd: Int32
        repeat { fd = open(path, O_RDONLY | O_CLOEXEC) } while fd < 0 && Glibc.errno == EINTR
        guard fd >= 0 else { throw .cannotOpen(path: path, errno: Glibc.errno) }
        defer { close(fd) }
        return try read(descriptor: fd, path: path, limit: limit)
    }

    /// What remains of an open descriptor, read to end of file; `path` only names it in errors.
    /// The descriptor stays open.
    public static func read(descriptor fd: Int32, path: String, limit: Int = defaultLimit) throws(FileReadError)
        -> [UInt8]
    {
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            // Ask for one byte past the limit at most: getting it is the proof the file is too large.
            let wanted = min(chunk.count, max(limit, 0) + 1 - bytes.count)
            let count = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, wanted) }
            if count < 0 && Glibc.errno == EINTR { continue }
            guard count >= 0 else { throw .cannotRead(path: path, errno: Glibc.errno) }
            if count == 0 { return bytes }
            bytes += chunk[0..<count]
            guard bytes.count <= limit else { throw .tooLarge(path: path, limit: limit) }
        }
    }
}
