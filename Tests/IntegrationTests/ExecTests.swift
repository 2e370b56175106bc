import Foundation
import Glibc
import Testing
import TestSupport

/// What the host looks like from this process: its mounts and whether tsmfs paths exist.
struct HostView: Equatable {
    var mounts: [String]
    var tsmPaths: [String]

    static func now() -> HostView {
        let table = (try? String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8)) ?? ""
        // Other suites mount and unmount their own temporary directories meanwhile.
        let mounts = table.split(separator: "\n").compactMap {
            $0.split(separator: " ").dropFirst(4).first.map(String.init)
        }
        .filter { !$0.hasPrefix("/tmp/tsmfs-test.") }.sorted()
        let paths = [
            "/sys/kernel/tsm", "/sys/kernel/config/tsm", "/dev/tdx_guest",
            "/sys/devices/virtual/misc/tdx_guest", "/sys/class/misc/tdx_guest",
        ].filter { Sys.stat($0).value != nil }
        return HostView(mounts: mounts, tsmPaths: paths)
    }
}

/// Whether a sysroot daemon started by `tsmfs exec --seed SEED` still runs. Each test uses its own
/// seed: other suites run exec daemons at the same time.
func daemonsRunning(seed: String) -> Bool {
    !daemonPids(seed: seed).isEmpty
}

/// The sysroot daemons started by `tsmfs exec --seed SEED` that run now.
func daemonPids(seed: String) -> [pid_t] {
    // exec's daemon runs `tsmfs mount --spec /tmp/tsmfs-exec.PID.XXXXXX/daemon.json`, a file
    // that lives as long as the daemon does: its seed is in there.
    let processes = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
    return processes.compactMap { pid_t($0) }.filter { pid in
        guard let cmdline = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { return false }
        let argv = cmdline.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
        guard argv.count == 4, argv[1] == "mount", argv[2] == "--spec", argv[3].hasPrefix("/tmp/tsmfs-exec.") else {
            return false
        }
        let spec = FileManager.default.contents(atPath: argv[3]).map { String(decoding: $0, as: UTF8.self) } ?? ""
        return spec.contains("\"seed\":\"\(seed)\"")
    }
}

/// `tsmfs exec`: a command sees the guest's paths at their real places; the host never changes.
@Suite("tsmfs exec", .serialized, .needsMount)
struct ExecTests {
    @Test("the acceptance command works, returns COMMAND's status, and leaves the host as it was")
    func acceptance() throws {
        let before = HostView.now()
        let r = try shell(
            """
            '\(tsmfsBinary())' exec --seed exec-acceptance -- sh -c 'xxd -p /sys/kernel/tsm/tdx/rtmr0/digest; ls \
            /sys/kernel/config/tsm/report; ls /dev/tdx_guest; \
            cat /sys/devices/virtual/misc/tdx_guest/measurements/mrtd:sha384 | wc -c; readlink \
            /sys/class/misc/tdx_guest; \
            ls /sys/kernel/mm > /dev/null && echo kernel-kept; test -e /dev/null && echo dev-kept; exit 7'
            """)
        #expect(r.status == 7, "\(r.stderr)")
        let firstLine = r.text.split(separator: "\n").first.map(String.init) ?? ""
        #expect(firstLine.count == 60 && firstLine.allSatisfy(\.isHexDigit), "xxd -p of RTMR0: \(r.text)")
        #expect(r.text.contains("/dev/tdx_guest"))
        #expect(r.text.contains("48\n"))
        #expect(r.text.contains("../../devices/virtual/misc/tdx_guest"))
        #expect(r.text.contains("kernel-kept"))
        #expect(r.text.contains("dev-kept"))
        #expect(HostView.now() == before)
        #expect(!daemonsRunning(seed: "exec-acceptance"))
    }

    @Test("a quote through the real configfs path, and an extend through the 6.16 path seen in the RFC v2 tree")
    func realPaths() throws {
        let r = try shell(
            """
            '\(tsmfsBinary())' exec --seed ci -- sh -c 'set -e
            mkdir /sys/kernel/config/tsm/report/e
            head -c 64 /dev/zero > /sys/kernel/config/tsm/report/e/inblob
            cat /sys/kernel/config/tsm/report/e/outblob | wc -c
            printf "%096d" 0 | xxd -r -p > /sys/devices/virtual/misc/tdx_guest/measurements/rtmr3:sha384
            xxd -p -c 48 /sys/kernel/tsm/tdx/rtmr3/digest
            rmdir /sys/kernel/config/tsm/report/e'
            """)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(
            r.text.contains(
                "f57bb7ed82c6ae4a29e6c9879338c592c7d42a39135583e8ccbe3940f2344b0eb6eb8503db0ffd6a39ddd00cd07d8317"))
    }

    @Test("signals reach COMMAND; its death by signal is the exit status")
    func signals() throws {
        let before = HostView.now()
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        // The command reports through a FIFO when it is ready, then waits to be signalled.
        let r = try shell(
            """
            mkfifo '\(directory)/ready'
            '\(tsmfsBinary())' exec --seed exec-signals -- sh -c 'echo ready > \(directory)/ready; exec sleep 30' &
            pid=$!
            read -r _ < '\(directory)/ready' || exit 2
            kill -TERM $pid
            wait $pid
            """)
        #expect(r.status == 128 + SIGTERM, "\(r.stderr)")
        #expect(HostView.now() == before)
        #expect(!daemonsRunning(seed: "exec-signals"))
    }

    @Test("a missing command is refused; the command's own failure to start is reported")
    func refusals() throws {
        let none = try shell("'\(tsmfsBinary())' exec 2>&1")
        #expect(none.status != 0)
        #expect(none.text.contains("give a command"))
        let missing = try shell("'\(tsmfsBinary())' exec --seed exec-missing -- /nonexistent/program 2>&1")
        #expect(missing.status != 0)
        #expect(missing.text.contains("cannot run /nonexistent/program"), "\(missing.text)")
        #expect(!daemonsRunning(seed: "exec-missing"))
    }
}
