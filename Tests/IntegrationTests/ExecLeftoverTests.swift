import Crypto
import Foundation
import Glibc
import Testing
import TestSupport

/// Nothing outlives `tsmfs exec` (issue 11, class 8), and exec answers as a shell would.
@Suite("tsmfs exec: leftovers and first contact", .serialized, .needsMount)
struct ExecLeftoverTests {
    @Test("exec killed with SIGKILL: its command and daemon end, the control socket and the directory go")
    func sigkill() throws {
        let seed = "exec-sigkill-\(getpid())"
        let logDirectory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: logDirectory) }
        let log = logDirectory + "/exec.log", fifo = logDirectory + "/command"
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        try #require(mkfifo(fifo, 0o600) == 0)
        let exec = Process()
        exec.executableURL = URL(fileURLWithPath: tsmfsBinary())
        // The command says its pid through the FIFO once it runs, which is after the daemon has
        // mounted: observed, never polled for.
        exec.arguments = ["exec", "--seed", seed, "--", "sh", "-c", "echo $$ > '\(fifo)'; exec sleep 3600"]
        exec.standardOutput = FileHandle(forWritingAtPath: log)
        exec.standardError = FileHandle(forWritingAtPath: log)
        exec.standardInput = FileHandle.nullDevice
        try exec.run()
        let pid = exec.processIdentifier
        let execEnd = ProcessExit(pid)
        let line = readLine(fromFIFO: fifo, orEndOf: execEnd, within: .seconds(20))
        let execLog = { (try? String(contentsOfFile: log, encoding: .utf8)) ?? "" }
        let command = try #require(line.flatMap { pid_t($0) }, "exec's command never started: \(execLog())")
        #expect(parent(of: command) == pid, "exec's command \(command) is not exec's child")
        let daemons = daemonPids(seed: seed)
        #expect(daemons.count == 1, "the daemon is not running: \(daemons)")
        let directories = try FileManager.default.contentsOfDirectory(atPath: "/tmp").filter {
            $0.hasPrefix("tsmfs-exec.\(pid).")
        }
        #expect(directories.count == 1)
        // The daemon's default control socket: the sysroot's name and a hash of its absolute path.
        let sysroot = "/tmp/\(directories.first ?? "")/root"
        let socket = "/run/tsmfs/root-" + hex(Array(SHA256.hash(data: Array(sysroot.utf8)).prefix(8))) + ".sock"
        #expect(waitForFiles([socket], within: .seconds(20)), "the socket is not where this test looks: \(socket)")
        // Opened before the kill, while both still run: their ends are then observed on pidfds.
        let commandEnd = ProcessExit(command), daemonEnds = daemons.map(ProcessExit.init)
        kill(pid, SIGKILL)
        // The command got SIGKILL from the kernel when exec died (PR_SET_PDEATHSIG); it was
        // reparented, and its pidfd says when it ends (a zombie counts). Checked before exec is
        // reaped: Foundation's wait would also wait for a command that outlived exec.
        #expect(commandEnd.wait(within: .seconds(10)), "exec's command \(command) outlived exec")
        if alive(command) { kill(command, SIGKILL) }
        exec.waitUntilExit()  // reaped, as the shell that ran it would
        #expect(daemonEnds.allSatisfy { $0.wait(within: .seconds(10)) }, "the daemon outlived exec")
        #expect(!daemonsRunning(seed: seed), "the daemon outlived exec")
        // The daemon removed exec's directory as it ended: no next exec is needed for it.
        let kept = try FileManager.default.contentsOfDirectory(atPath: "/tmp").filter {
            $0.hasPrefix("tsmfs-exec.\(pid).")
        }
        #expect(kept.isEmpty, "exec's directory outlived it: \(kept)")
        #expect(!FileManager.default.fileExists(atPath: socket), "\(socket) outlived exec")
        #expect(try shell("'\(tsmfsBinary())' exec --seed \(seed)-2 -- true").status == 0)
        let left = try FileManager.default.contentsOfDirectory(atPath: "/tmp").filter {
            $0.hasPrefix("tsmfs-exec.\(pid).")
        }
        #expect(left.isEmpty, "\(left)")
    }

    /// The first line written to the FIFO `path`, or nil when `writer` ends first or `deadline`
    /// passes. Opened without blocking: poll waits for the writer's line and for its end together.
    func readLine(fromFIFO path: String, orEndOf writer: ProcessExit, within deadline: Duration) -> String? {
        let fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        let clock = ContinuousClock(), end = clock.now + deadline
        var bytes: [UInt8] = []
        while clock.now < end {
            var entries = [
                pollfd(fd: fd, events: Int16(POLLIN), revents: 0),
                pollfd(fd: writer.descriptor, events: Int16(POLLIN), revents: 0),
            ]
            _ = poll(&entries, 2, max(0, milliseconds(clock.now.duration(to: end))))
            var chunk = [UInt8](repeating: 0, count: 64)
            let count = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count > 0 { bytes += chunk[0..<count] }
            if let newline = bytes.firstIndex(of: 10) { return String(decoding: bytes[..<newline], as: UTF8.self) }
            if count == 0 && entries[0].revents & Int16(POLLHUP) != 0 { return nil }  // written and closed, no line
            if entries[1].revents != 0 && count <= 0 { return nil }
        }
        return nil
    }

    /// The parent of `pid`, from /proc/PID/stat; nil when it is gone.
    func parent(of pid: pid_t) -> pid_t? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { return nil }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        return fields.count > 1 ? pid_t(fields[1]) : nil
    }

    /// Whether `pid` exists and is not a zombie.
    func alive(_ pid: pid_t) -> Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { return false }
        return stat[stat.index(after: close)...].split(separator: " ").first != "Z"
    }

    @Test("a child the command leaves in the background keeps running after exec ends normally (README's promise)")
    func backgroundChildKeepsRunning() throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let r = try shell(
            """
            '\(tsmfsBinary())' exec -- sh -c 'sleep 300 > /dev/null 2>&1 & echo $! > \(directory)/pid; exit 0'
            echo "exec=$?"
            kill -0 "$(cat \(directory)/pid)" && echo alive=yes
            kill "$(cat \(directory)/pid)"
            """)
        #expect(r.text.contains("exec=0"), "\(r.text) \(r.stderr)")
        #expect(r.text.contains("alive=yes"), "\(r.text) \(r.stderr)")
    }

    @Test("a command that leaves a child behind: once exec ends, the child sees the host's paths, never ENOTCONN")
    func backgroundChild() throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let r = try shell(
            """
            mkfifo \(directory)/go \(directory)/rc
            '\(tsmfsBinary())' exec -- sh -c '(read -r _ < \(directory)/go; cat /sys/kernel/tsm/tdx/rtmr0/digest \
            > /dev/null 2> \(directory)/err; echo $? > \(directory)/rc) > /dev/null 2>&1 & exit 0'
            echo go > \(directory)/go
            read -r rc < \(directory)/rc
            cat \(directory)/err
            """)
        #expect(r.status == 0)
        #expect(!r.text.contains("Transport endpoint is not connected"), "\(r.text)")
        #expect(r.text.contains("No such file or directory") || Sys.stat("/sys/kernel/tsm").value != nil, "\(r.text)")
    }

    @Test(
        "exec --help and -h print the help; a missing command exits 127, as a shell's does",
        arguments: ["--help", "-h"])
    func help(flag: String) throws {
        let r = try shell("'\(tsmfsBinary())' exec \(flag)")
        #expect(r.status == 0 && r.text.contains("USAGE: tsmfs exec"), "\(r.text) \(r.stderr)")
        let missing = try shell("'\(tsmfsBinary())' exec -- /nonexistent/command")
        #expect(missing.status == 127, "\(missing.stderr)")
        #expect(missing.stderr.contains("cannot run /nonexistent/command"))
    }

    @Test("exec takes --state, --log-level and --inject-fault and hands them to its daemon")
    func daemonOptions() throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let r = try shell(
            """
            '\(tsmfsBinary())' exec --state '\(directory)/state' --log-level notice --inject-fault mkdir:ENXIO -- \
                sh -c 'mkdir /sys/kernel/config/tsm/report/q 2>&1; printf "%096d" 0 | xxd -r -p > \
            /sys/kernel/tsm/tdx/rtmr3/digest' 2>&1
            """)
        #expect(r.status == 0, "\(r.text)")
        #expect(r.text.contains("No such device or address"), "\(r.text)")
        #expect(r.text.contains("state \(directory)/state: new state file"), "\(r.text)")
        #expect(FileManager.default.fileExists(atPath: directory + "/state"))
    }
}
