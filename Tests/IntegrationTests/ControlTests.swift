import Foundation
import Glibc
import Testing
import TestSupport

/// `tsmfs ctl` through a mount's control socket (issue: reboot, reset, fault injection).
@Suite("Control socket", .serialized, .needsMount)
struct ControlTests {
    func ctl(_ socket: String, _ request: String) throws -> ShellResult {
        try shell("'\(tsmfsBinary())' ctl --socket '\(socket)' \(request)")
    }

    @Test("reboot: RTMRs back to boot values, runtime log emptied, report entries gone, launch values kept")
    func reboot() throws {
        let socket = NSTemporaryDirectory() + "tsmfs-ctl-reboot-\(getpid()).sock"
        let live = try MountedTSMFS(["--guest", "tdx", "--control", socket], sysroot: true)
        #expect(live.log.contains("control socket \(socket)"))
        var st = stat()
        #expect(stat(socket, &st) == 0 && st.st_mode & 0o777 == 0o600, "owner-only socket")
        let tdx = live.path("sys/kernel/tsm/tdx")
        let boot = (0..<4).map { Sys.readFile("\(tdx)/rtmr\($0)/digest").value ?? [] }
        let mrtd = Sys.readFile(tdx + "/mrtd/digest").value
        for rtmr in 0..<4 {
            #expect(Sys.writeFile("\(tdx)/rtmr\(rtmr)/digest", [UInt8](repeating: 1, count: 48)).value == 48)
        }
        let report = live.path("sys/kernel/config/tsm/report")
        #expect(mkdir(report + "/before", 0o755) == 0)
        let r = try ctl(socket, "reboot")
        #expect(r.status == 0, "\(r.text)")
        #expect(r.text.contains("1 report entries removed"))
        #expect((0..<4).map { Sys.readFile("\(tdx)/rtmr\($0)/digest").value ?? [] } == boot)
        #expect(Sys.readFile(tdx + "/mrtd/digest").value == mrtd)
        #expect(try FileManager.default.contentsOfDirectory(atPath: report) == [])
        #expect(try replayedRTMRs(live.root) == boot.map(hex), "the runtime log was emptied with them")
        #expect(live.stop() == 0)
    }

    @Test("set changes a launch value and the next quote shows it; bad requests are refused")
    func set() throws {
        let socket = NSTemporaryDirectory() + "tsmfs-ctl-set-\(getpid()).sock"
        let mount = try MountedTSMFS(["--guest", "tdx", "--control", socket], sysroot: true)
        let value = (0..<48).map { UInt8($0) }
        #expect(try ctl(socket, "set tdx/mrconfigid \(hex(value))").status == 0)
        #expect(Sys.readFile(mount.path("sys/kernel/tsm/tdx/mrconfigid/digest")).value == value)
        #expect(Sys.readFile(mount.path("sys/devices/virtual/misc/tdx_guest/measurements/mrconfigid")).value == value)
        let entry = mount.path("sys/kernel/config/tsm/report/q")
        #expect(mkdir(entry, 0o755) == 0)
        #expect(Sys.writeFile(entry + "/inblob", [UInt8](repeating: 0, count: 64)).value == 64)
        let quote = Sys.readFile(entry + "/outblob", count: 65536).value ?? []
        #expect(quote.count > 280 && Array(quote[232..<280]) == value, "MRCONFIGID in the next quote")
        #expect(rmdir(entry) == 0)
        for bad in ["set tdx/nope 00", "set tdx/mrconfigid 00", "set tdx/mrconfigid zz", "bogus", "fault nonsense"] {
            let r = try ctl(socket, bad)
            #expect(r.status != 0, "\(bad)")
            #expect(r.text.contains("error"), "\(bad): \(r.text)")
        }
        #expect(mount.stop() == 0)
    }

    @Test("armed faults reach clients as the chosen errno; clearing them restores normal answers")
    func faults() throws {
        let socket = NSTemporaryDirectory() + "tsmfs-ctl-faults-\(getpid()).sock"
        let mount = try MountedTSMFS(["--guest", "tdx", "--control", socket], sysroot: true)
        let rtmr = mount.path("sys/kernel/tsm/tdx/rtmr0/digest")
        #expect(try ctl(socket, "fault extend:EBUSY:5").status == 0)
        #expect(try ctl(socket, "faults").text.contains("extend"))
        #expect(Sys.writeFile(rtmr, [UInt8](repeating: 0, count: 48)).error == .EBUSY)
        #expect(try ctl(socket, "faults clear").status == 0)
        #expect(Sys.writeFile(rtmr, [UInt8](repeating: 0, count: 48)).value == 48)
        // Every extend of one register, the others untouched.
        #expect(try ctl(socket, "fault extend@rtmr2:EIO:all").status == 0)
        let rtmr2 = mount.path("sys/kernel/tsm/tdx/rtmr2/digest")
        for _ in 0..<3 { #expect(Sys.writeFile(rtmr2, [UInt8](repeating: 0, count: 48)).error == .EIO) }
        #expect(Sys.writeFile(rtmr, [UInt8](repeating: 0, count: 48)).value == 48)
        #expect(try ctl(socket, "faults").text.contains("extend@rtmr2 "))
        #expect(try ctl(socket, "faults clear").status == 0)
        #expect(Sys.writeFile(rtmr2, [UInt8](repeating: 0, count: 48)).value == 48)
        #expect(try ctl(socket, "fault outblob:ETIMEDOUT").status == 0)
        let entry = mount.path("sys/kernel/config/tsm/report/f")
        #expect(mkdir(entry, 0o755) == 0)
        #expect(Sys.writeFile(entry + "/inblob", [UInt8](repeating: 0, count: 64)).value == 64)
        #expect(Sys.readFile(entry + "/outblob", count: 65536).error == .ETIMEDOUT)
        #expect((Sys.readFile(entry + "/outblob", count: 65536).value?.count ?? 0) > 0, "one fault, then normal again")
        // An empty outblob, and a report mkdir that fails.
        #expect(try ctl(socket, "fault empty").status == 0)
        #expect(Sys.writeFile(entry + "/inblob", [UInt8](repeating: 1, count: 64)).value == 64)
        #expect(Sys.readFile(entry + "/outblob", count: 65536).value == [])
        #expect(rmdir(entry) == 0)
        #expect(try ctl(socket, "fault mkdir:ENXIO").status == 0)
        #expect(mkdir(entry, 0o755) == -1 && errno == ENXIO)
        #expect(mkdir(entry, 0o755) == 0, "one fault, then normal again")
        #expect(rmdir(entry) == 0)
        #expect(mount.log.contains("injected fault"))
        #expect(mount.stop() == 0)
    }

    @Test("a reboot is recorded in --state and replayed after a restart")
    func rebootWithState() throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let socket = directory + "/ctl.sock", state = directory + "/state", root = directory + "/root"
        let first = try MountedTSMFS(
            ["--guest", "tdx", "--state", state, "--control", socket], mountAt: root, sysroot: true)
        let rtmr = first.path("sys/kernel/tsm/tdx/rtmr1/digest")
        let boot = Sys.readFile(rtmr).value
        #expect(Sys.writeFile(rtmr, [UInt8](repeating: 3, count: 48)).value == 48)
        #expect(try ctl(socket, "reboot").status == 0)
        #expect(Sys.writeFile(rtmr, [UInt8](repeating: 4, count: 48)).value == 48)
        let expected = Sys.readFile(rtmr).value
        #expect(first.stop(SIGKILL) == 128 + SIGKILL)
        let second = try MountedTSMFS(
            ["--guest", "tdx", "--state", state, "--control", socket], mountAt: root, sysroot: true)
        // Once seen failing (nil) under a full parallel run: say why, with the daemon's log.
        let reread = Sys.readFile(second.path("sys/kernel/tsm/tdx/rtmr1/digest"))
        #expect(reread.value == expected, "\(String(describing: reread.error)); log: \(second.log)")
        #expect(expected == boot.map { extendDigest("sha384", $0, [UInt8](repeating: 4, count: 48)) })
        #expect(
            try replayedRTMRs(second.root)[1] == hex(expected ?? []),
            "the runtime log holds only the extend after the reboot")
        #expect(second.stop() == 0)
    }

    @Test("a silent client is dropped after 2 s with an error, and cannot hold up SIGTERM")
    func silentClient() throws {
        let socket = NSTemporaryDirectory() + "tsmfs-ctl-silent-\(getpid()).sock"
        let mount = try MountedTSMFS(["--control", socket])
        let clock = ContinuousClock()
        let silent = try connectControl(socket)
        let start = clock.now
        // Seen failing under parallel runs (the daemon gone, or deaf to SIGTERM): say so with its log.
        #expect(receiveAll(silent) == "error: no whole request line within 2 seconds\n", "log: \(mount.log)")
        #expect(clock.now - start > .milliseconds(1500), "dropped for its silence, not at once")
        close(silent)
        #expect(try ctl(socket, "reboot").text == "ok: rebooted; 0 report entries removed\n", "served again")

        // Connected, silent, and the server blocked reading it: the stop cuts the connection.
        // The server serves one connection at a time: `held` waits in the backlog behind a
        // request whose reply this test reads to its end, so the server has finished that one and
        // goes on to accept `held`; that it did is seen in /proc/net/unix (below).
        let before = try connectControl(socket)
        let held = try connectControl(socket)
        defer { close(held) }
        _ = "reboot\n".withCString { send(before, $0, strlen($0), Int32(MSG_NOSIGNAL)) }
        #expect(receiveAll(before) == "ok: rebooted; 0 report entries removed\n")
        close(before)
        try waitUntilAccepted(socket, deadline: clock.now + .seconds(10))
        let stopping = clock.now
        #expect(mount.stop() == 0, "log: \(mount.log)")
        #expect(clock.now - stopping < .milliseconds(1500), "the control thread was stopped and joined, not timed out")
        #expect(access(socket, F_OK) == -1, "the socket is removed")
        #expect(receiveAll(held) == "", "a request cut short by the stop is not answered")
    }

    func connectControl(_ path: String) throws -> Int32 {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { buffer in
            for (index, byte) in path.utf8.enumerated() where index < buffer.count - 1 { buffer[index] = byte }
        }
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        guard fd >= 0, connected == 0 else { throw POSIXError(.init(rawValue: errno) ?? .EIO) }
        return fd
    }

    /// Waits until the server has accepted a connection of `path` (the only one left open): an
    /// accepted Unix stream socket is listed in /proc/net/unix with the listener's path, state
    /// connected (03) and an inode, where one still in the backlog has inode 0. Fails at
    /// `deadline` rather than hang.
    func waitUntilAccepted(_ path: String, deadline: ContinuousClock.Instant) throws {
        while ContinuousClock.now < deadline {
            let table = try String(contentsOfFile: "/proc/net/unix", encoding: .utf8)
            let accepted = table.split(separator: "\n").contains { line in
                let fields = line.split(separator: " ", omittingEmptySubsequences: true)
                return fields.count == 8 && fields[7] == path && fields[5] == "03" && fields[6] != "0"
            }
            if accepted { return }
            sched_yield()
        }
        Issue.record("the control server did not accept the held connection within the deadline")
    }

    func receiveAll(_ fd: Int32) -> String {
        var bytes: [UInt8] = [], chunk = [UInt8](repeating: 0, count: 1024)
        while true {
            let count = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count < 0 && errno == EINTR { continue }
            if count <= 0 { return String(decoding: bytes, as: UTF8.self) }
            bytes += chunk[0..<count]
        }
    }
}
