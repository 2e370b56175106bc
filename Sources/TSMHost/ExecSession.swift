import Glibc
import SystemPackage

/// The namespace side of `tsmfs exec`: re-executing under `unshare`, the sysroot daemon, the bind
/// mounts that put its paths at their real places, and the command with its signals forwarded.
public enum ExecSession {
    /// Why exec could not set up; the description is the user's message.
    public enum Failure: Error, CustomStringConvertible {
        case setUp(String)

        public var description: String {
            switch self {
            case .setUp(let message): return message
            }
        }
    }

    /// Re-executes this command under `unshare --mount --propagation private`: every mount made
    /// from here on stays in the new namespace.
    public static func enterNamespace() throws(Failure) -> Never {
        let arguments = CommandLine.arguments
        guard let execIndex = arguments.firstIndex(of: "exec") else {
            throw .setUp("cannot find the exec subcommand in \(arguments)")
        }
        var inner = ["unshare", "--mount", "--propagation", "private", "--", try Self.executablePath()]
        inner += arguments[1...execIndex] + ["--in-namespace"] + arguments[(execIndex + 1)...]
        var argv: [UnsafeMutablePointer<CChar>?] = inner.map { strdup($0) }
        argv.append(nil)
        execvp("unshare", argv)
        throw .setUp("cannot run unshare (util-linux): \(Errno(rawValue: errno))")
    }

    /// What the sysroot daemon serves, for the root it mounts and the pid it ends with: the spec
    /// its `mount --spec FILE` reads (tsmfs's `DaemonSpec` as JSON).
    public typealias DaemonSpecMaker = (_ root: String, _ parent: pid_t) throws(Failure) -> [UInt8]

    /// Inside the namespace: starts the sysroot daemon on the spec `makeSpec` gives (written
    /// 0600, without following links, into exec's private directory, removed with it), exposes
    /// its paths, runs `command` and returns its status.
    public static func run(_ command: [String], makeSpec: DaemonSpecMaker) throws(Failure) -> Int32 {
        ExecLeftovers.removeStaleDirectories()
        var template = Array("/tmp/\(ExecLeftovers.prefix)\(getpid()).XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else {
            throw .setUp("cannot make a temporary directory: \(Errno(rawValue: errno))")
        }
        let directory = String(cString: made)
        let root = directory + "/root"
        defer {
            rmdir(root)
            rmdir(directory)
        }
        let specPath = directory + "/" + ExecLeftovers.specName
        try writePrivate(specPath, try makeSpec(root, getpid()))
        defer { unlink(specPath) }
        let readiness = try ReadinessSocket(path: directory + "/" + ExecLeftovers.notifyName)
        defer { readiness.close() }
        let program = try executablePath()
        let daemon = try readiness.withNotifySocket { () throws(Failure) -> ChildProcess in
            do {
                return try ChildProcess([program, "mount", "--spec", specPath])
            } catch {
                throw .setUp("cannot start the sysroot daemon: \(error)")
            }
        }
        defer {
            daemon.signal(SIGTERM)
            _ = daemon.wait()
        }
        try readiness.waitForReady(daemon, seconds: 20)
        try exposeSysroot(root)
        // The sysroot itself, for `tsmfs log` and for clients that take a root directory.
        setenv("TSMFS_SYSROOT", root, 1)
        return runCommand(command)
    }

    /// Writes `bytes` to a new file at `path`: created exclusively, 0600, never through a link.
    static func writePrivate(_ path: String, _ bytes: [UInt8]) throws(Failure) {
        do {
            let file = try FileDescriptor.open(
                FilePath(path), .writeOnly, options: [.create, .exclusiveCreate, .noFollow],
                permissions: [.ownerReadWrite])
            try file.closeAfter { _ = try file.writeAll(bytes) }
        } catch {
            throw .setUp("cannot write the daemon spec \(path): \(error)")
        }
    }

    /// Binds the sysroot's paths over the real ones and links the class entries.
    static func exposeSysroot(_ root: String) throws(Failure) {
        var shadows = Shadows()
        do throws(Shadows.Failure) {
            for path in [
                "sys/kernel/tsm", "sys/kernel/config/tsm", "sys/firmware/acpi/tables/CCEL",
                "sys/firmware/acpi/tables/data/CCEL", "sys/class/tpm", "sys/kernel/security/tpm0",
            ] where exists(root + "/" + path) {
                try shadows.expose(root + "/" + path, at: "/" + path)
            }
            for device in entries(root + "/sys/devices/virtual/misc") {
                try shadows.expose(
                    "\(root)/sys/devices/virtual/misc/\(device)", at: "/sys/devices/virtual/misc/\(device)")
                try shadows.link("/sys/class/misc/\(device)", to: "../../devices/virtual/misc/\(device)")
            }
            for node in entries(root + "/dev") {
                try shadows.expose("\(root)/dev/\(node)", at: "/dev/\(node)")
            }
        } catch {
            throw .setUp("cannot set up the namespace: \(error)")
        }
    }

    /// Runs the command with INT, TERM, HUP, QUIT, USR1 and USR2 forwarded to it, and SIGKILL
    /// sent to it if this process dies (even by SIGKILL); returns its exit status (128 + the
    /// signal if a signal ended it).
    static func runCommand(_ commandLine: [String]) -> Int32 {
        var forwarded = sigset_t()
        sigemptyset(&forwarded)
        for sig in [SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGCHLD] { sigaddset(&forwarded, sig) }
        sigprocmask(SIG_BLOCK, &forwarded, nil)
        let child: ChildProcess
        do {
            child = try ChildProcess(dyingWithParent: commandLine)
        } catch {
            // As a shell: 127 for a command that is not found, 126 for one that cannot run.
            let message = Array("tsmfs exec: \(error)\n".utf8)
            _ = message.withUnsafeBytes { Glibc.write(2, $0.baseAddress, $0.count) }
            if case .cannotRun(_, let errno) = error { return errno == .noSuchFileOrDirectory ? 127 : 126 }
            return 127
        }
        var timeout = timespec(tv_sec: 0, tv_nsec: 100_000_000)
        while true {
            if let status = child.poll() { return status }
            var info = siginfo_t()
            let sig = sigtimedwait(&forwarded, &info, &timeout)
            if sig > 0 && sig != SIGCHLD { child.signal(sig) }
        }
    }

    /// This executable, from /proc/self/exe.
    public static func executablePath() throws(Failure) -> String {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let count = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        guard count > 0 else { throw .setUp("cannot find this executable: \(Errno(rawValue: errno))") }
        return String(decoding: buffer.prefix(count).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    static func exists(_ path: String) -> Bool {
        var st = stat()
        return lstat(path, &st) == 0
    }

    static func entries(_ directory: String) -> [String] {
        Shadows.entries(of: directory) ?? []
    }
}
