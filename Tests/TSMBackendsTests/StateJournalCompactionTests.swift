import Foundation
import Testing
import TSMBackends
import TSMGuests
import TSMModel

/// Compaction of `--state` (issue 24): a snapshot plus a bounded tail, whatever the history.
@Suite("State journal compaction")
final class StateJournalCompactionTests {
    let directory: String
    let path: String
    let fingerprint = StateJournal.fingerprint(Guests.catalogue.plainProviders, context: "test")

    init() throws {
        directory =
            FileManager.default.temporaryDirectory.appendingPathComponent("tsmfs-compact-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        path = directory + "/state"
    }

    /// Every test's directory goes with its suite instance, whichever way the test ended.
    deinit { try? FileManager.default.removeItem(atPath: directory) }

    /// A daemon's worth: the journal, its providers replayed, snapshots taken from them.
    struct Daemon {
        let journal: StateJournal
        let recovery: StateJournal.Recovery
        let operations: Operations
        func provider(_ name: String) throws -> MeasurementProvider {
            try #require(operations.providers.first { $0.name == name })
        }
    }

    func start(tailBytes: Int) throws -> Daemon {
        let (journal, recovery) = try StateJournal.open(
            path, fingerprint: fingerprint, compaction: StateJournal.Compaction(tailBytes: tailBytes))
        let providers = try Guests.catalogue.plainProviders.map {
            try MeasurementProvider($0, backend: SoftwareBackend(), journal: journal)
        }
        let operations = Operations(providers: providers, journal: journal)
        try recovery.replay(into: operations)
        journal.takeSnapshots { operations.snapshotRecords() }
        return Daemon(journal: journal, recovery: recovery, operations: operations)
    }

    func fileSize() -> Int {
        ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? Int) ?? -1
    }

    @Test("4,000 extends and sets with a 4 KiB tail: the file stays bounded and every value comes back")
    func bounded() throws {
        let first = try start(tailBytes: 4096)
        let tdx = try first.provider("tdx"), example = try first.provider("measurement-example")
        var largest = 0
        for step in 0..<4000 {
            try write(tdx, "rtmr\(step % 4)", [UInt8](repeating: UInt8(step & 0xFF), count: 48))
            if step % 500 == 0 { try write(example, "user_data", [UInt8](repeating: UInt8(step / 500), count: 64)) }
            largest = max(largest, fileSize())
        }
        let expected = try (0..<4).map { try value(tdx, "rtmr\($0)") }
        let userData = try value(example, "user_data")
        let (size, tail) = first.journal.sizes
        #expect(size == fileSize())
        // The snapshot and at most one tail past the threshold, with its last record.
        #expect(largest <= 2 * (size - tail) + 4096 + 200, "largest \(largest), snapshot \(size - tail)")
        #expect(largest < 64 << 10)
        first.journal.close()

        let second = try start(tailBytes: 4096)
        #expect(second.recovery.summary.hasPrefix("restored a snapshot, replayed"), "\(second.recovery.summary)")
        #expect(second.recovery.tail.count < 100)
        #expect(try (0..<4).map { try value(try second.provider("tdx"), "rtmr\($0)") } == expected)
        #expect(try value(try second.provider("measurement-example"), "user_data") == userData)
        #expect(!FileManager.default.fileExists(atPath: path + ".compact"))
        second.journal.close()
    }

    @Test("a reboot after a snapshot reboots in its place; the values before it are not brought back")
    func rebootInTail() throws {
        let first = try start(tailBytes: 512)
        let tdx = try first.provider("tdx")
        let boot = try value(tdx, "rtmr2")
        for _ in 0..<200 { try write(tdx, "rtmr2", [UInt8](repeating: 1, count: 48)) }
        try write(tdx, "reportdata", [UInt8](repeating: 9, count: 64))
        try first.operations.reboot()
        #expect(try value(tdx, "rtmr2") == boot)
        try write(tdx, "rtmr2", [UInt8](repeating: 2, count: 48))
        let expected = try value(tdx, "rtmr2")
        first.journal.close()
        let second = try start(tailBytes: 512)
        #expect(try value(try second.provider("tdx"), "rtmr2") == expected)
        #expect(try value(try second.provider("tdx"), "reportdata") == [UInt8](repeating: 9, count: 64))
        second.journal.close()
    }

    @Test("a grown file of an earlier tsmfs is compacted at start; a leftover FILE.compact is removed")
    func grownFileAndLeftover() throws {
        // No compaction: a file as tsmfs before issue 24 wrote it.
        let (journal, _) = try StateJournal.open(path, fingerprint: fingerprint)
        let tdx = try MeasurementProvider(TDXGuest.provider, backend: SoftwareBackend(), journal: journal)
        for _ in 0..<3000 { try write(tdx, "rtmr3", [UInt8](repeating: 3, count: 48)) }
        let expected = try value(tdx, "rtmr3")
        journal.close()
        #expect(fileSize() > 200_000)
        // A compaction that a crash cut short before its rename.
        try Data(repeating: 0xAB, count: 100).write(to: URL(fileURLWithPath: path + ".compact"))
        let daemon = try start(tailBytes: 4096)
        #expect(daemon.recovery.removedLeftover)
        #expect(daemon.recovery.summary.contains("removed the leftover"), "\(daemon.recovery.summary)")
        #expect(try value(try daemon.provider("tdx"), "rtmr3") == expected)
        #expect(fileSize() < 20_000, "compacted at start")
        #expect(!FileManager.default.fileExists(atPath: path + ".compact"))
        daemon.journal.close()
        let again = try start(tailBytes: 4096)
        #expect(try value(try again.provider("tdx"), "rtmr3") == expected)
        #expect(again.recovery.summary == "restored a snapshot, replayed 0 changes")
        again.journal.close()
    }

    @Test("the tuning variables: values out of range are refused, naming the variable and the range")
    func environment() throws {
        typealias Compaction = StateJournal.Compaction
        func parse(_ environment: [String: String]) throws(StateJournal.Failure) -> Compaction {
            try Compaction.fromEnvironment { environment[$0] }
        }
        #expect(try parse([:]) == Compaction(tailBytes: 1 << 20, stopAfter: nil))
        #expect(throws: StateJournal.Failure.self) { _ = try parse([Compaction.tailVariable: "0"]) }
        #expect(throws: StateJournal.Failure.self) { _ = try parse([Compaction.tailVariable: "1k"]) }
        #expect(
            try parse([Compaction.tailVariable: "2048", Compaction.stopVariable: "renamed"])
                == Compaction(tailBytes: 2048, stopAfter: .renamed))
        do {
            _ = try parse([Compaction.stopVariable: "later"])
            Issue.record("an unknown step was accepted")
        } catch {
            #expect(
                error.description
                    == "TSMFS_STATE_STOP_AFTER=later: expected one of written, synced, renamed, directory-synced")
        }
    }
}
