import CFuse
import Glibc
import SystemPackage

/// libfuse's setuid helper `fusermount3`, run by FuseKit itself for a user who cannot open
/// /dev/fuse. libfuse falls back to it only when `mount(2)` answers EPERM, after it has opened
/// the device, so a 0600 /dev/fuse ends an unprivileged mount before the helper is ever tried.
///
/// The handshake is libfuse's own (`fuse_mount_fusermount` and `receive_fd` in lib/mount.c): a
/// socket pair, `fusermount3 -o OPTIONS -- MOUNTPOINT` with one end's number in `_FUSE_COMMFD`,
/// and the opened, mounted /dev/fuse descriptor back as SCM_RIGHTS. fusermount3 does the mount,
/// so the kernel options (fsname, subtype, default_permissions, max_read, ...) go to it; libfuse,
/// given the descriptor as `/dev/fd/N`, neither mounts nor unmounts.
enum Fusermount {
    /// The helper's name, looked up on PATH.
    static let program = "fusermount3"
    /// Where the helper is looked for when PATH is unset (glibc's default search path).
    static let defaultSearchPath = "/bin:/usr/bin"
    /// The longest `-o` string passed on; fusermount3 and the kernel take a page at most.
    static let maxOptionsLength = 4000

    /// The first executable `fusermount3` in `searchPath` (PATH's syntax; an empty entry is the
    /// current directory), or nil.
    static func locate(searchPath: String?) -> String? {
        for directory in (searchPath ?? defaultSearchPath).split(separator: ":", omittingEmptySubsequences: false) {
            let candidate = (directory.isEmpty ? "." : String(directory)) + "/" + program
            var st = stat()
            if stat(candidate, &st) == 0, st.st_mode & S_IFMT == S_IFREG, access(candidate, X_OK) == 0 {
                return candidate
            }
        }
        return nil
    }

    /// The options as one `-o` argument. An option holding a comma would read as two, one
    /// holding a NUL cannot be passed: both are refused, as is a string past ``maxOptionsLength``.
    static func optionString(_ options: [String]) throws(FuseError) -> String {
        for option in options where option.isEmpty || option.contains(",") || option.contains("\0") {
            throw .badMountOption(option)
        }
        let joined = options.joined(separator: ",")
        guard joined.utf8.count <= maxOptionsLength else { throw .badMountOption(String(joined.prefix(40)) + "...") }
        return joined
    }

    /// Has `executable` mount `mountpoint` with `options` and returns the /dev/fuse descriptor it
    /// sends back (close-on-exec). fusermount3's own complaint, if any, goes to our stderr.
    static func mount(_ mountpoint: String, options: [String], executable: String) throws(FuseError) -> Int32 {
        let joined = try optionString(options)
        var pair: [Int32] = [-1, -1]
        guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &pair) == 0 else {
            throw .fusermountFailed(path: mountpoint, reason: "socketpair: \(Errno(rawValue: errno))")
        }
        let (theirs, ours) = (pair[0], pair[1])
        let spawned = spawn(executable, ["-o", joined, "--", mountpoint], commFD: theirs)
        // Our copy of their end goes at once: when fusermount3 exits without sending, the
        // receive below then sees the end of the stream instead of waiting for ever.
        close(theirs)
        defer { close(ours) }
        let pid: pid_t
        switch spawned {
        case .success(let child): pid = child
        case .failure(let error):
            throw .fusermountFailed(path: mountpoint, reason: "cannot run \(executable): \(error)")
        }
        let fd = cfuse_receive_fd(ours)
        let saved = errno
        let status = wait(pid)
        if fd >= 0 {
            return fd
        }
        switch fd {
        case -1:
            throw .fusermountFailed(path: mountpoint, reason: "receiving the descriptor: \(Errno(rawValue: saved))")
        case -3: throw .fusermountFailed(path: mountpoint, reason: "it sent a message without one /dev/fuse descriptor")
        default:
            throw .fusermountFailed(
                path: mountpoint,
                reason: "\(describe(status)) without sending a descriptor; its message, if any, is above")
        }
    }

    /// `fusermount3 -u -z MOUNTPOINT`: detaches the mount lazily, as libfuse's own unmount
    /// does (a shell sitting in the mount must not keep it up). True when the helper exited 0.
    @discardableResult
    static func unmount(_ mountpoint: String, executable: String) -> Bool {
        guard case .success(let pid) = spawn(executable, ["-u", "-z", "--", mountpoint], commFD: nil) else {
            return false
        }
        return wait(pid) == 0
    }

    /// Spawns `executable` with `arguments` and our environment, plus `_FUSE_COMMFD=N` (replacing
    /// any inherited one) with descriptor N left open across exec when `commFD` is given.
    private static func spawn(_ executable: String, _ arguments: [String], commFD: Int32?) -> Result<pid_t, Errno> {
        var argv: [UnsafeMutablePointer<CChar>?] = ([program] + arguments).map { strdup($0) }
        argv.append(nil)
        var envp: [UnsafeMutablePointer<CChar>?] = []
        if let commFD { envp.append(strdup("_FUSE_COMMFD=\(commFD)")) }
        var entry = environ
        while let variable = entry.pointee {
            if commFD == nil || strncmp(variable, "_FUSE_COMMFD=", 13) != 0 { envp.append(strdup(variable)) }
            entry += 1
        }
        envp.append(nil)
        defer {
            for pointer in argv { free(pointer) }
            for pointer in envp { free(pointer) }
        }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        // dup2 onto itself clears close-on-exec in the child only (glibc 2.29+, POSIX.1-2024):
        // no other thread's child can inherit the socket, as it could if the flag were cleared here.
        if let commFD { posix_spawn_file_actions_adddup2(&actions, commFD, commFD) }
        var pid = pid_t()
        let result = posix_spawn(&pid, executable, &actions, nil, argv, envp)
        return result == 0 ? .success(pid) : .failure(Errno(rawValue: result))
    }

    /// Waits for `pid` and returns its raw wait status.
    private static func wait(_ pid: pid_t) -> Int32 {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        return status
    }

    /// A wait status in words: "it exited with status 1", "it was killed by signal 9".
    static func describe(_ status: Int32) -> String {
        let signal = status & 0x7f
        if signal == 0 { return "it exited with status \((status >> 8) & 0xff)" }
        return "it was killed by signal \(signal)"
    }
}
