import Foundation
import Glibc
import Testing
import TSMBackends
import TSMModel
import TSMGuest
import TSMGuests

/// The adversarial cases of the state journal (issue 11): damage anywhere refuses the file and
/// leaves it as it was; only a torn tail is cut; one daemon per file; no link is followed.
@Suite("State journal: damage, torn tails, two writers, odd paths")
struct StateJournalDamageTests {
    let directory: String
    let path: String
    let fingerprint = StateJournal.fingerprint([CCAGuest.provider], context: "damage")

    init() throws {
        directory =
            FileManager.default.temporaryDirectory.appendingPathComponent("tsmfs-damage-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        path = directory + "/state"
    }

    /// A small journal: the header and three records.
    func smallJournal() throws -> [UInt8] {
        let (journal, _) = try StateJournal.open(path, fingerprint: fingerprint)
        for index in 1...3 {
            try journal.record(
                RegisterChange(
                    provider: "cca", register: index, kind: .extend, data: [UInt8](repeating: UInt8(index), count: 32)))
        }
        journal.close()
        return try #require(FileManager.default.contents(atPath: path)).map { $0 }
    }

    func write(_ bytes: [UInt8]) throws {
        try Data(bytes).write(to: URL(fileURLWithPath: path))
    }

    func contents() throws -> [UInt8] {
        try #require(FileManager.default.contents(atPath: path)).map { $0 }
    }

    @Test("one flipped bit at any offset is refused, and the file is left exactly as it was")
    func everyOffset() throws {
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let good = try smallJournal()
        var cases = 0
        for offset in good.indices {
            for bit in [0, 7] {
                var damaged = good
                damaged[offset] ^= UInt8(1 << bit)
                try write(damaged)
                do {
                    let (journal, recovery) = try StateJournal.open(path, fingerprint: fingerprint)
                    journal.close()
                    Issue.record("bit \(bit) of byte \(offset) accepted: \(recovery.summary)")
                } catch {
                    #expect(!error.description.isEmpty)
                }
                #expect(try contents() == damaged, "byte \(offset) bit \(bit): the file changed")
                cases += 1
            }
        }
        print("state journal damage cases: \(cases)")
        #expect(cases == good.count * 2)
    }

    @Test("a file cut at any length past the header keeps every whole record and cuts only the torn one")
    func everyTruncation() throws {
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let good = try smallJournal()
        let recordSize = (good.count - 80) / 3
        for length in 80...good.count {
            try write(Array(good.prefix(length)))
            let (journal, recovery) = try StateJournal.open(path, fingerprint: fingerprint)
            journal.close()
            let whole = (length - 80) / recordSize
            #expect(recovery.changes.count == whole, "cut at \(length)")
            #expect(recovery.discardedBytes == (length - 80) % recordSize, "cut at \(length)")
            #expect(try contents().count == 80 + whole * recordSize)
        }
    }

    @Test("a second daemon on the same file is refused, naming the holder; it may open once the first is gone")
    func twoWriters() throws {
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let (first, _) = try StateJournal.open(path, fingerprint: fingerprint)
        do {
            let (second, _) = try StateJournal.open(path, fingerprint: fingerprint)
            second.close()
            Issue.record("a second journal on the same file was opened")
        } catch {
            #expect(error == .inUse(path: path, holder: getpid()), "\(error)")
            #expect(error.description.contains("in use by another tsmfs (pid \(getpid()))"))
        }
        first.close()
        let (again, _) = try StateJournal.open(path, fingerprint: fingerprint)
        again.close()
    }

    @Test("a symbolic link, a FIFO or a directory is refused at once; a new file is 0600")
    func oddPaths() throws {
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let target = directory + "/elsewhere"
        try FileManager.default.createSymbolicLink(atPath: path, withDestinationPath: target)
        #expect(throws: StateJournal.Failure.symbolicLink(path: path)) {
            _ = try StateJournal.open(path, fingerprint: fingerprint)
        }
        #expect(!FileManager.default.fileExists(atPath: target), "the link's target was created")
        let fifo = directory + "/fifo"
        #expect(mkfifo(fifo, 0o600) == 0)
        #expect(throws: StateJournal.Failure.notRegularFile(path: fifo)) {
            _ = try StateJournal.open(fifo, fingerprint: fingerprint)
        }
        #expect(throws: StateJournal.Failure.notRegularFile(path: directory)) {
            _ = try StateJournal.open(directory, fingerprint: fingerprint)
        }
        let fresh = directory + "/fresh"
        let (journal, recovery) = try StateJournal.open(fresh, fingerprint: fingerprint)
        journal.close()
        #expect(recovery.created)
        var st = stat()
        #expect(stat(fresh, &st) == 0 && st.st_mode & 0o777 == 0o600)
    }

    @Test("a format 1 file is refused naming the migration, and left as it was")
    func formerFormat() throws {
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let former = Array("TSMFSJ01".utf8) + [UInt8](repeating: 0, count: 72)
        try write(former)
        #expect(throws: StateJournal.Failure.formerFormat(path: path)) {
            _ = try StateJournal.open(path, fingerprint: fingerprint)
        }
        #expect(try contents() == former)
    }
}
