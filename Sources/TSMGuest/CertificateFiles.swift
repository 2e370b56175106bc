import Glibc
import SystemPackage

/// `tsmfs certs --out DIR`: an authority's certificates written as files, safely in a directory
/// someone else may own. Each file is written to a fresh name inside DIR (O_EXCL, O_NOFOLLOW),
/// synced and renamed over its final name: a symlink planted at that name is replaced, never
/// followed, so root writing into a user's directory cannot be made to overwrite another file.
public enum CertificateFiles {
    /// Why the files could not be written; the description is the user's message.
    public enum Failure: Error, Equatable, CustomStringConvertible {
        case cannotCreate(directory: String, Errno)
        case symlink(directory: String)
        case cannotOpen(directory: String, Errno)
        case cannotWrite(path: String, Errno)

        public var description: String {
            switch self {
            case .cannotCreate(let directory, let errno): return "cannot create \(directory): \(errno)"
            case .symlink(let directory):
                return
                    """
                    \(directory) is a symbolic link; give the directory itself (certificates are not written \
                    through a link)
                    """
            case .cannotOpen(let directory, let errno): return "cannot open \(directory): \(errno)"
            case .cannotWrite(let path, let errno): return "cannot write \(path): \(errno)"
            }
        }
    }

    /// Writes `files` into `directory` (created 0755 if missing) as mode 0644 regular files and
    /// returns their paths, in order.
    public static func write(_ files: [CertificateFile], into directory: String) throws(Failure) -> [String] {
        if mkdir(directory, 0o755) != 0, errno != EEXIST {
            throw .cannotCreate(directory: directory, Errno(rawValue: errno))
        }
        // A trailing slash would make open(2) follow a final symlink despite O_NOFOLLOW.
        var opened = directory
        while opened.count > 1, opened.hasSuffix("/") { opened.removeLast() }
        let dirfd = open(opened, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard dirfd >= 0 else {
            let error = errno
            var status = stat()
            if lstat(opened, &status) == 0, status.st_mode & S_IFMT == S_IFLNK { throw .symlink(directory: directory) }
            throw .cannotOpen(directory: directory, Errno(rawValue: error))
        }
        defer { close(dirfd) }
        var written: [String] = []
        for file in files {
            let path = FilePath(directory).appending(file.name).string
            do throws(Errno) {
                try replace(file.name, with: Array(file.pem.utf8), in: dirfd)
            } catch {
                throw .cannotWrite(path: path, error)
            }
            written.append(path)
        }
        _ = fsync(dirfd)
        return written
    }

    /// Writes `bytes` to a new temporary file in `dirfd`, syncs it and renames it over `name`.
    private static func replace(_ name: String, with bytes: [UInt8], in dirfd: Int32) throws(Errno) {
        var temporary = ""
        var fd: Int32 = -1
        for attempt in 0..<100 where fd < 0 {
            temporary = ".\(name).tsmfs-\(getpid())-\(attempt)"
            fd = openat(dirfd, temporary, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o644)
            if fd < 0, errno != EEXIST { throw Errno(rawValue: errno) }
        }
        guard fd >= 0 else { throw Errno.fileExists }
        do throws(Errno) {
            defer { close(fd) }
            // The mode is the certificates' own, whatever the umask: they are public.
            guard fchmod(fd, 0o644) == 0 else { throw Errno(rawValue: errno) }
            do {
                _ = try FileDescriptor(rawValue: fd).writeAll(bytes)
            } catch {
                throw error as? Errno ?? .ioError
            }
            guard fsync(fd) == 0 else { throw Errno(rawValue: errno) }
        } catch {
            unlinkat(dirfd, temporary, 0)
            throw error
        }
        guard renameat(dirfd, temporary, dirfd, name) == 0 else {
            let error = Errno(rawValue: errno)
            unlinkat(dirfd, temporary, 0)
            throw error
        }
    }
}
