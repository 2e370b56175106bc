import Crypto
import Glibc
import SystemPackage
import TSMBytes

/// Where a mount's control socket lives, and the checks that keep it the mount's own: one name
/// per absolute mount point, an owner-only directory, no abstract socket, and never a live socket
/// of another daemon replaced.
public enum ControlSocketPath {
    /// Why a control socket path cannot be used.
    public enum Problem: Error, Equatable, CustomStringConvertible {
        case notAbsolute(String)
        case unresolvable(String, Errno)
        case tooLong(String)
        case unsafeDirectory(String, reason: String)
        case cannotCreateDirectory(String, Errno)
        case inUse(String)
        case notASocket(String)

        public var description: String {
            switch self {
            case .notAbsolute(let path): return "--control needs an absolute path, not '\(path)'"
            case .unresolvable(let path, let errno): return "cannot resolve the mount point \(path): \(errno)"
            case .tooLong(let path):
                return
                    """
                    control socket path too long (\(path.utf8.count) bytes; at most \
                    \(UnixSocketAddress.pathCapacity - 1)): \(path); give a shorter --control
                    """
            case .unsafeDirectory(let path, let reason):
                return "control socket directory \(path): \(reason); refusing it"
            case .cannotCreateDirectory(let path, let errno):
                return "cannot create the control socket directory \(path): \(errno)"
            case .inUse(let path):
                return "control socket \(path) belongs to a running tsmfs; stop it or give another --control"
            case .notASocket(let path):
                return "control socket path \(path) exists and is not a socket; refusing to replace it"
            }
        }
    }

    /// The directory default sockets go in: `/run/tsmfs` as root, else `$XDG_RUNTIME_DIR/tsmfs`,
    /// else `/tmp/tsmfs-UID`.
    public static var defaultDirectory: String {
        if getuid() == 0 { return rootDirectory }
        if let runtime = getenv("XDG_RUNTIME_DIR"), runtime.pointee != 0 { return String(cString: runtime) + "/tsmfs" }
        return "/tmp/tsmfs-\(getuid())"
    }

    /// The default socket of the mount point `mountpoint` (resolved to its absolute, canonical
    /// path): its last component, for people, and a hash of the whole path, so that `/x/a-b` and
    /// `/x/a/b` never share a socket.
    public static func defaultPath(for mountpoint: String) throws(Problem) -> String {
        guard let resolved = realpath(mountpoint, nil) else { throw .unresolvable(mountpoint, Errno(rawValue: errno)) }
        defer { free(resolved) }
        return defaultPath(forAbsolute: String(cString: resolved))
    }

    /// Where `tsmfs ctl` looks for the socket of `mountpoint`: this user's default directory,
    /// then root's (`/run/tsmfs`), where a mount started as root (or by `tsmfs exec`) has it.
    public static func candidatePaths(for mountpoint: String) throws(Problem) -> [String] {
        let own = try defaultPath(for: mountpoint)
        guard getuid() != 0 else { return [own] }
        let name = own.split(separator: "/").last.map(String.init) ?? ""
        return [own, rootDirectory + "/" + name]
    }

    /// Root's socket directory.
    public static let rootDirectory = "/run/tsmfs"

    /// The default socket of an absolute, canonical mount point.
    public static func defaultPath(forAbsolute path: String) -> String {
        let last = path.split(separator: "/").last.map(String.init) ?? "root"
        let readable = String(
            last.unicodeScalars.prefix(32).map { scalar -> Character in
                scalar.isASCII
                    && (Character(scalar).isLetter || Character(scalar).isNumber
                        || "._-".unicodeScalars.contains(scalar))
                    ? Character(scalar) : "_"
            })
        let digest = Hex.encode(Array(SHA256.hash(data: Array(path.utf8)).prefix(8)))
        return defaultDirectory + "/" + readable + "-" + digest + ".sock"
    }

    /// Checks an explicit `--control PATH`: absolute (so never empty, never abstract).
    public static func checkExplicit(_ path: String) throws(Problem) {
        guard path.hasPrefix("/") else { throw .notAbsolute(path) }
    }

    /// Makes `path`'s directory (0700) when missing, and refuses one that is a link, another
    /// user's, or writable by others; then refuses a live socket at `path` or anything that is
    /// not a socket, and removes a stale socket a killed daemon left.
    static func prepare(_ path: String) throws(Problem) {
        guard (try? UnixSocketAddress(path: path)) != nil else { throw .tooLong(path) }
        let directory = path.lastIndex(of: "/").map { path[..<$0].isEmpty ? "/" : String(path[..<$0]) } ?? "."
        if mkdir(directory, 0o700) != 0 && errno != EEXIST {
            throw .cannotCreateDirectory(directory, Errno(rawValue: errno))
        }
        var st = stat()
        guard lstat(directory, &st) == 0 else { throw .cannotCreateDirectory(directory, Errno(rawValue: errno)) }
        guard st.st_mode & S_IFMT == S_IFDIR else { throw .unsafeDirectory(directory, reason: "not a directory") }
        guard st.st_uid == geteuid() || st.st_uid == 0 else {
            throw .unsafeDirectory(directory, reason: "owned by uid \(st.st_uid)")
        }
        guard st.st_mode & 0o022 == 0 || st.st_mode & S_ISVTX != 0 && st.st_uid == 0 else {
            throw .unsafeDirectory(directory, reason: "writable by others")
        }
        guard lstat(path, &st) == 0 else { return }
        guard st.st_mode & S_IFMT == S_IFSOCK else { throw .notASocket(path) }
        if isLive(path) { throw .inUse(path) }
        unlink(path)
    }

    /// Whether a daemon answers on the socket at `path`.
    static func isLive(_ path: String) -> Bool {
        guard let address = try? UnixSocketAddress(path: path) else { return false }
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        return address.withSockaddr { connect(fd, $0, $1) } == 0
    }
}
