import Foundation
import Synchronization
import SystemPackage
import Testing
import TSMBackends
import TSMModel
import TSMGuest
import TSMGuests

@Suite("State journal (--state)")
struct StateJournalTests {
    let directory: String
    let path: String
    let fingerprint = StateJournal.fingerprint(Guests.catalogue.plainProviders, context: "test")

    init() throws {
        directory =
            FileManager.default.temporaryDirectory.appendingPathComponent("tsmfs-journal-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        path = directory + "/state"
    }

    func providers(_ journal: StateJournal?) throws -> [String: MeasurementProvider] {
        var result: [String: MeasurementProvider] = [:]
        for descriptor in Guests.catalogue.plainProviders {
            result[descriptor.name] = try MeasurementProvider(descriptor, backend: SoftwareBackend(), journal: journal)
        }
        return result
    }

    /// The journal open now: each restart closes it first, as a daemon's exit would.
    final class Current: @unchecked Sendable { var journal: StateJournal? }
    let current = Current()

    func restart() throws -> ([String: MeasurementProvider], StateJournal.Recovery) {
        current.journal?.close()
        let (journal, recovery) = try StateJournal.open(path, fingerprint: fingerprint)
        current.journal = journal
        let providers = try providers(journal)
        try recovery.replay(into: Array(providers.values)) { Issue.record("no reboot was recorded") }
        return (providers, recovery)
    }

    @Test("every acknowledged change comes back after a restart, extends and overwrites alike")
    func roundTrip() throws {
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let (first, created) = try restart()
        #expect(created.created)
        let tdx = try #require(first["tdx"]), example = try #require(first["measurement-example"])
        for byte in 0..<5 { try write(tdx, "rtmr2", [UInt8](repeating: UInt8(byte), count: 48)) }
        try write(tdx, "reportdata", [UInt8](repeating: 9, count: 64))
        try write(example, "user_data", [UInt8](repeating: 7, count: 64))
        let expected = try value(tdx, "rtmr2")
        let (second, recovery) = try restart()
        #expect(recovery.changes.count == 7)
        #expect(recovery.discardedBytes == 0)
        #expect(try value(try #require(second["tdx"]), "rtmr2") == expected)
        #expect(try value(try #require(second["tdx"]), "reportdata") == [UInt8](repeating: 9, count: 64))
        #expect(try value(try #require(second["measurement-example"]), "user_data") == [UInt8](repeating: 7, count: 64))
        #expect(recovery.summary == "replayed 7 changes")
    }

    @Test("a torn last record is cut off and said so; the acknowledged ones stay")
    func tornTail() throws {
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let (first, _) = try restart()
        let tdx = try #require(first["tdx"])
        try write(tdx, "rtmr0", [UInt8](repeating: 1, count: 48))
        let acknowledged = try value(tdx, "rtmr0")
        // A crash in the middle of writing the next record.
        let record = StateJournalProbe.record(provider: "tdx", register: 5, data: [UInt8](repeating: 2, count: 48))
        for cut in [1, 4, 20, record.count - 1] {
            let handle = try #require(FileHandle(forWritingAtPath: path))
            try handle.seekToEnd()
            try handle.write(contentsOf: Data(record.prefix(cut)))
            try handle.close()
            let (again, recovery) = try restart()
            #expect(recovery.discardedBytes == cut, "cut \(cut)")
            #expect(recovery.summary.contains("torn last record"))
            #expect(try value(try #require(again["tdx"]), "rtmr0") == acknowledged)
        }
    }

    @Test("a damaged record followed by others, another provider set, or a foreign file is refused")
    func refusals() throws {
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let (first, _) = try restart()
        let tdx = try #require(first["tdx"])
        for _ in 0..<3 { try write(tdx, "rtmr1", [UInt8](repeating: 3, count: 48)) }
        current.journal?.close()
        #expect(throws: StateJournal.Failure.self) {
            _ = try StateJournal.open(path, fingerprint: StateJournal.fingerprint([CCAGuest.provider], context: "test"))
        }
        var bytes = try #require(FileManager.default.contents(atPath: path)).map { $0 }
        bytes[100] ^= 0xFF  // inside the first record
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        do {
            _ = try StateJournal.open(path, fingerprint: fingerprint)
            Issue.record("a damaged record in the middle was accepted")
        } catch {
            #expect(error.description.contains("damaged"))
        }
        try Data("not a journal".utf8).write(to: URL(fileURLWithPath: path))
        #expect(throws: StateJournal.Failure.self) { _ = try StateJournal.open(path, fingerprint: fingerprint) }
    }

    @Test("replay: a recorded reboot reboots in its place; a change that does not apply refuses the file")
    func replayPolicy() throws {
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let (first, _) = try restart()
        let tdx = try #require(first["tdx"])
        let boot = try value(tdx, "rtmr1")
        try write(tdx, "rtmr1", [UInt8](repeating: 1, count: 48))
        try #require(current.journal).record(RegisterChange(provider: "", register: 0, kind: .reboot, data: []))
        try write(tdx, "rtmr1", [UInt8](repeating: 2, count: 48))
        current.journal?.close()
        let (reopened, recovery) = try StateJournal.open(path, fingerprint: fingerprint)
        reopened.close()
        let again = try providers(nil), replayed = try #require(again["tdx"])
        var reboots = 0
        try recovery.replay(into: Array(again.values)) {
            reboots += 1
            replayed.resetExtensible()
        }
        #expect(reboots == 1)
        let reference = try #require(try providers(nil)["tdx"])
        try write(reference, "rtmr1", [UInt8](repeating: 2, count: 48))
        #expect(try value(replayed, "rtmr1") == value(reference, "rtmr1"), "only the extend after the reboot")
        #expect(try value(replayed, "rtmr1") != boot)
        let rtmr0 = try #require(tdx.table.indexByName["rtmr0"])

        let notServed = StateJournal.Recovery(
            path: "s",
            changes: [
                RegisterChange(provider: "tdx", register: rtmr0, kind: .extend, data: [UInt8](repeating: 0, count: 48)),
                RegisterChange(provider: "gone", register: 0, kind: .extend, data: []),
            ], discardedBytes: 0, created: false)
        #expect(throws: StateJournal.ReplayFailure.notServed(path: "s", change: 2, provider: "gone")) {
            try notServed.replay(into: Array(again.values)) {}
        }
        #expect(
            StateJournal.ReplayFailure.notServed(path: "s", change: 2, provider: "gone").description
                == "s: change 2 names provider 'gone', which is not served; refusing the file")
        let wrongSize = StateJournal.Recovery(
            path: "s",
            changes: [
                RegisterChange(provider: "tdx", register: rtmr0, kind: .extend, data: [1, 2, 3])
            ], discardedBytes: 0, created: false)
        do {
            try wrongSize.replay(into: Array(again.values)) {}
            Issue.record("a change of the wrong size was replayed")
        } catch {
            #expect(error == .doesNotApply(path: "s", change: 1, provider: "tdx", MRError.invalidWrite.errno))
            #expect(
                error.description
                    == "s: change 1 does not apply to provider 'tdx' (\(MRError.invalidWrite.errno)); refusing the file"
            )
        }
    }

    /// A journal that fails: the write fails with its errno and nothing changes.
    final class FailingJournal: ChangeJournal {
        func record(_ change: RegisterChange) throws(MRError) { throw .backend(.noSpace) }
    }

    @Test("a change the journal cannot make durable does not take effect")
    func failingJournal() throws {
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let tdx = try MeasurementProvider(TDXGuest.provider, backend: SoftwareBackend(), journal: FailingJournal())
        let before = try value(tdx, "rtmr3")
        #expect(throws: MRError.backend(.noSpace)) { try write(tdx, "rtmr3", [UInt8](repeating: 1, count: 48)) }
        #expect(try value(tdx, "rtmr3") == before)
    }
}

/// Builds a record as the journal writes it, for tearing one by hand.
enum StateJournalProbe {
    static func record(provider: String, register: Int, data: [UInt8]) -> [UInt8] {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "tsmfs-probe-\(UUID().uuidString)"
        ).path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let path = directory + "/j"
        guard let (journal, _) = try? StateJournal.open(path, fingerprint: [UInt8](repeating: 0, count: 32)) else {
            return []
        }
        try? journal.record(RegisterChange(provider: provider, register: register, kind: .extend, data: data))
        journal.close()
        let bytes = FileManager.default.contents(atPath: path).map { Array($0) } ?? []
        return Array(bytes.dropFirst(80))
    }
}
