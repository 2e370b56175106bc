import Foundation
import Glibc
import Testing
import TestSupport

/// `--state` compaction (issue 24): stopped at every step of a compaction, on a full disk, and
/// after many extends, nothing acknowledged is lost and the file stays bounded.
@Suite("State compaction", .serialized, .needsMount)
struct StateCompactionTests {
    static let data = [UInt8](repeating: 0x42, count: 48)

    /// rtmr values after 0, 1, 2, ... extends of ``data`` from zero.
    static func chain(_ count: Int) -> [[UInt8]] {
        var chain: [[UInt8]] = [[UInt8](repeating: 0, count: 48)]
        for _ in 0..<count { chain.append(extendDigest("sha384", chain[chain.count - 1], data)) }
        return chain
    }

    /// Extends `path` with ``data`` until a write fails or `limit` succeed; the count acknowledged
    /// and the errno that ended it.
    static func extend(_ path: String, limit: Int) -> (acknowledged: Int, error: POSIXErrorCode?) {
        for count in 0..<limit {
            let result = Sys.writeFile(path, data)
            if result.value != 48 { return (count, result.error) }
        }
        return (limit, nil)
    }

    static func size(_ path: String) -> Int {
        ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? Int) ?? -1
    }

    @Test(
        "stopped after each step of a compaction, a restart serves every acknowledged extend",
        arguments: ["written", "synced", "renamed", "directory-synced"])
    func stopAtEachStep(step: String) throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let state = directory + "/state"
        let chain = Self.chain(400)
        let tuning = ["TSMFS_STATE_COMPACT_BYTES": "2000"]
        let first = try MountedTSMFS(
            ["--state", state], environment: tuning.merging(["TSMFS_STATE_STOP_AFTER": step]) { $1 })
        let (acknowledged, error) = Self.extend(first.path("tdx/rtmr2/digest"), limit: 400)
        #expect(error != nil && acknowledged < 400, "the daemon stopped inside its first compaction")
        #expect(first.stop() == 86, "\(first.log)")
        #expect(first.log.contains("stopping after compaction step '\(step)'"), "\(first.log)")
        first.forceUnmount()
        let leftover = FileManager.default.fileExists(atPath: state + ".compact")
        #expect(leftover == (step == "written" || step == "synced"))

        let second = try MountedTSMFS(["--state", state], environment: tuning)
        let value = Sys.readFile(second.path("tdx/rtmr2/digest")).value ?? []
        // The extend that started the compaction was durable before it began; it was never
        // acknowledged, so it may be there or not. Nothing acknowledged is missing.
        let position = chain.firstIndex(of: value)
        #expect(position == acknowledged || position == acknowledged + 1, "\(step): \(String(describing: position))")
        #expect(second.log.contains("removed the leftover") == leftover, "\(second.log)")
        #expect(!FileManager.default.fileExists(atPath: state + ".compact"))
        // The restarted daemon compacts again and keeps going.
        let start = position ?? 0
        #expect(Self.extend(second.path("tdx/rtmr2/digest"), limit: 150).acknowledged == 150)
        #expect(second.stop() == 0)
        let third = try MountedTSMFS(["--state", state], environment: tuning)
        #expect(third.log.contains("restored a snapshot"), "\(third.log)")
        #expect(Sys.readFile(third.path("tdx/rtmr2/digest")).value == chain[start + 150])
        #expect(third.stop() == 0)
    }

    @Test("a full disk: the extend that does not fit gets ENOSPC, nothing is half-written, all else comes back")
    func fullDisk() throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let disk = directory + "/disk"
        try FileManager.default.createDirectory(atPath: disk, withIntermediateDirectories: true)
        #expect(try shell("mount -t tmpfs -o size=64k,mode=0700 tsmfs-test '\(disk)'").status == 0)
        defer { umount2(disk, Int32(MNT_DETACH)) }
        let state = disk + "/state", target = "tdx/rtmr1/digest"
        let chain = Self.chain(2000)
        let tuning = ["TSMFS_STATE_COMPACT_BYTES": "4096"]
        let first = try MountedTSMFS(["--state", state], environment: tuning)
        #expect(Self.extend(first.path(target), limit: 100).acknowledged == 100)
        // Compaction keeps the file small: another file fills the disk.
        _ = try shell("head -c 1048576 /dev/zero > '\(disk)/filler' 2>/dev/null")
        let (more, error) = Self.extend(first.path(target), limit: 1900)
        let acknowledged = 100 + more
        #expect(error == .ENOSPC && more < 1900, "\(more) more extends, then \(String(describing: error))")
        #expect(Sys.readFile(first.path(target)).value == chain[acknowledged], "refused: no effect")
        #expect(Sys.writeFile(first.path(target), Self.data).error == .ENOSPC, "still full")
        #expect(Sys.readFile(first.path(target)).value == chain[acknowledged])
        #expect(!FileManager.default.fileExists(atPath: state + ".compact"))
        #expect(first.stop() == 0)
        let second = try MountedTSMFS(["--state", state], environment: tuning)
        #expect(!second.log.contains("torn"), "nothing half-written: \(second.log)")
        #expect(Sys.readFile(second.path(target)).value == chain[acknowledged])
        // Room again: the next extend is acknowledged and kept.
        try FileManager.default.removeItem(atPath: disk + "/filler")
        #expect(Sys.writeFile(second.path(target), Self.data).value == 48)
        #expect(second.stop() == 0)
        let third = try MountedTSMFS(["--state", state], environment: tuning)
        #expect(Sys.readFile(third.path(target)).value == chain[acknowledged + 1])
        #expect(third.stop() == 0)
    }

    @Test("200,000 extends: the state file stays bounded; the restart serves them in under 60 MB")
    func manyExtends() throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        // On a tmpfs, where fsync costs nothing: this test is about size and memory, not disks.
        let disk = directory + "/disk"
        try FileManager.default.createDirectory(atPath: disk, withIntermediateDirectories: true)
        #expect(try shell("mount -t tmpfs -o size=64m,mode=0700 tsmfs-test '\(disk)'").status == 0)
        defer { umount2(disk, Int32(MNT_DETACH)) }
        let state = disk + "/state", count = 200_000
        let first = try MountedTSMFS(["--state", state])
        let worker = try Worker(
            [
                "writer", first.path("tdx/rtmr0/digest"), String(repeating: "42", count: 48), "600", String(count),
                directory + "/ready",
            ], directory: directory, label: "writer")
        worker.wait(deadline: .seconds(600))
        #expect(worker.number("writes") == count && worker.number("error") == 0, "\(worker.output)")
        let expected = Sys.readFile(first.path("tdx/rtmr0/digest")).value
        #expect(first.stop() == 0)
        #expect(Self.size(state) < 16 << 20, "\(Self.size(state)) bytes")
        #expect(Self.size(state) < 3 << 20, "a snapshot and at most 1 MiB of tail: \(Self.size(state)) bytes")

        let second = try MountedTSMFS(["--state", state])
        #expect(Sys.readFile(second.path("tdx/rtmr0/digest")).value == expected)
        #expect(Sys.readFile(second.path("tdx/rtmr0/digest")).value == Self.chain(count)[count])
        let status = (try? String(contentsOfFile: "/proc/\(second.pid)/status", encoding: .utf8)) ?? ""
        let hwm = status.split(separator: "\n").first { $0.hasPrefix("VmHWM:") }
            .flatMap { $0.split(separator: " ").dropFirst().first }.flatMap { Int($0) }
        #expect((hwm ?? .max) < 60 * 1024, "VmHWM \(hwm ?? -1) kB")
        #expect(second.stop() == 0)
    }

    @Test("a TDX sysroot: the runtime log is part of the snapshot; after a restart it still replays to the RTMRs")
    func sysrootRuntimeLog() throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let state = directory + "/state"
        let tuning = ["TSMFS_STATE_COMPACT_BYTES": "3000"]
        let first = try MountedTSMFS(["--guest", "tdx", "--state", state], sysroot: true, environment: tuning)
        let tsm = first.path("sys/kernel/tsm/tdx")
        for step in 0..<300 {
            let data = [UInt8](repeating: UInt8(step & 0xFF), count: 48)
            #expect(Sys.writeFile("\(tsm)/rtmr\(step % 4)/digest", data).value == 48)
        }
        let log = Sys.readFile(first.path("tsmfs/runtime_log"), count: 1 << 20).value
        let rtmrs = try replayedRTMRs(first.root)
        #expect(first.stop() == 0)
        #expect(Self.size(state) < 64 << 10, "\(Self.size(state)) bytes")

        let second = try MountedTSMFS(["--guest", "tdx", "--state", state], sysroot: true, environment: tuning)
        #expect(second.log.contains("restored a snapshot"), "\(second.log)")
        #expect(Sys.readFile(second.path("tsmfs/runtime_log"), count: 1 << 20).value == log)
        #expect(try replayedRTMRs(second.root) == rtmrs)
        let live = (0..<4).map { hex(Sys.readFile(second.path("sys/kernel/tsm/tdx/rtmr\($0)/digest")).value ?? []) }
        #expect(live == rtmrs)
        #expect(second.stop() == 0)
    }
}
