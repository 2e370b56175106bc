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
/// Readiness is observed, never slept for: each daemon gets its own `$NOTIFY_SOCKET` (an
/// owner-only datagram socket in its temporary directory) and is ready when it says READY=1, which
/// it does once its mount is up; its end is seen on a pidfd in the same poll, so a daemon that
/// fails before it serves fails the test at once, with its log. A READY=1 is this daemon's own:
/// the dead mount a killed predecessor left at the same path cannot pass for it. ``stop(_:)`` (or
/// `deinit`) waits for the exit on the pidfd and always leaves nothing mounted.
final class MountedTSMFS {
    let directory: String
    let root: String
    let process: Process
    let logPath: String
    /// The daemon's `$NOTIFY_SOCKET`; its ``NotifySocket/messages`` are what the daemon said.
    let notify: NotifySocket
    /// The daemon's end, observed.
    let exit: ProcessExit
    private var stopped = false

    /// Spawns `tsmfs mount ROOT EXTRA...` and waits for its READY=1.
    /// With `sysroot`, runs `tsmfs mount --sysroot DIR EXTRA...` instead, DIR in its own
    /// temporary directory. `environment` is added to the test runner's; its NOTIFY_SOCKET is
    /// always the harness's.
    init(
        _ extra: [String] = [], mountAt existing: String? = nil, sysroot: Bool = false,
        environment: [String: String] = [:], deadline: Duration = .seconds(20)
    ) throws {
        directory = try makeTemporaryDirectory()
        root = existing ?? directory + (sysroot ? "/root" : "/tsm")
        logPath = directory + "/daemon.log"
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        notify = try NotifySocket(directory: directory)
        process = Process()
        process.executableURL = URL(fileURLWithPath: tsmfsBinary())
        process.arguments = sysroot ? ["mount", "--sysroot", root] + extra : ["mount", root] + extra
        let log = FileHandle(forWritingAtPath: logPath)
        process.standardOutput = log
        process.standardError = log
        process.standardInput = FileHandle.nullDevice
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
            .merging(["NOTIFY_SOCKET": notify.path]) { $1 }
        try process.run()
        // Before anything can reap it: Foundation reaps only after it has ended, and the pidfd
        // of a process that ended is readable all the same.
        exit = ProcessExit(process.processIdentifier)
        try waitForReady(deadline: deadline)
    }

    private func waitForReady(deadline: Duration) throws {
        switch notify.wait(for: "READY=1", orEndOf: exit, within: deadline) {
        case .received: return
        case .ended:
            process.waitUntilExit()
            throw HarnessError(description: "tsmfs exited (\(status)) before READY=1: \(log)")
        case .timedOut:
            stop()
            throw HarnessError(description: "tsmfs sent no READY=1 for \(root) within \(deadline): \(log)")
        }
    }

    var log: String {
        (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
    }

    var pid: pid_t { process.processIdentifier }

    func path(_ relative: String) -> String { root + "/" + relative }

    /// Waits until the daemon ends on its own (an outside unmount, a signal sent by the test), or
    /// `deadline` passes; true when it ended. It is not reaped: ``stop(_:deadline:)`` does that.
    func waitForExit(within deadline: Duration) -> Bool {
        exit.wait(within: deadline)
    }

    /// Sends `signal` unless the daemon has ended already, and waits for the exit; returns the
    /// exit status (or 128 + signal). A daemon still running after `deadline` gets SIGKILL.
    @discardableResult
    func stop(_ signal: Int32 = SIGTERM, deadline: Duration = .seconds(10)) -> Int32 {
        if !stopped {
            stopped = true
            // Not reaped before its pidfd says it ended: the pid is still this daemon's.
            if !exit.hasEnded { kill(pid, signal) }
            if !exit.wait(within: deadline) { kill(pid, SIGKILL) }
            process.waitUntilExit()
        }
        return status
    }

    /// The exit status of an ended daemon, 128 + the signal if one killed it.
    private var status: Int32 {
        process.terminationReason == .uncaughtSignal ? 128 + process.terminationStatus : process.terminationStatus
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
