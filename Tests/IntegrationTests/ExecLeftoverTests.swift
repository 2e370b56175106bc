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
        let log = logDirectory + "/exec.log"
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        let exec = Process()
        exec.executableURL = URL(fileURLWithPath: tsmfsBinary())
        exec.arguments = ["exec", "--seed", seed, "--", "sleep", "3600"]
        exec.standardOutput = FileHandle(forWritingAtPath: log)
        exec.standardError = FileHandle(forWritingAtPath: log)
        exec.standardInput = FileHandle.nullDevice
        try exec.run()
        let pid = exec.processIdentifier
        let clock = ContinuousClock(), deadline = clock.now + .seconds(20)
        while !daemonsRunning(seed: seed) && clock.now < deadline { usleep(20_000) }
        #expect(
            daemonsRunning(seed: seed),
            "the daemon never started: \((try? String(contentsOfFile: log, encoding: .utf8)) ?? "")")
        let directories = try FileManager.default.contentsOfDirectory(atPath: "/tmp").filter {
            $0.hasPrefix("tsmfs-exec.\(pid).")
        }
        #expect(directories.count == 1)
        let expectedSocket =
            "/run/tsmfs/root-"
            + hex(Array(SHA256.hash(data: Array("/tmp/\(directories.first ?? "")/root".utf8)).prefix(8))) + ".sock"
        // The daemon process runs before it binds its socket: wait for the socket, not the process.
        while !FileManager.default.fileExists(atPath: expectedSocket) && clock.now < deadline { usleep(20_000) }
        #expect(
            FileManager.default.fileExists(atPath: expectedSocket),
            "the socket is not where this test looks: \(expectedSocket)")
        var command = children(of: pid, named: "sleep")
        while command.isEmpty && clock.now < deadline {
            usleep(20_000)
            command = children(of: pid, named: "sleep")
        }
        #expect(command.count == 1, "exec's command is not running: \(command)")
        kill(pid, SIGKILL)
        // The command got SIGKILL from the kernel when exec died (PR_SET_PDEATHSIG); it was
        // reparented, so it is gone once /proc says so (a zombie's state is Z). Checked before
        // exec is reaped: Foundation's wait would also wait for a command that outlived exec.
        while command.contains(where: { alive($0) }) && clock.now < deadline + .seconds(10) { usleep(20_000) }
        #expect(!command.contains(where: { alive($0) }), "exec's command \(command) outlived exec")
        for leftover in command where alive(leftover) { kill(leftover, SIGKILL) }
        exec.waitUntilExit()  // reaped, as the shell that ran it would
        while daemonsRunning(seed: seed) && clock.now < deadline + .seconds(10) { usleep(20_000) }
        #expect(!daemonsRunning(seed: seed), "the daemon outlived exec")
        // The daemon removed exec's directory as it ended: no next exec is needed for it.
        let kept = try FileManager.default.contentsOfDirectory(atPath: "/tmp").filter {
            $0.hasPrefix("tsmfs-exec.\(pid).")
        }
        #expect(kept.isEmpty, "exec's directory outlived it: \(kept)")
        // The daemon's default control socket: the sysroot's name and a hash of its absolute path.
        let sysroot = "/tmp/\(directories.first ?? "")/root"
        let socket = "/run/tsmfs/root-" + hex(Array(SHA256.hash(data: Array(sysroot.utf8)).prefix(8))) + ".sock"
        #expect(!FileManager.default.fileExists(atPath: socket), "\(socket) outlived exec")
        #expect(try shell("'\(tsmfsBinary())' exec --seed \(seed)-2 -- true").status == 0)
        let left = try FileManager.default.contentsOfDirectory(atPath: "/tmp").filter {
            $0.hasPrefix("tsmfs-exec.\(pid).")
        }
        #expect(left.isEmpty, "\(left)")
    }

    /// The pids whose parent is `parent` and whose command name is `name`.
    func children(of parent: pid_t, named name: String) -> [pid_t] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap { entry -> pid_t? in
            guard let pid = pid_t(entry),
                let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
                let open = stat.firstIndex(of: "("), let close = stat.lastIndex(of: ")")
            else { return nil }
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            return stat[stat.index(after: open)..<close] == name && fields.count > 1 && pid_t(fields[1]) == parent
                ? pid : nil
        }
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
