import TSMBytes
import Glibc

/// sd_notify(3) without libsystemd: one datagram to `$NOTIFY_SOCKET` ("@..." is the abstract
/// namespace). Does nothing when the variable is unset, as when not run by systemd.
public enum SystemdNotifier {
    @discardableResult
    public static func notify(_ state: String) -> Bool {
        guard let raw = getenv("NOTIFY_SOCKET") else { return false }
        let notation = String(cString: raw)
        guard !notation.isEmpty, let address = try? UnixSocketAddress(notation: notation) else { return false }
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        let sent = address.withSockaddr { socketAddress, length in
            state.withCString { sendto(fd, $0, strlen($0), Int32(MSG_NOSIGNAL), socketAddress, length) }
        }
        return sent >= 0
    }
}
