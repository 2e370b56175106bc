import Glibc
import SystemPackage

/// Makes paths that the host lacks appear in a private mount namespace, without changing the
/// host: a directory that must gain entries is "shadowed" — a tmpfs is mounted over it and every
/// original entry is bound back (directories recursively with their submounts, files and device
/// nodes as files, symbolic links recreated) — and the new entries are bind mounts of the
/// sysroot's files or new links. Only for use inside a private mount namespace, as root.
public struct Shadows {
    public init() {}

    /// A step of making the namespace that failed, on a path, with the call's errno.
    public struct Failure: Error, CustomStringConvertible {
        let step: String
        let path: String
        let errno: Errno
        init(_ step: String, _ path: String, _ errno: Int32 = Glibc.errno) {
            self.step = step
            self.path = path
            self.errno = Errno(rawValue: errno)
        }
        public var description: String { "\(step) \(path): \(errno)" }
    }

    /// Directories that live on a tmpfs of ours, where entries can be made.
    private var writable: Set<String> = []

    /// Binds `source` (a directory or a file) at `target`, making `target` and its missing
    /// parents as needed.
    public mutating func expose(_ source: String, at target: String) throws(Failure) {
        var st = stat()
        guard lstat(source, &st) == 0 else { throw Failure("cannot stat", source) }
        let isDirectory = st.st_mode & S_IFMT == S_IFDIR
        var existing = stat()
        if lstat(target, &existing) != 0 {
            try ensureDirectory(parent(of: target))
            if isDirectory {
                guard mkdir(target, 0o755) == 0 else { throw Failure("cannot create", target) }
            } else {
                let fd = open(target, O_CREAT | O_WRONLY | O_CLOEXEC, 0o600)
                guard fd >= 0 else { throw Failure("cannot create", target) }
                close(fd)
            }
        }
        guard mount(source, target, nil, UInt(MS_BIND | MS_REC), nil) == 0 else {
            throw Failure("cannot bind onto", target)
        }
    }

    /// Makes `path` a symbolic link to `destination`, replacing a host entry of that name in the
    /// namespace only.
    public mutating func link(_ path: String, to destination: String) throws(Failure) {
        let directory = parent(of: path)
        try ensureDirectory(directory)
        if !writable.contains(directory) { try shadow(directory) }
        unlink(path)
        guard symlink(destination, path) == 0 else { throw Failure("cannot link", path) }
    }

    /// Makes sure `path` is a directory where entries can be made.
    private mutating func ensureDirectory(_ path: String) throws(Failure) {
        if writable.contains(path) { return }
        var st = stat()
        if lstat(path, &st) == 0 {
            guard st.st_mode & S_IFMT == S_IFDIR else { throw Failure("not a directory:", path, ENOTDIR) }
            try shadow(path)
            return
        }
        try ensureDirectory(parent(of: path))
        guard mkdir(path, 0o755) == 0 else { throw Failure("cannot create", path) }
        writable.insert(path)
    }

    /// Mounts a tmpfs over `path` that shows what `path` showed.
    private mutating func shadow(_ path: String) throws(Failure) {
        var template = Array("/tmp/tsmfs-shadow.XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw Failure("cannot make a scratch directory for", path) }
        let scratch = String(cString: made)
        defer {
            umount2(scratch, Int32(MNT_DETACH))
            rmdir(scratch)
        }
        guard mount(path, scratch, nil, UInt(MS_BIND | MS_REC), nil) == 0 else { throw Failure("cannot bind", path) }
        guard mount("tsmfs-shadow", path, "tmpfs", 0, "mode=0755") == 0 else {
            throw Failure("cannot mount a tmpfs on", path)
        }
        guard let names = Self.entries(of: scratch) else { throw Failure("cannot list", scratch) }
        for name in names {
            try restore(scratch + "/" + name, at: path + "/" + name)
        }
        writable.insert(path)
    }

    /// Puts an original entry back under its shadow.
    private func restore(_ original: String, at path: String) throws(Failure) {
        var st = stat()
        guard lstat(original, &st) == 0 else { return }  // vanished meanwhile
        switch st.st_mode & S_IFMT {
        case S_IFLNK:
            var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
            let count = readlink(original, &buffer, buffer.count - 1)
            guard count >= 0 else { throw Failure("cannot read link", original) }
            let target = String(decoding: buffer.prefix(count).map { UInt8(bitPattern: $0) }, as: UTF8.self)
            guard symlink(target, path) == 0 else { throw Failure("cannot recreate link", path) }
        case S_IFDIR:
            guard mkdir(path, st.st_mode & 0o7777) == 0 else { throw Failure("cannot create", path) }
            guard mount(original, path, nil, UInt(MS_BIND | MS_REC), nil) == 0 else {
                throw Failure("cannot rebind", path)
            }
        default:
            let fd = open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0o600)
            guard fd >= 0 else { throw Failure("cannot create", path) }
            close(fd)
            guard mount(original, path, nil, UInt(MS_BIND), nil) == 0 else { throw Failure("cannot rebind", path) }
        }
    }

    /// The names in a directory, without `.` and `..`, sorted; nil when it cannot be listed.
    public static func entries(of directory: String) -> [String]? {
        guard let dir = opendir(directory) else { return nil }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names.sorted()
    }

    private func parent(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/"), slash != path.startIndex else { return "/" }
        return String(path[..<slash])
    }
}
