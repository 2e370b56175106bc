import Glibc
import SystemPackage
import TSMBytes

/// The state file's system calls: opening without links, locking, reading, writing and syncing.
extension StateJournal {
    /// Opens `path` read-write without following a link (O_NOFOLLOW; O_NONBLOCK so that a FIFO
    /// cannot hang the start), creating it exclusively (0600) when missing; refuses anything but
    /// a regular file, and takes the exclusive lock. A compaction renames a new file over the
    /// path: a lock taken on the file it replaced is let go and the path opened again.
    static func openExclusively(_ path: String) throws(Failure) -> Int32 {
        var attempts = 0
        while true {
            let (fd, inode) = try openAndLock(path)
            var now = stat()
            if lstat(path, &now) == 0, now.st_ino == inode.st_ino, now.st_dev == inode.st_dev { return fd }
            Glibc.close(fd)
            attempts += 1
            guard attempts < 8 else { throw .cannotOpen(path: path, .resourceBusy) }
        }
    }

    private static func openAndLock(_ path: String) throws(Failure) -> (Int32, stat) {
        var fd = Glibc.open(path, O_RDWR | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)
        if fd < 0 && errno == ENOENT {
            fd = Glibc.open(path, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0o600)
        }
        guard fd >= 0 else {
            if errno == ELOOP { throw .symbolicLink(path: path) }
            if errno == EISDIR { throw .notRegularFile(path: path) }
            throw .cannotOpen(path: path, Errno(rawValue: errno))
        }
        var st = stat()
        guard fstat(fd, &st) == 0 else {
            let error = Errno(rawValue: errno)
            Glibc.close(fd)
            throw .cannotOpen(path: path, error)
        }
        guard st.st_mode & S_IFMT == S_IFREG else {
            Glibc.close(fd)
            throw .notRegularFile(path: path)
        }
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK)
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            let error = Errno(rawValue: errno)
            Glibc.close(fd)
            if error == .wouldBlock { throw .inUse(path: path, holder: lockHolder(inode: UInt64(st.st_ino))) }
            throw .cannotOpen(path: path, error)
        }
        return (fd, st)
    }

    /// The process holding an flock on `inode`, from `/proc/locks` (flock cannot say).
    static func lockHolder(inode: UInt64) -> Int32? {
        guard let bytes = try? FileBytes.read(path: "/proc/locks", limit: 1 << 20) else { return nil }
        for line in String(decoding: bytes, as: UTF8.self).split(separator: "\n") {
            // "1: FLOCK  ADVISORY  WRITE 1234 fd:01:5678 0 EOF"
            let fields = line.split(separator: " ")
            guard fields.count >= 6, fields[1] == "FLOCK", let pid = Int32(fields[4]),
                fields[5].split(separator: ":").last.flatMap({ UInt64($0) }) == inode
            else { continue }
            return pid
        }
        return nil
    }

    /// Where a compaction writes the new file before renaming it over `path`.
    static func compactPath(_ path: String) -> String { path + ".compact" }

    /// Removes a `FILE.compact` a compaction cut short left (with the file's lock held, so no
    /// compaction is under way): the rename never happened, so the file holds every change.
    static func removeLeftover(of path: String) throws(Failure) -> Bool {
        let leftover = compactPath(path)
        if unlink(leftover) == 0 { return true }
        guard errno == ENOENT else { throw .cannotRemove(path: leftover, Errno(rawValue: errno)) }
        return false
    }

    static func readAll(_ fd: Int32, path: String) throws(Failure) -> [UInt8] {
        do {
            return try FileBytes.read(descriptor: fd, path: path, limit: maximumSize)
        } catch {
            if error.errno == EFBIG { throw .tooLarge(path: path, limit: maximumSize) }
            throw .cannotRead(path: path, Errno(rawValue: error.errno))
        }
    }

    /// Writes all of `bytes` at `offset` (pwrite: the file position does not matter).
    static func writeAll(_ fd: Int32, _ bytes: [UInt8], at offset: Int, path: String) throws(Failure) {
        var written = 0
        while written < bytes.count {
            let count = bytes[written...].withUnsafeBytes {
                Glibc.pwrite(fd, $0.baseAddress, $0.count, off_t(offset + written))
            }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { throw .cannotWrite(path: path, Errno(rawValue: count < 0 ? errno : EIO)) }
            written += count
        }
    }

    static func sync(_ fd: Int32, path: String) throws(Failure) {
        guard fsync(fd) == 0 else { throw .cannotSync(path: path, Errno(rawValue: errno)) }
    }

    /// A new file's name is durable only once its directory is synced.
    static func syncDirectory(of path: String) throws(Failure) {
        let directory = path.lastIndex(of: "/").map { path[..<$0].isEmpty ? "/" : String(path[..<$0]) } ?? "."
        let fd = Glibc.open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw .cannotOpenDirectory(path: directory, Errno(rawValue: errno)) }
        defer { Glibc.close(fd) }
        try sync(fd, path: directory)
    }
}
