import Glibc
import TSMBytes

/// The client side of the control socket (`tsmfs ctl`): one request line out, the reply back,
/// with a deadline so a stuck daemon cannot hang the caller.
public enum ControlClient {
    /// Why no reply could be had; the description is the user's message.
    public struct Failure: Error, CustomStringConvertible {
        public let message: String
        public var description: String { message }
    }

    /// How long ctl waits for the daemon's reply by default.
    public static let defaultTimeout = 10

    /// Sends one request line and returns the whole reply.
    public static func send(_ request: String, to path: String, replyTimeout: Int = defaultTimeout) throws(Failure)
        -> String
    {
        let fd = Glibc.socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw Failure(message: "socket: errno \(errno)") }
        defer { close(fd) }
        guard let address = try? UnixSocketAddress(path: path) else {
            throw Failure(message: "socket path too long: \(path)")
        }
        let connected = address.withSockaddr { connect(fd, $0, $1) }
        // A daemon that accepts and never answers must not hang ctl.
        var timeout = timeval(tv_sec: Int(replyTimeout), tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        guard connected == 0 else {
            throw Failure(message: "cannot reach the control socket \(path): errno \(errno) (is the mount running?)")
        }
        let line = Array((request + "\n").utf8)
        _ = line.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        var reply: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count < 0 && errno == EINTR { continue }
            if count < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) {
                throw Failure(
                    message: "no reply from the control socket \(path) within \(replyTimeout) s (is the mount stuck?)")
            }
            if count <= 0 { break }
            reply += chunk[0..<count]
            guard reply.count <= 1 << 20 else {
                throw Failure(message: "the control socket \(path) sent more than 1 MiB; giving up")
            }
        }
        return String(decoding: reply, as: UTF8.self)
    }

    /// `tsmfs ctl`: sends `request` to `socket`, or to the default control socket of `mount`
    /// when no socket is given, and returns the reply and whether it succeeded (its last line
    /// begins with `ok`).
    public static func request(
        _ request: String, socket: String?, mount: String?,
        timeout: Int = defaultTimeout
    ) throws(Failure) -> (reply: String, ok: Bool) {
        let path: String
        if let socket {
            path = socket
        } else {
            do throws(ControlSocketPath.Problem) {
                path = try ControlSocketPath.defaultPath(for: mount ?? "")
            } catch {
                throw Failure(message: error.description)
            }
        }
        let reply = try send(request, to: path, replyTimeout: timeout)
        let last = reply.split(separator: "\n").last.map(String.init) ?? ""
        return (reply, last.hasPrefix("ok"))
    }
}
