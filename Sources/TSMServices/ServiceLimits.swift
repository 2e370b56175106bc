import Glibc
import NIOCore

/// What a local service holds on to: how long a connection may stay idle (no complete request
/// head, no response outstanding) before it is closed, and how many connections are open at once.
public struct ServiceLimits: Sendable, Equatable {
    /// Seconds a connection may stay idle; also the time a client has to send a whole request
    /// head, so a slow client (slowloris) is closed as an idle one is.
    public var idleTimeout: Int
    /// The most connections served at once; further clients wait in the listen backlog.
    public var maximumConnections: Int

    /// The idle timeout the services run with unless told otherwise.
    public static let defaultIdleTimeout = 30
    /// The longest idle timeout `--idle-timeout` accepts.
    public static let maximumIdleTimeout = 3600
    /// Descriptors kept free beside the connections: the listener, the event loops' epoll,
    /// eventfd and timerfd (three per thread), stdio and whatever a request opens.
    public static var descriptorReserve: Int { 16 + 3 * System.coreCount }

    /// Why the limits cannot be had.
    public enum Problem: Error, Equatable, CustomStringConvertible {
        /// `--idle-timeout` out of range.
        case idleTimeout(Int)
        /// The descriptor limit leaves no room for a connection.
        case noDescriptors(limit: Int, open: Int, reserve: Int)

        public var description: String {
            switch self {
            case .idleTimeout(let seconds):
                return "--idle-timeout \(seconds) is not 1 to \(ServiceLimits.maximumIdleTimeout) seconds"
            case .noDescriptors(let limit, let open, let reserve):
                return
                    "the open-file limit (\(limit)) leaves no descriptor for a connection: \(open) are open and "
                    + "\(reserve) are kept in reserve; raise it (ulimit -n) to at least \(open + reserve + 1)"
            }
        }
    }

    /// Limits for this process: connections capped so that they, the descriptors open now and
    /// ``descriptorReserve`` stay below the soft `RLIMIT_NOFILE` (accept never meets EMFILE).
    public static func forThisProcess(idleTimeout: Int = defaultIdleTimeout) throws(Problem) -> ServiceLimits {
        guard (1...maximumIdleTimeout).contains(idleTimeout) else { throw .idleTimeout(idleTimeout) }
        var limit = rlimit()
        let known = getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit) == 0
        let soft = known && limit.rlim_cur < 1 << 24 ? Int(limit.rlim_cur) : 1 << 20
        let open = openDescriptors()
        let room = soft - open - descriptorReserve
        guard room >= 1 else { throw .noDescriptors(limit: soft, open: open, reserve: descriptorReserve) }
        return ServiceLimits(idleTimeout: idleTimeout, maximumConnections: min(room, 4096))
    }

    /// How many descriptors this process has open (entries of /proc/self/fd, less the one
    /// reading it).
    static func openDescriptors() -> Int {
        guard let directory = opendir("/proc/self/fd") else { return 3 }
        defer { closedir(directory) }
        var count = 0
        while let entry = readdir(directory) {
            if entry.pointee.d_name.0 != 0x2E { count += 1 }  // not "." or ".."
        }
        return max(0, count - 1)
    }
}
