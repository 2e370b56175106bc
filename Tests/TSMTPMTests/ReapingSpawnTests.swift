import Glibc
import TestSupport
import Testing

@testable import TSMTPM

/// swtpm_setup is run through a reaper (clinux_spawn_reaping): whatever it leaves behind is reaped
/// before its status is known, never left to init as a zombie.
@Suite("spawning through a reaper")
struct ReapingSpawnTests {
    /// Runs `script` with `sh -c` on the spawner thread, `reap` as given; waits for it. Returns
    /// its exit code and the pid it wrote to its pid file.
    func run(_ script: String, reap: Bool) throws -> (code: Int32, orphan: pid_t) {
        let directory = try makeTemporaryDirectory("tsmfs-reap")
        defer { removeTree(directory) }
        let file = directory + "/pid"
        let (pid, pidfd) = try SwtpmLauncher.spawn(
            ["/bin/sh", "-c", script.replacingOccurrences(of: "PIDFILE", with: file)], keeping: [], reap: reap)
        close(pidfd)
        var status: Int32 = 0
        var result: pid_t
        repeat { result = waitpid(pid, &status, 0) } while result < 0 && errno == EINTR
        try #require(result == pid)
        let code: Int32 = status & 0x7F == 0 ? (status >> 8) & 0xFF : 128 + (status & 0x7F)
        let text = try String(contentsOfFile: file, encoding: .utf8)
        return (code, pid_t(text.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0)
    }

    @Test("a child the program leaves behind is reaped before the program's status comes back")
    func orphanReaped() throws {
        let reaped = try run("sleep 0.3 & echo $! > PIDFILE; exit 3", reap: true)
        #expect(reaped.code == 3)
        #expect(reaped.orphan > 0)
        // Gone, not a zombie: kill(pid, 0) fails with ESRCH.
        #expect(kill(reaped.orphan, 0) != 0 && errno == ESRCH)
        // Without the reaper the same child outlives the program (the test's control).
        let left = try run("sleep 0.3 & echo $! > PIDFILE; exit 0", reap: false)
        #expect(left.code == 0)
        #expect(kill(left.orphan, 0) == 0, "the unreaped orphan should still exist")
    }

    @Test("a program killed by a signal reports 128 + the signal; a missing one is ENOENT")
    func statuses() throws {
        #expect(try run("echo 0 > PIDFILE; kill -TERM $$", reap: true).code == 128 + SIGTERM)
        #expect(throws: VTPMError.swtpmMissing(program: "/nonexistent/swtpm_setup")) {
            try SwtpmLauncher.spawn(["/nonexistent/swtpm_setup"], keeping: [], reap: true)
        }
    }
}
