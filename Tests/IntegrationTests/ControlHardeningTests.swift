import Foundation
import Glibc
import Testing
import TestSupport

/// The control plane against hostile and careless clients (issue 11, classes 4 to 7).
@Suite("Control socket hardening", .serialized, .needsMount)
struct ControlHardeningTests {
    func ctl(_ arguments: String) throws -> ShellResult {
        try shell("'\(tsmfsBinary())' ctl \(arguments) 2>&1")
    }

    @Test(
        "an empty or relative --control is refused before anything is mounted",
        arguments: ["''", "relative.sock", "@abstract"])
    func refusedPaths(path: String) throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let r = try shell("'\(tsmfsBinary())' mount '\(directory)/m' --control \(path) 2>&1")
        #expect(r.status != 0)
        #expect(r.text.contains("--control needs an absolute path"), "\(r.text)")
        #expect(!mountTableLists(directory + "/m"))
    }

    @Test(
        """
        mount points whose names would collide get their own sockets; ctl --mount reaches the right one, relative \
        paths too
        """
    )
    func distinctSockets() throws {
        let base = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: base) }
        try FileManager.default.createDirectory(atPath: base + "/a/b", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: base + "/a-b", withIntermediateDirectories: true)
        let nested = try MountedTSMFS(["--provider", "tdx"], mountAt: base + "/a/b")
        let dashed = try MountedTSMFS(["--provider", "tdx"], mountAt: base + "/a-b")
        let value = [UInt8](repeating: 0xAB, count: 48)
        let set = try shell("cd '\(base)' && '\(tsmfsBinary())' ctl --mount a-b set tdx/mrconfigid \(hex(value)) 2>&1")
        #expect(set.status == 0, "\(set.text)")
        #expect(Sys.readFile(dashed.path("tdx/mrconfigid/digest")).value == value)
        #expect(Sys.readFile(nested.path("tdx/mrconfigid/digest")).value != value, "the set landed on the other mount")
        #expect(nested.stop() == 0 && dashed.stop() == 0)
    }

    @Test("a live socket is never taken over: a second daemon on the same --control is refused")
    func noStealing() throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let socket = directory + "/ctl.sock"
        let first = try MountedTSMFS(["--control", socket])
        let second = try shell("'\(tsmfsBinary())' mount '\(directory)/other' --control '\(socket)' 2>&1")
        #expect(second.status != 0)
        #expect(second.text.contains("belongs to a running tsmfs"), "\(second.text)")
        #expect(!mountTableLists(directory + "/other"))
        #expect(
            try ctl("--socket '\(socket)' faults").text.contains("needs a --sysroot"), "the first daemon still answers")
        #expect(first.stop() == 0)
    }

    @Test("a request over 8 KiB is refused whole, and nothing of it is done")
    func longRequest() throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let socket = directory + "/ctl.sock"
        let mount = try MountedTSMFS(["--control", socket])
        let before = Sys.readFile(mount.path("tdx/mrconfigid/digest")).value
        let value = hex([UInt8](repeating: 0xCD, count: 48))
        let r = try ctl("--socket '\(socket)' set tdx/mrconfigid \(value) \(String(repeating: "x", count: 9000))")
        #expect(r.status != 0)
        #expect(r.text.contains("request longer than 8192 bytes"), "\(r.text)")
        #expect(Sys.readFile(mount.path("tdx/mrconfigid/digest")).value == before)
        #expect(mount.stop() == 0)
    }

    @Test("ctl gives up on a daemon that never answers, with a clear message")
    func silentServer() throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let socket = directory + "/silent.sock"
        // A listener that accepts and says nothing, holding the connection until ctl closes it
        // (or 30 s pass), gone when the test's shell ends. It says "up" through a FIFO once it
        // listens, and the shell's read of the FIFO blocks until then (10 s at most; an early end
        // of the server is an end of file, not a hang).
        let r = try shell(
            """
            mkfifo '\(directory)/up'
            python3 -c 'import socket,sys; s=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1]); s.listen(1); \
            print("up", flush=True); c,_=s.accept(); c.settimeout(30); [None for _ in iter(lambda: c.recv(4096), \
            b"")]' '\(socket)' > '\(directory)/up' &
            server=$!; trap 'kill $server 2>/dev/null' EXIT
            read -r -t 10 ready < '\(directory)/up' && [ "$ready" = up ] || { echo "the silent server never \
            listened"; exit 2; }
            '\(tsmfsBinary())' ctl --socket '\(socket)' --timeout 1 reboot 2>&1
            """)
        #expect(r.status != 0)
        #expect(r.text.contains("no reply from the control socket"), "\(r.text)")
    }

    @Test(
        "set is refused where it cannot hold: an RTMR the event log records, a derived register",
        arguments: [
            "set tdx/rtmr2", "set tdx/report0",
        ])
    func impossibleSets(request: String) throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let socket = directory + "/ctl.sock"
        let mount = try MountedTSMFS(["--guest", "tdx", "--control", socket], sysroot: true)
        let size = request.hasSuffix("report0") ? 1024 : 48
        let r = try ctl("--socket '\(socket)' \(request) \(hex([UInt8](repeating: 1, count: size)))")
        #expect(r.status != 0)
        #expect(
            r.text.contains(request.hasSuffix("report0") ? "is derived from other registers" : "event log records"),
            "\(r.text)")
        #expect(
            try replayedRTMRs(mount.root)
                == (0..<4).map { hex(Sys.readFile(mount.path("sys/kernel/tsm/tdx/rtmr\($0)/digest")).value ?? []) })
        #expect(mount.stop() == 0)
    }
}
