import Foundation
import Glibc
import Testing
import TestSupport

/// The errors a client may see when the daemon goes away under it: the connection is gone
/// (ENOTCONN), a request in flight was aborted (ECONNABORTED), the path now resolves to the bare
/// mount point (ENOENT), or the kernel reports an I/O error (EIO).
let cleanDisconnectErrors: Set<Int32> = [ENOTCONN, ECONNABORTED, ENOENT, EIO]

func errnoName(_ code: Int32) -> String {
    code == 0 ? "none" : "\(POSIXErrorCode(rawValue: code).map { "\($0)" } ?? "errno") (\(code))"
}

/// The kernel function a process sleeps in, e.g. `request_wait_answer` for a FUSE request.
func waitChannel(_ pid: pid_t) -> String {
    (try? String(contentsOfFile: "/proc/\(pid)/wchan", encoding: .utf8)) ?? ""
}

/// The daemon dying, stopping or being unmounted while clients are busy: every client gets an
/// answer within a deadline, and no mount is left behind.
@Suite("Faults", .needsMount)
struct FaultTests {
    static let data48 = String(repeating: "5a", count: 48)

    @Test("kill -9 under writers: each writer gets a clean error in time; tsmfs restarts on the same path")
    func killDuringWrites() throws {
        let first = try MountedTSMFS()
        try withExtendedLifetime(first) {
            let writers = try [
                ("tdx/rtmr0/digest", String(repeating: "01", count: 48), false),
                ("cca/rem1/digest", String(repeating: "02", count: 32), false),
                ("measurement-example/rtmr1/digest", String(repeating: "03", count: 48), true),
            ].enumerated().map { index, spec in
                try Worker(
                    ["writer", first.path(spec.0), spec.1, "30", "100000000", first.directory + "/ready\(index)"]
                        + (spec.2 ? ["keep-open"] : []),
                    directory: first.directory, label: "writer\(index)")
            }
            // Every writer has written at least once before the kill.
            let ready = waitForFiles((0..<writers.count).map { first.directory + "/ready\($0)" }, within: .seconds(20))
            #expect(ready, "writers did not start: \(writers.map(\.output))")

            #expect(first.stop(SIGKILL) == 128 + SIGKILL)
            var observed: [String] = []
            for (index, writer) in writers.enumerated() {
                #expect(writer.wait(deadline: .seconds(10)) == 0)
                #expect(!writer.timedOut, "writer \(index) hung after the daemon died")
                let code = Int32(writer.number("error") ?? -1)
                #expect(cleanDisconnectErrors.contains(code), "writer \(index): \(writer.output)")
                #expect((writer.number("writes") ?? 0) > 0)
                observed.append(
                    """
                    writer \(index)\(index == 2 ? " (one descriptor kept open)" : ""): \(errnoName(code)) after \
                    \(writer.number("writes") ?? 0) writes
                    """
                )
            }
            print("kill -9 under writers: " + observed.joined(separator: "; "))
            #expect(statfsErrno(first.root) == ENOTCONN)

            // A new daemon clears the dead mount and serves fresh registers; writers work again.
            let second = try MountedTSMFS(mountAt: first.root)
            #expect(second.log.contains("cleared a stale mount"), "\(second.log)")
            let writer = try Worker(
                ["writer", second.path("tdx/rtmr0/digest"), Self.data48, "30", "50", second.directory + "/ready"],
                directory: second.directory, label: "after")
            #expect(writer.wait(deadline: .seconds(30)) == 0)
            #expect(writer.number("writes") == 50 && writer.number("error") == 0, "\(writer.output)")
            var expected = [UInt8](repeating: 0, count: 48)
            for _ in 0..<50 { expected = extendDigest("sha384", expected, bytes(Self.data48)) }
            #expect(Sys.readFile(second.path("tdx/rtmr0/digest")).value == expected)
            #expect(second.stop() == 0, "\(second.log)")
            #expect(!mountTableLists(first.root))
        }
    }

    @Test("SIGTERM while a request waits in the kernel: exit 0, the client gets an answer, no mount left")
    func sigtermWithRequestInFlight() throws {
        let mount = try MountedTSMFS()
        let pid = mount.pid
        // Freeze the daemon so that the client's request is certainly in flight when SIGTERM comes.
        #expect(kill(pid, SIGSTOP) == 0)
        let writer = try Worker(
            ["writer", mount.path("tdx/rtmr2/digest"), Self.data48, "30", "1000000", mount.directory + "/ready"],
            directory: mount.directory, label: "inflight")
        let waiting = eventually(within: .seconds(10)) {
            let channel = waitChannel(writer.process.processIdentifier)
            return channel.contains("request_wait_answer") || channel.contains("fuse")
        }
        let channel = waitChannel(writer.process.processIdentifier)
        #expect(kill(pid, SIGTERM) == 0)
        #expect(kill(pid, SIGCONT) == 0)
        // One SIGTERM only: the daemon restores the default action while it shuts down, so a
        // second one could kill it.
        let exited = mount.waitForExit(within: .seconds(10))
        #expect(exited, "the daemon did not stop after SIGTERM")
        let status = mount.stop(SIGKILL)
        #expect(waiting, "the client never blocked in a FUSE request (wchan \(channel))")
        #expect(status == 0, "\(mount.log)")
        #expect(writer.wait(deadline: .seconds(10)) == 0)
        #expect(!writer.timedOut, "the client hung after the daemon stopped")
        let code = Int32(writer.number("error") ?? -1)
        #expect(cleanDisconnectErrors.contains(code), "\(writer.output)")
        print(
            """
            SIGTERM with a request in flight (client in \(channel)): daemon exit \(status); client \
            \(errnoName(code)) after \(writer.number("writes") ?? 0) writes
            """
        )
        #expect(!mountTableLists(mount.root))
        #expect(!isMountPoint(mount.root))
    }

    @Test("SIGTERM under load from 4 clients: exit 0, every client finishes, no mount left")
    func sigtermUnderLoad() throws {
        let mount = try MountedTSMFS()
        let initial = mount.directory + "/initial"
        try StressTests.writeInitial(try StressTests.snapshot(mount), to: initial)
        let workers = try (0..<4).map { index in
            try Worker(
                ["mix", mount.root, initial, "2", "1000000", "100000", String(index), "3"], directory: mount.directory,
                label: "load\(index)")
        }
        // Stop once the load is on: the registers have moved.
        let before = Sys.readFile(mount.path("tdx/report0")).value
        let loaded = eventually(within: .seconds(10)) { Sys.readFile(mount.path("tdx/report0")).value != before }
        #expect(loaded)
        #expect(mount.stop(SIGTERM, deadline: .seconds(10)) == 0, "\(mount.log)")
        #expect(!mountTableLists(mount.root))
        for worker in workers {
            #expect(worker.wait(deadline: .seconds(30)) == 0)
            #expect(!worker.timedOut, "a client hung: \(worker.output)")
            // What a client read before the stop was still consistent.
            #expect(worker.number("violations") == 0, "\(worker.output)")
        }
        #expect(!isMountPoint(mount.root))
    }

    @Test(
        """
        an outside unmount while a descriptor is open is refused and serving goes on; after close it ends the \
        daemon with 0
        """
    )
    func outsideUnmountWhileBusy() throws {
        let mount = try MountedTSMFS()
        let fd = try #require(Sys.open(mount.path("tdx/rtmr1/digest"), O_RDWR).value)
        let busy = try shell("fusermount3 -u '\(mount.root)'")
        #expect(busy.status != 0, "unmounted while a file was open")
        #expect(busy.stderr.contains("busy"), "\(busy.stderr)")
        #expect(!mount.exit.hasEnded)
        #expect(Sys.pwrite(fd, [UInt8](repeating: 7, count: 48)).value == 48, "the open descriptor still works")
        close(fd)
        #expect(
            Sys.readFile(mount.path("tdx/rtmr1/digest")).value
                == extendDigest("sha384", [UInt8](repeating: 0, count: 48), [UInt8](repeating: 7, count: 48)))
        let r = try shell("fusermount3 -u '\(mount.root)'")
        #expect(r.status == 0, "\(r.stderr)")
        let exited = mount.waitForExit(within: .seconds(10))
        #expect(exited)
        #expect(mount.stop() == 0, "\(mount.log)")
        #expect(!mountTableLists(mount.root))
    }
}
