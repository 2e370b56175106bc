import ArgumentParser
import FuseKit
import Glibc
import SystemPackage
import TSMHost

/// `tsmfs exec`: run a command in a private mount namespace where a guest sysroot's paths appear
/// at their real absolute paths, the rest of `/sys` and `/dev` unchanged; the host's mount table
/// and `/dev` never change.
struct ExecCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "exec",
        abstract: "Run COMMAND with a guest's attestation paths at their real places, in a private mount namespace.",
        discussion: """
            Starts a sysroot daemon and runs COMMAND where /sys/kernel/tsm, \
            /sys/kernel/config/tsm/report, the measurements devices under /sys/devices/virtual/misc \
            and /sys/class/misc, and /dev/tdx_guest come from it, while the rest of /sys and /dev stays \
            as it is. Signals are forwarded to COMMAND; its exit status is returned; the daemon is \
            stopped and nothing stays mounted. Needs root. Example: tsmfs exec -- pytest
            """
    )

    @OptionGroup var daemonOptions: DaemonOptions
    @OptionGroup var guestOptions: GuestOptions
    @OptionGroup var providerOptions: ProviderOptions

    /// Set when tsmfs re-executes itself inside the new namespace.
    @Flag(name: .customLong("in-namespace"), help: .hidden)
    var inNamespace = false

    @Argument(parsing: .captureForPassthrough, help: "The command to run, after --.")
    var command: [String] = []

    var commandLine: [String] {
        command.first == "--" ? Array(command.dropFirst()) : command
    }

    func validate() throws {
        // The command is captured whole, so `exec --help` arrives here as a command.
        if let first = command.first, first == "--help" || first == "-h" { throw CleanExit.helpRequest(self) }
        guard !commandLine.isEmpty else { throw ValidationError("give a command to run after --") }
    }

    func run() throws {
        guard geteuid() == 0 else {
            throw Failure("tsmfs exec needs root: it makes a private mount namespace and mounts over /sys and /dev inside it (try sudo)")
        }
        if !inNamespace { try enterNamespace() }
        throw ExitCode(try runInNamespace())
    }

    /// Re-executes this command under `unshare --mount --propagation private`: every mount made
    /// from here on stays in the new namespace.
    private func enterNamespace() throws -> Never {
        let arguments = CommandLine.arguments
        guard let execIndex = arguments.firstIndex(of: "exec") else { throw Failure("cannot find the exec subcommand in \(arguments)") }
        var inner = ["unshare", "--mount", "--propagation", "private", "--", try Self.executablePath()]
        inner += arguments[1...execIndex] + ["--in-namespace"] + arguments[(execIndex + 1)...]
        var argv: [UnsafeMutablePointer<CChar>?] = inner.map { strdup($0) }
        argv.append(nil)
        execvp("unshare", argv)
        throw Failure("cannot run unshare (util-linux): \(Errno(rawValue: errno))")
    }

    private func runInNamespace() throws -> Int32 {
        ExecLeftovers.removeStaleDirectories()
        var template = Array("/tmp/\(ExecLeftovers.prefix)\(getpid()).XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw Failure("cannot make a temporary directory: \(Errno(rawValue: errno))") }
        let directory = String(cString: made)
        let root = directory + "/root"
        defer {
            rmdir(root)
            rmdir(directory)
        }
        let daemon = try ChildProcess(
            [try Self.executablePath(), "mount", "--sysroot", root, "--allow-other", "--exit-with-parent", String(getpid())]
                + daemonArguments + guestOptions.arguments + providerOptions.arguments)
        defer {
            daemon.signal(SIGTERM)
            _ = daemon.wait()
        }
        try waitForMount(root, daemon: daemon)
        try exposeSysroot(root)
        // The sysroot itself, for `tsmfs log` and for clients that take a root directory.
        setenv("TSMFS_SYSROOT", root, 1)
        return try runCommand()
    }

    /// Polls until the sysroot answers statfs on a mount of its own, the daemon dies, or 20 s pass.
    private func waitForMount(_ root: String, daemon: ChildProcess) throws {
        let clock = ContinuousClock()
        let deadline = clock.now + .seconds(20)
        while clock.now < deadline {
            if let status = daemon.poll() { throw Failure("the sysroot daemon exited with status \(status) before mounting") }
            if MountPoint.isMountPoint(root) && cfuseStatfsSucceeds(root) { return }
            usleep(2_000)
        }
        throw Failure("the sysroot daemon did not mount \(root) within 20 s")
    }

    private func cfuseStatfsSucceeds(_ path: String) -> Bool {
        var buffer = statvfs()
        return statvfs(path, &buffer) == 0
    }

    /// Binds the sysroot's paths over the real ones and links the class entries.
    private func exposeSysroot(_ root: String) throws {
        var shadows = Shadows()
        do throws(Shadows.Failure) {
            for path in ["sys/kernel/tsm", "sys/kernel/config/tsm", "sys/firmware/acpi/tables/CCEL",
                         "sys/firmware/acpi/tables/data/CCEL"] where Self.exists(root + "/" + path) {
                try shadows.expose(root + "/" + path, at: "/" + path)
            }
            for device in Self.entries(root + "/sys/devices/virtual/misc") {
                try shadows.expose("\(root)/sys/devices/virtual/misc/\(device)", at: "/sys/devices/virtual/misc/\(device)")
                try shadows.link("/sys/class/misc/\(device)", to: "../../devices/virtual/misc/\(device)")
            }
            for node in Self.entries(root + "/dev") {
                try shadows.expose("\(root)/dev/\(node)", at: "/dev/\(node)")
            }
        } catch {
            throw Failure("cannot set up the namespace: \(error)")
        }
    }

    /// Runs the command with INT, TERM, HUP, QUIT, USR1 and USR2 forwarded to it; returns its
    /// exit status (128 + the signal if a signal ended it).
    private func runCommand() throws -> Int32 {
        var forwarded = sigset_t()
        sigemptyset(&forwarded)
        for sig in [SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGCHLD] { sigaddset(&forwarded, sig) }
        sigprocmask(SIG_BLOCK, &forwarded, nil)
        let child: ChildProcess
        do {
            child = try ChildProcess(commandLine)
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

    /// The daemon's options: as given, but quieter than a foreground mount unless asked.
    var daemonArguments: [String] {
        var options = daemonOptions
        if !CommandLine.arguments.contains("--log-level") { options.logLevel = .warning }
        return options.arguments
    }

    static func executablePath() throws -> String {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let count = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        guard count > 0 else { throw Failure("cannot find this executable: \(Errno(rawValue: errno))") }
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
