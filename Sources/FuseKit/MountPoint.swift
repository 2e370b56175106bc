import CFuse
import Glibc
import SystemPackage

/// Checks and prepares a directory to mount on.
public enum MountPoint {
    /// What ``prepare(_:)`` found and did.
    public enum Preparation: Equatable, Sendable {
        /// The directory existed and was free.
        case ready
        /// The directory did not exist and was created.
        case created
        /// A dead FUSE mount (its daemon killed) sat there and was detached.
        case clearedStale
    }

    /// Why a directory cannot be mounted on.
    public enum Problem: Error, Equatable, CustomStringConvertible {
        case occupied(path: String)
        case notDirectory(path: String)
        case cannotCreate(path: String, Errno)
        case cannotClearStale(path: String, Errno)
        case inaccessible(path: String, Errno)

        public var description: String {
            switch self {
            case .occupied(let path):
                return
                    """
                    \(path) is already a mount point of a live filesystem; refusing to mount over it (unmount it \
                    first)
                    """
            case .notDirectory(let path):
                return "\(path) is not a directory"
            case .cannotCreate(let path, let errno):
                return "cannot create \(path): \(errno)"
            case .cannotClearStale(let path, let errno):
                return
                    """
                    \(path) holds a stale FUSE mount that could not be detached: \(errno) (try: fusermount3 -u -z \
                    \(path))
                    """
            case .inaccessible(let path, let errno):
                return "cannot use \(path): \(errno)"
            }
        }
    }

    /// Creates a missing directory (and its parents), detaches a stale FUSE mount (one whose
    /// `statfs` answers ENOTCONN: `stat` can still succeed from the kernel's cache), and refuses a
    /// directory that a live filesystem occupies.
    public static func prepare(_ path: String) throws(Problem) -> Preparation {
        let statfsError = cfuse_statfs_errno(path)
        if statfsError != 0 {
            let error = Errno(rawValue: statfsError)
            switch error {
            case .noSuchFileOrDirectory:
                try makeDirectories(path)
                return .created
            case .socketNotConnected:
                try detach(path)
                return .clearedStale
            default:
                throw .inaccessible(path: path, error)
            }
        }
        var st = stat()
        guard stat(path, &st) == 0 else { throw .inaccessible(path: path, Errno(rawValue: errno)) }
        guard st.st_mode & S_IFMT == S_IFDIR else { throw .notDirectory(path: path) }
        if isMountPoint(path, st) { throw .occupied(path: path) }
        return .ready
    }

    /// True when `path` is the root of a mount: its device differs from its parent's, or it is
    /// its own parent (`/`).
    public static func isMountPoint(_ path: String) -> Bool {
        var st = stat()
        guard stat(path, &st) == 0 else { return false }
        return isMountPoint(path, st)
    }

    private static func isMountPoint(_ path: String, _ st: stat) -> Bool {
        var parent = stat()
        guard stat(path + "/..", &parent) == 0 else { return false }
        return parent.st_dev != st.st_dev || parent.st_ino == st.st_ino
    }

    private static func makeDirectories(_ path: String) throws(Problem) {
        var prefix = path.hasPrefix("/") ? "" : "."
        for component in path.split(separator: "/") {
            prefix += "/" + component
            if mkdir(prefix, 0o755) != 0 && errno != EEXIST {
                throw .cannotCreate(path: path, Errno(rawValue: errno))
            }
        }
    }

    /// Lazily detaches the mount: as root with umount2(MNT_DETACH), else through fusermount3.
    private static func detach(_ path: String) throws(Problem) {
        if umount2(path, Int32(MNT_DETACH)) == 0 { return }
        let umountError = Errno(rawValue: errno)
        guard umountError == .permissionDenied || umountError == .notPermitted else {
            throw .cannotClearStale(path: path, umountError)
        }
        var pid = pid_t()
        var argv: [UnsafeMutablePointer<CChar>?] = ["fusermount3", "-u", "-z", path].map { (arg: String) in strdup(arg)
        }
        argv.append(nil)
        defer { for pointer in argv { free(pointer) } }
        guard posix_spawnp(&pid, "fusermount3", nil, nil, argv, environ) == 0 else {
            throw .cannotClearStale(path: path, umountError)
        }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        if status != 0 { throw .cannotClearStale(path: path, umountError) }
    }
}
