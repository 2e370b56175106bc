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

    @Test("ctl answers while three silent clients and one trickling client are connected (issue 24)")
    func concurrentClients() throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let socket = directory + "/ctl.sock"
        let mount = try MountedTSMFS(["--control", socket])
        // Four clients connect and are accepted (each has had a byte of the trickle or nothing
        // sent); then ctl runs. After it answers, each client is checked without blocking: still
        // connected with no reply means ctl was answered before their 2 s deadline could expire.
        // Then each waits for its own reply: the trickler, which would need 40 s for its 20
        // bytes, is cut off by the total deadline, not reset by every byte.
        let r = try shell(
            """
            python3 - '\(socket)' '\(tsmfsBinary())' <<'PY'
            import socket, subprocess, sys, threading, time
            path, tsmfs = sys.argv[1], sys.argv[2]
            clients = []
            for _ in range(4):
                c = socket.socket(socket.AF_UNIX); c.connect(path); clients.append(c)
            def trickle(c):
                for _ in range(20):
                    try:
                        c.send(b"f"); time.sleep(1.5)
                    except OSError:
                        return
            threading.Thread(target=trickle, args=(clients[3],), daemon=True).start()
            ctl = subprocess.run([tsmfs, "ctl", "--socket", path, "faults"], capture_output=True, text=True)
            waiting = 0
            for c in clients:
                c.setblocking(False)
                try:
                    waiting += 0 if c.recv(1) else 0
                except BlockingIOError:
                    waiting += 1
            replies = []
            for c in clients:
                c.setblocking(True); c.settimeout(30)
                data = b""
                try:
                    while chunk := c.recv(4096):
                        data += chunk
                except OSError:
                    pass
                replies.append(data.decode(errors="replace").strip())
            print(f"ctl_rc={ctl.returncode} still_waiting={waiting}")
            print(ctl.stdout + ctl.stderr)
            print("\\n".join(replies))
            PY
            """)
        #expect(r.text.contains("still_waiting=4"), "\(r.text) \(r.stderr)")
        #expect(r.text.contains("needs a --sysroot"), "ctl's reply: \(r.text)")
        #expect(
            r.text.components(separatedBy: "no whole request line within 2 seconds").count == 5,
            "each held client is answered at its deadline: \(r.text)")
        #expect(mount.stop() == 0)
    }

    @Test("more than 16 clients at once: the extra one is told so, and ctl still gets through afterwards")
    func clientCap() throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let socket = directory + "/ctl.sock"
        let mount = try MountedTSMFS(["--control", socket])
        let r = try shell(
            """
            python3 - '\(socket)' <<'PY'
            import socket, sys
            held = []
            for _ in range(16):
                c = socket.socket(socket.AF_UNIX); c.connect(sys.argv[1]); held.append(c)
            # The 17th is refused at once, unless one of the 16 has not been counted yet: retry.
            for _ in range(50):
                extra = socket.socket(socket.AF_UNIX); extra.connect(sys.argv[1]); extra.settimeout(10)
                reply = extra.recv(4096).decode()
                if "too many" in reply:
                    break
            print(reply)
            PY
            """)
        #expect(r.text.contains("too many control clients (16 at once)"), "\(r.text) \(r.stderr)")
        #expect(try ctl("--socket '\(socket)' faults").text.contains("needs a --sysroot"))
        #expect(mount.stop() == 0)
    }

    @Test("ctl as another user: EACCES names the owner, and --mount finds root's socket in /run/tsmfs")
    func anotherUser() throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        chmod(directory, 0o755)
        let socket = directory + "/ctl.sock"
        let mount = try MountedTSMFS(["--control", socket])
        let nobody = "setpriv --reuid=65534 --regid=65534 --clear-groups '\(tsmfsBinary())' ctl"
        let explicit = try shell("\(nobody) --socket '\(socket)' faults 2>&1")
        #expect(explicit.status != 0)
        #expect(explicit.text.contains("belongs to uid 0, this is uid 65534"), "\(explicit.text)")
        #expect(!explicit.text.contains("is the mount running"), "\(explicit.text)")
        #expect(mount.stop() == 0)
        let defaultMount = try MountedTSMFS([], mountAt: directory + "/m")
        let found = try shell("cd / && \(nobody) --mount '\(directory)/m' faults 2>&1")
        #expect(found.status != 0)
        #expect(found.text.contains("/run/tsmfs/m-"), "ctl looked elsewhere: \(found.text)")
        #expect(!found.text.contains("/tmp/tsmfs-65534"), "\(found.text)")
        #expect(defaultMount.stop() == 0)
    }
}
