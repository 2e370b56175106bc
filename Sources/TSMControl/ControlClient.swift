import Glibc
import SystemPackage
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
        guard connected == 0 else { throw Failure(message: unreachable(path, Errno(rawValue: errno))) }
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

    /// Why `connect` to the socket at `path` failed, and what to do.
    static func unreachable(_ path: String, _ error: Errno) -> String {
        let base = "cannot reach the control socket \(path): \(error) (errno \(error.rawValue))"
        var st = stat()
        switch error {
        case .permissionDenied where lstat(path, &st) == 0:
            return base + "; it is owner-only and belongs to uid \(st.st_uid), this is uid \(getuid()): "
                + "run ctl as that user (or root)"
        case .permissionDenied:
            return base + "; a directory on the way is not searchable by uid \(getuid()): run ctl as the mount's user"
        case .noSuchFileOrDirectory:
            return base + "; no mount made one there: is it running, and did it get another --control?"
        case .connectionRefused:
            return base + "; nothing listens on it: the mount that made it has ended"
        default:
            return base
        }
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
            let candidates: [String]
            do throws(ControlSocketPath.Problem) {
                candidates = try ControlSocketPath.candidatePaths(for: mount ?? "")
            } catch {
                throw Failure(message: error.description)
            }
            var st = stat()
            // The first that exists or that this user may not see (root's directory is 0700: the
            // connect then says EACCES, naming it); none: this user's, whose message says so.
            path = candidates.first { lstat($0, &st) == 0 || errno == EACCES } ?? candidates[0]
        }
        let reply = try send(request, to: path, replyTimeout: timeout)
        let last = reply.split(separator: "\n").last.map(String.init) ?? ""
        return (reply, last.hasPrefix("ok"))
    }
}
