import Foundation
import Glibc
import Testing
import TestSupport

/// Where the built `tsmfs` binary is: `$TSMFS_BIN`, else next to the test bundle (SwiftPM builds
/// both into the same products directory).
func tsmfsBinary() -> String {
    if let path = ProcessInfo.processInfo.environment["TSMFS_BIN"], !path.isEmpty { return path }
    let executable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
    var directory = executable.deletingLastPathComponent()
    // On Linux the test runner is PRODUCTS/tsmfsPackageTests.xctest (a file); elsewhere a bundle.
    while !FileManager.default.fileExists(atPath: directory.appendingPathComponent("tsmfs").path),
        directory.path != "/"
    {
        directory = directory.deletingLastPathComponent()
    }
    return directory.appendingPathComponent("tsmfs").path
}

struct HarnessError: Error, CustomStringConvertible {
    var description: String
}

/// One `tsmfs mount` daemon on a temporary mount point, spawned as a separate process.
///
/// Readiness is observed, never slept for: the mount point's device differs from its parent's and
/// statfs reaches the filesystem while the daemon is alive, checked until a deadline. ``stop(_:)``
/// (or `deinit`) always leaves nothing mounted.
final class MountedTSMFS {
    let directory: String
    let root: String
    let process: Process
    let logPath: String
    private var stopped = false

    /// Spawns `tsmfs mount ROOT EXTRA...` and waits for the mount.
    /// With `sysroot`, runs `tsmfs mount --sysroot DIR EXTRA...` instead, DIR in its own
    /// temporary directory.
    init(
        _ extra: [String] = [], mountAt existing: String? = nil, sysroot: Bool = false,
        environment: [String: String] = [:], deadline: Duration = .seconds(20)
    ) throws {
        directory = try makeTemporaryDirectory()
        root = existing ?? directory + (sysroot ? "/root" : "/tsm")
        logPath = directory + "/daemon.log"
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        process = Process()
        process.executableURL = URL(fileURLWithPath: tsmfsBinary())
        process.arguments = sysroot ? ["mount", "--sysroot", root] + extra : ["mount", root] + extra
        let log = FileHandle(forWritingAtPath: logPath)
        process.standardOutput = log
        process.standardError = log
        process.standardInput = FileHandle.nullDevice
        if !environment.isEmpty {
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        }
        try process.run()
        try waitForMount(deadline: deadline)
    }

    private func waitForMount(deadline: Duration) throws {
        let clock = ContinuousClock()
        let end = clock.now + deadline
        while clock.now < end {
            guard process.isRunning else {
                throw HarnessError(description: "tsmfs exited (\(process.terminationStatus)) before mounting: \(log)")
            }
            // A dead mount can still stat as a mount point from the kernel's cache: only a
            // statfs that reaches a live daemon counts.
            if isMountPoint(root) && statfsErrno(root) == 0 { return }
            usleep(2_000)  // poll interval, not a wait for readiness
        }
        stop()
        throw HarnessError(description: "tsmfs did not mount \(root) within \(deadline): \(log)")
    }

    var log: String {
        (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
    }

    var pid: pid_t { process.processIdentifier }

    func path(_ relative: String) -> String { root + "/" + relative }

    /// Sends `signal` and waits for the exit; returns the exit status (or 128 + signal).
    @discardableResult
    func stop(_ signal: Int32 = SIGTERM, deadline: Duration = .seconds(10)) -> Int32 {
        if !stopped {
            stopped = true
            if process.isRunning { kill(pid, signal) }
            let clock = ContinuousClock()
            let end = clock.now + deadline
            while process.isRunning && clock.now < end { usleep(1_000) }
            if process.isRunning {
                kill(pid, SIGKILL)
                process.waitUntilExit()
            }
        }
        return process.terminationReason == .uncaughtSignal
            ? 128 + process.terminationStatus : process.terminationStatus
    }

    /// Detaches whatever is still mounted at the root (a killed daemon's stale mount).
    func forceUnmount() {
        if isMountPoint(root) || statfsErrno(root) == ENOTCONN { umount2(root, Int32(MNT_DETACH)) }
    }

    deinit {
        stop()
        forceUnmount()
        try? FileManager.default.removeItem(atPath: directory)
    }
}

/// The mount check of the harness: the directory's device differs from its parent's.
func isMountPoint(_ path: String) -> Bool {
    var st = stat(), parent = stat()
    guard stat(path, &st) == 0, stat(path + "/..", &parent) == 0 else { return false }
    return st.st_dev != parent.st_dev
}

func statfsErrno(_ path: String) -> Int32 {
    var buffer = statvfs()
    return statvfs(path, &buffer) == 0 ? 0 : errno
}

/// True when the mount table lists `path`.
func mountTableLists(_ path: String) -> Bool {
    let table = (try? String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8)) ?? ""
    return table.split(separator: "\n").contains {
        $0.split(separator: " ").dropFirst(4).first.map(String.init) == path
    }
}
