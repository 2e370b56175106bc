import Glibc

/// A datagram socket standing in for systemd's `$NOTIFY_SOCKET` (sd_notify(3)): a daemon given
/// its ``path`` says READY=1 once it serves and STOPPING=1 as it stops.
///
/// Bound at a path in a directory of the caller's (owner-only: mkdtemp's 0700), the socket itself
/// 0600. Every datagram received is kept in ``messages``.
public final class NotifySocket {
    public let path: String
    public let descriptor: Int32
    /// Every datagram received so far, in order.
    public private(set) var messages: [String] = []

    /// What ``wait(for:orEndOf:within:)`` saw.
    public enum Outcome: Equatable, Sendable {
        /// A datagram with the awaited line came (the whole datagram).
        case received(String)
        /// The process ended before it.
        case ended
        /// Neither within the deadline.
        case timedOut
    }

    /// Binds a new socket at `directory/name`.
    public init(directory: String, name: String = "notify") throws(NotifySocketError) {
        path = directory + "/" + name
        descriptor = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard descriptor >= 0 else { throw NotifySocketError(call: "socket", path: path, errno: errno) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let fits = withUnsafeMutableBytes(of: &address.sun_path) { buffer in
            guard path.utf8.count < buffer.count else { return false }
            for (index, byte) in path.utf8.enumerated() { buffer[index] = byte }
            return true
        }
        guard fits else {
            close(descriptor)
            throw NotifySocketError(call: "bind (path longer than sun_path)", path: path, errno: ENAMETOOLONG)
        }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        guard bound == 0, chmod(path, 0o600) == 0 else {
            let error = errno
            close(descriptor)
            throw NotifySocketError(call: "bind", path: path, errno: error)
        }
    }

    /// Waits for a datagram holding the line `line` (e.g. `READY=1`), the end of `process`, or
    /// `deadline`, whichever comes first. A datagram already queued counts even when the process
    /// has ended since (it said READY=1, then failed).
    public func wait(for line: String, orEndOf process: ProcessExit?, within deadline: Duration) -> Outcome {
        let clock = ContinuousClock(), end = clock.now + deadline
        while true {
            while let message = receive() {
                messages.append(message)
                if message.split(separator: "\n").contains(Substring(line)) { return .received(message) }
            }
            var entries = [pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)]
            if let process, process.descriptor >= 0 {
                entries.append(pollfd(fd: process.descriptor, events: Int16(POLLIN), revents: 0))
            } else if process != nil {
                return .ended  // gone before its pidfd could be opened
            }
            let left = clock.now.duration(to: end)
            let ready = poll(&entries, nfds_t(entries.count), max(0, milliseconds(left)))
            if ready < 0 && errno != EINTR { return .timedOut }
            if entries.count == 2 && entries[1].revents != 0 && entries[0].revents == 0 {
                // Ended: whatever it sent before is queued already; take a last look.
                while let message = receive() {
                    messages.append(message)
                    if message.split(separator: "\n").contains(Substring(line)) { return .received(message) }
                }
                return .ended
            }
            if ready == 0 && clock.now >= end { return .timedOut }
        }
    }

    /// The next queued datagram, without waiting; nil when none is.
    private func receive() -> String? {
        var buffer = [UInt8](repeating: 0, count: 4096)
        let count = buffer.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
        return count >= 0 ? String(decoding: buffer.prefix(count), as: UTF8.self) : nil
    }

    deinit {
        close(descriptor)
        unlink(path)
    }
}

/// A system call that setting up a ``NotifySocket`` needed failed.
public struct NotifySocketError: Error, CustomStringConvertible {
    public var call: String
    public var path: String
    public var errno: Int32
    public var description: String { "notify socket \(path): \(call): \(String(cString: strerror(errno)))" }
}
