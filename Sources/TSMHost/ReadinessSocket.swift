import CLinux
import Glibc
import SystemPackage
import TSMBytes

/// The `$NOTIFY_SOCKET` `tsmfs exec` gives its sysroot daemon: a datagram socket in exec's
/// private directory (0700, so only its owner reaches it), on which the daemon's sd_notify
/// READY=1 says the mount serves. Readiness is observed, not polled: one poll(2) on this socket
/// and the daemon's pidfd, until READY=1, the daemon's end or the deadline.
struct ReadinessSocket {
    let fd: Int32
    let path: String

    /// Binds a new socket at `path` (never an existing file).
    init(path: String) throws(ExecSession.Failure) {
        let address: UnixSocketAddress
        do { address = try UnixSocketAddress(path: path) } catch {
            throw .setUp("cannot make the readiness socket \(path): \(error)")
        }
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw .setUp("cannot make the readiness socket: \(Errno(rawValue: errno))") }
        guard address.withSockaddr({ bind(fd, $0, $1) }) == 0 else {
            let error = Errno(rawValue: errno)
            Glibc.close(fd)
            throw .setUp("cannot bind the readiness socket \(path): \(error)")
        }
        self.fd = fd
        self.path = path
    }

    /// Starts `start` with `$NOTIFY_SOCKET` naming this socket (the variable as it was restored
    /// after, so the command still sees the one it was given, if any).
    func withNotifySocket<Result>(_ start: () throws(ExecSession.Failure) -> Result) throws(ExecSession.Failure)
        -> Result
    {
        let saved = getenv("NOTIFY_SOCKET").map { String(cString: $0) }
        setenv("NOTIFY_SOCKET", path, 1)
        defer {
            if let saved { setenv("NOTIFY_SOCKET", saved, 1) } else { unsetenv("NOTIFY_SOCKET") }
        }
        return try start()
    }

    /// Waits for READY=1 from `daemon`, its end (an error naming its status) or `seconds`.
    func waitForReady(_ daemon: ChildProcess, seconds: Int) throws(ExecSession.Failure) {
        let pidfd = clinux_pidfd_open(daemon.pid)
        defer { if pidfd >= 0 { Glibc.close(pidfd) } }
        var fds = [
            pollfd(fd: fd, events: Int16(POLLIN), revents: 0), pollfd(fd: pidfd, events: Int16(POLLIN), revents: 0),
        ]
        let clock = ContinuousClock()
        let deadline = clock.now + .seconds(seconds)
        var buffer = [UInt8](repeating: 0, count: 4096)
        while clock.now < deadline {
            let left = deadline - clock.now
            let milliseconds = Int32(
                left.components.seconds * 1000 + left.components.attoseconds / 1_000_000_000_000_000)
            // Without a pidfd (a kernel before 5.3), the daemon's end is checked each second.
            let ready = poll(
                &fds, pidfd >= 0 ? 2 : 1, pidfd >= 0 ? max(milliseconds, 1) : min(max(milliseconds, 1), 1000))
            if ready < 0 && errno != EINTR { throw .setUp("waiting for the sysroot daemon: \(Errno(rawValue: errno))") }
            if fds[0].revents & Int16(POLLIN) != 0 {
                let count = recv(fd, &buffer, buffer.count, Int32(MSG_DONTWAIT))
                let message = count > 0 ? String(decoding: buffer[0..<count], as: UTF8.self) : ""
                if message.split(separator: "\n").contains("READY=1") { return }
            }
            if let status = daemon.poll() {
                throw .setUp("the sysroot daemon exited with status \(status) before mounting")
            }
        }
        throw .setUp("the sysroot daemon did not mount within \(seconds) s")
    }

    func close() {
        Glibc.close(fd)
        unlink(path)
    }
}
