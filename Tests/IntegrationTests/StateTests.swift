import Foundation
import Glibc
import Testing
import TestSupport

/// `--state FILE`: registers survive the daemon (issue: durable state).
@Suite("Persistent state", .serialized, .needsMount)
struct StateTests {
    @Test("extend, kill -9, restart: every acknowledged extend is there, and the restart says so")
    func killAndRestart() throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let state = directory + "/state"
        let first = try MountedTSMFS(["--state", state])
        #expect(first.log.contains("new state file"), "\(first.log)")
        let data = [UInt8](repeating: 0x77, count: 48)
        for _ in 0..<3 { #expect(Sys.writeFile(first.path("tdx/rtmr1/digest"), data).value == 48) }
        #expect(
            Sys.writeFile(first.path("measurement-example/user_data/digest"), [UInt8](repeating: 5, count: 64)).value
                == 64)
        let expected = Sys.readFile(first.path("tdx/rtmr1/digest")).value
        #expect(first.stop(SIGKILL) == 128 + SIGKILL)

        let second = try MountedTSMFS(["--state", state], mountAt: first.root)
        #expect(second.log.contains("replayed 4 changes"), "\(second.log)")
        #expect(Sys.readFile(second.path("tdx/rtmr1/digest")).value == expected)
        #expect(
            Sys.readFile(second.path("measurement-example/user_data/digest")).value == [UInt8](repeating: 5, count: 64))
        // report_digest follows the restored values.
        let head = ["static_mr", "config_mr", "rtmr0", "rtmr1", "user_data"].flatMap {
            Sys.readFile(second.path("measurement-example/\($0)/digest")).value ?? []
        }
        #expect(
            Sys.readFile(second.path("measurement-example/report_digest/digest")).value
                == extendDigest("sha512", [], head))
        #expect(second.stop() == 0)
    }

    @Test("a second daemon on the same state file is refused, naming the first; nothing is lost")
    func twoDaemons() throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let state = directory + "/state"
        let first = try MountedTSMFS(["--state", state])
        #expect(Sys.writeFile(first.path("tdx/rtmr1/digest"), [UInt8](repeating: 1, count: 48)).value == 48)
        let second = try shell("'\(tsmfsBinary())' mount '\(directory)/other' --state '\(state)' 2>&1")
        #expect(second.status != 0)
        #expect(
            second.text.contains("in use by another tsmfs (pid \(first.process.processIdentifier))"), "\(second.text)")
        #expect(!mountTableLists(directory + "/other"))
        let expected = Sys.readFile(first.path("tdx/rtmr1/digest")).value
        #expect(first.stop() == 0)
        let again = try MountedTSMFS(["--state", state], mountAt: first.root)
        #expect(again.log.contains("replayed 1 change"), "\(again.log)")
        #expect(Sys.readFile(again.path("tdx/rtmr1/digest")).value == expected)
        #expect(again.stop() == 0)
    }

    @Test("a state path that is a symbolic link or a FIFO is refused at once; the link's target is not created")
    func oddStatePaths() throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let link = directory + "/link", fifo = directory + "/fifo"
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: directory + "/target")
        #expect(mkfifo(fifo, 0o600) == 0)
        let viaLink = try shell("'\(tsmfsBinary())' mount '\(directory)/m1' --state '\(link)' 2>&1")
        #expect(viaLink.status != 0 && viaLink.text.contains("is a symbolic link"), "\(viaLink.text)")
        #expect(!FileManager.default.fileExists(atPath: directory + "/target"))
        let viaFIFO = try shell("timeout 10 '\(tsmfsBinary())' mount '\(directory)/m2' --state '\(fifo)' 2>&1")
        #expect(viaFIFO.status != 0 && viaFIFO.text.contains("not a regular file"), "\(viaFIFO.text)")
        #expect(!mountTableLists(directory + "/m1") && !mountTableLists(directory + "/m2"))
    }

    @Test("killed at random points during 1,000 extends: never a corrupt or mixed state")
    func randomKills() throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let state = directory + "/state", data = directory + "/data", count = directory + "/count"
        try Data(repeating: 0x42, count: 48).write(to: URL(fileURLWithPath: data))
        var chain: [[UInt8]] = [[UInt8](repeating: 0, count: 48)]
        for _ in 0..<1000 {
            chain.append(extendDigest("sha384", chain[chain.count - 1], [UInt8](repeating: 0x42, count: 48)))
        }
        var generator = SystemRandomNumberGenerator()
        var acknowledged = 0
        let mountAt = directory + "/m"
        for round in 0..<4 {
            let mount = try MountedTSMFS(["--state", state], mountAt: mountAt)
            let target = mount.path("tdx/rtmr3/digest")
            // The writer records each acknowledged extend while a second process kills the daemon
            // once a random number of them is reached: the kill lands while writes go on.
            let stopAfter = acknowledged + Int.random(in: 20...150, using: &generator)
            let writer = try shell(
                """
                echo \(acknowledged) > '\(count)'
                ( n=\(acknowledged)
                  while [ $n -lt 1000 ]; do
                    head -c 48 '\(data)' > '\(target)' 2>/dev/null || break
                    n=$((n + 1)); echo $n > '\(count)'
                  done ) &
                writer=$!
                while [ "$(cat '\(count)' 2>/dev/null || echo 0)" -lt \(stopAfter) ] && kill -0 $writer 2>/dev/null; \
                do :; done
                kill -9 \(mount.pid)
                wait $writer
                true
                """)
            #expect(writer.status == 0)
            _ = mount.stop(SIGKILL)
            let acknowledgedNow =
                Int(
                    (try? String(contentsOfFile: count, encoding: .utf8))?.trimmingCharacters(
                        in: .whitespacesAndNewlines) ?? "") ?? 0
            let restarted = try MountedTSMFS(["--state", state], mountAt: mountAt)
            let value = Sys.readFile(restarted.path("tdx/rtmr3/digest")).value ?? []
            // The extend in flight at the kill may or may not have become durable; nothing else.
            let position = chain.firstIndex(of: value)
            #expect(
                position == acknowledgedNow || position == acknowledgedNow + 1,
                """
                round \(round): value is chain[\(position.map(String.init) ?? "none")], acknowledged \
                \(acknowledgedNow)
                """
            )
            acknowledged = position ?? acknowledgedNow
            _ = restarted.stop()
        }
    }

    @Test("a state file from another provider set, or a damaged one, is refused and nothing is mounted")
    func refusals() throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let state = directory + "/state"
        let mount = try MountedTSMFS(["--state", state])
        #expect(Sys.writeFile(mount.path("cca/rem0/digest"), [UInt8](repeating: 1, count: 32)).value == 32)
        #expect(Sys.writeFile(mount.path("cca/rem0/digest"), [UInt8](repeating: 1, count: 32)).value == 32)
        #expect(mount.stop() == 0)
        let other = try shell("'\(tsmfsBinary())' mount '\(directory)/m' --state '\(state)' --provider cca 2>&1")
        #expect(other.status != 0)
        #expect(other.text.contains("another provider set"), "\(other.text)")
        var bytes = try #require(FileManager.default.contents(atPath: state)).map { $0 }
        bytes[90] ^= 0xFF
        try Data(bytes).write(to: URL(fileURLWithPath: state))
        let damaged = try shell("'\(tsmfsBinary())' mount '\(directory)/m' --state '\(state)' 2>&1")
        #expect(damaged.status != 0)
        #expect(damaged.text.contains("damaged"), "\(damaged.text)")
        #expect(!mountTableLists(directory + "/m"))
    }
}
