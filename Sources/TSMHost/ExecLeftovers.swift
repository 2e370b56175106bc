import Glibc
import TSMBytes

/// What `tsmfs exec` must not leave behind, and how it is cleared.
public enum ExecLeftovers {
    /// The prefix of exec's temporary directories: `/tmp/tsmfs-exec.PID.XXXXXX`, PID the exec's.
    public static let prefix = "tsmfs-exec."
    /// The daemon spec exec writes into its directory (`mount --spec`).
    public static let specName = "daemon.json"
    /// The socket exec's daemon says READY=1 on (its `$NOTIFY_SOCKET`), in the same directory.
    public static let notifyName = "notify"

    /// Removes the temporary directories of exec processes that are gone (an empty `root`, the
    /// daemon spec and the readiness socket), as a SIGKILL leaves them: exec's own cleanup cannot run then.
    public static func removeStaleDirectories(in directory: String = "/tmp") {
        for name in Shadows.entries(of: directory) ?? [] where name.hasPrefix(prefix) {
            let parts = name.dropFirst(prefix.count).split(separator: ".")
            guard parts.count == 2, let pid = pid_t(parts[0]), kill(pid, 0) != 0 && errno == ESRCH else { continue }
            let path = directory + "/" + name
            var st = stat()
            guard lstat(path, &st) == 0, st.st_mode & S_IFMT == S_IFDIR, st.st_uid == geteuid() else { continue }
            rmdir(path + "/root")
            unlink(path + "/" + specName)
            unlink(path + "/" + notifyName)
            rmdir(path)
        }
    }

    /// Removes the directory of the exec `execPID` whose sysroot is `root` (`/tmp/tsmfs-exec.
    /// PID.XXXXXX/root`, unmounted by then): the sysroot daemon calls it when it ends after its
    /// exec died (by a signal exec cannot clean up after), so nothing waits for the next exec.
    /// Anything else, or another user's directory, is left alone.
    public static func removeDirectory(ofRoot root: String, execPID: pid_t, in directory: String = "/tmp") {
        let parts = root.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count >= 2, parts.last == "root" else { return }
        let name = parts[parts.count - 2]
        let path = directory + "/" + name
        guard name.hasPrefix(prefix + "\(execPID)."), path + "/root" == root else { return }
        var st = stat()
        guard lstat(path, &st) == 0, st.st_mode & S_IFMT == S_IFDIR, st.st_uid == geteuid() else { return }
        rmdir(root)
        unlink(path + "/" + specName)
        unlink(path + "/" + notifyName)
        rmdir(path)
    }

    /// Detaches every other mount of the filesystem mounted at `root` in this mount namespace
    /// (exec's bind mounts of the sysroot over `/sys` and `/dev`), so that a process the command
    /// left running sees the paths as they were rather than a dead mount answering ENOTCONN.
    /// Reads only /proc/self/mountinfo, never the mount itself: a daemon whose loop has ended
    /// would wait forever on its own filesystem.
    public static func detachBindMounts(of root: String) {
        guard let bytes = try? FileBytes.read(path: "/proc/self/mountinfo", limit: 16 << 20) else { return }
        let mounts = String(decoding: bytes, as: UTF8.self).split(separator: "\n").compactMap {
            line -> (device: Substring, point: String)? in
            let fields = line.split(separator: " ")
            return fields.count > 4 ? (fields[2], unescape(String(fields[4]))) : nil
        }
        guard let device = mounts.last(where: { $0.point == root })?.device else { return }
        for mount in mounts.reversed() where mount.device == device && mount.point != root {
            umount2(mount.point, Int32(MNT_DETACH))
        }
    }

    /// mountinfo writes space, tab, newline and backslash as `\ooo`.
    static func unescape(_ text: String) -> String {
        var bytes: [UInt8] = []
        var input = Array(text.utf8)[...]
        while let byte = input.popFirst() {
            if byte == UInt8(ascii: "\\"), input.count >= 3,
                let value = UInt8(String(decoding: input.prefix(3), as: UTF8.self), radix: 8)
            {
                bytes.append(value)
                input = input.dropFirst(3)
            } else {
                bytes.append(byte)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
