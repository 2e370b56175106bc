import Glibc

/// Why a socket address cannot be built.
public enum UnixSocketAddressError: Error, Sendable, Equatable, CustomStringConvertible {
    /// `bytes` bytes do not fit in `sun_path`, which holds at most `limit` (a pathname also needs
    /// its terminating NUL).
    case tooLong(path: String, bytes: Int, limit: Int)

    /// "socket path too long (N bytes, at most M): PATH".
    public var description: String {
        switch self {
        case .tooLong(let path, let bytes, let limit):
            return "socket path too long (\(bytes) bytes, at most \(limit)): \(path)"
        }
    }
}

/// A filled-in `sockaddr_un` (unix(7)) and the length to pass with it: a pathname socket, or one
/// in Linux's abstract namespace.
public struct UnixSocketAddress: Sendable {
    private var storage = sockaddr_un()
    /// The address length for `bind`, `connect` and `sendto`.
    public let length: socklen_t

    /// Bytes `sun_path` holds (108 on Linux).
    public static var pathCapacity: Int { MemoryLayout.size(ofValue: sockaddr_un().sun_path) }

    /// A pathname socket at `path`, NUL-terminated; the length is the whole structure's.
    public init(path: String) throws(UnixSocketAddressError) {
        let bytes = Array(path.utf8)
        guard bytes.count < Self.pathCapacity else {
            throw .tooLong(path: path, bytes: bytes.count, limit: Self.pathCapacity - 1)
        }
        self.length = socklen_t(MemoryLayout<sockaddr_un>.size)
        fill(bytes)
    }

    /// A socket in the abstract namespace: a NUL, then `name` (not NUL-terminated); the length
    /// counts exactly those bytes, as the kernel compares them all.
    public init(abstractName name: [UInt8]) throws(UnixSocketAddressError) {
        guard 1 + name.count <= Self.pathCapacity else {
            throw .tooLong(
                path: "@" + String(decoding: name, as: UTF8.self), bytes: 1 + name.count, limit: Self.pathCapacity)
        }
        self.length = socklen_t(MemoryLayout<sa_family_t>.size + 1 + name.count)
        fill([0] + name)
    }

    /// systemd's notation (`$NOTIFY_SOCKET`, `ss`): "@name" is abstract, anything else a path.
    public init(notation text: String) throws(UnixSocketAddressError) {
        if text.utf8.first == UInt8(ascii: "@") {
            try self.init(abstractName: Array(text.utf8.dropFirst()))
        } else {
            try self.init(path: text)
        }
    }

    /// Calls `body` with the address as a `sockaddr` pointer and its length.
    public func withSockaddr<Result, Failure: Error>(
        _ body: (UnsafePointer<sockaddr>, socklen_t) throws(Failure) -> Result
    ) throws(Failure) -> Result {
        var address = storage
        let length = length
        return try withUnsafePointer(to: &address) { (pointer) throws(Failure) -> Result in
            try pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { (raw) throws(Failure) -> Result in
                try body(raw, length)
            }
        }
    }

    private mutating func fill(_ bytes: [UInt8]) {
        storage.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &storage.sun_path) { buffer in
            for (index, byte) in bytes.enumerated() { buffer[index] = byte }
        }
    }
}
