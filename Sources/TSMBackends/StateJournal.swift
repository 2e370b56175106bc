import Crypto
import Glibc
import Synchronization
import SystemPackage
import TSMModel

/// `--state FILE`: a journal of register changes with checksummed records, made durable (written
/// and fsync'd) before each change takes effect, compacted so that its size follows the state,
/// not the number of changes that made it.
///
/// Layout (format 2): an 80-byte header — magic `TSMFSJ02`, the 32-byte fingerprint of the
/// provider set, 32 reserved bytes, and 8 bytes of SHA-256 over the rest — then records: a u32
/// payload length and 4 bytes of SHA-256 over that length, the payload (kind u8, provider name
/// length u16 and name, register u16, data length u16 and data), and 8 bytes of SHA-256 over
/// length and payload. The length's own check tells a torn tail from damage: only a last record
/// that the file ends before (a write a crash cut short, never acknowledged) is cut off at start;
/// any other damage, the last complete record included, refuses the file and leaves it as it was.
///
/// A compacted file starts with a snapshot: every register's value (overwrite records), a TDX
/// sysroot's runtime log (`runtimeLog` records), then a `checkpoint` record; the changes made since
/// follow. Compaction writes `FILE.compact` beside the file (exclusively, 0600, no links
/// followed), fsyncs it, renames it over the file and fsyncs the directory (see
/// ``Compaction``). The rename is the commit: a leftover `FILE.compact` is never read, only
/// removed at start.
///
/// The file is opened without following links and must be a regular file; a new one is created
/// exclusively, 0600. An exclusive `flock` held for the journal's life refuses a second daemon.
public final class StateJournal: ChangeJournal {
    static let magic = Array("TSMFSJ02".utf8)
    /// Format 1 (tsmfs 0.1): records without a check of their length.
    static let formerMagic = Array("TSMFSJ01".utf8)
    static let headerSize = 80
    /// A record's length, its check, and its checksum.
    static let recordOverhead = 16
    /// No record is longer: a provider name and one register of at most 4096 bytes.
    static let maximumPayload = 16384
    /// The largest state file read or written: a change that would make it larger is refused
    /// with ENOSPC, as a full disk refuses it.
    public static let maximumSize = 64 << 20

    public let path: String
    let fingerprint: [UInt8]
    let compaction: Compaction
    let log: @Sendable (String) -> Void

    /// The open file and where its tail of changes starts.
    struct FileState {
        var descriptor: Int32
        /// The file's length: where the next record goes.
        var size: Int
        /// The header and the snapshot: where the tail of changes starts.
        var tailStart: Int
        /// The tail length below which a failed compaction is not tried again.
        var retryAt = 0
        /// A compaction renamed the file and its directory could not be fsync'd yet: no change
        /// is acknowledged until it is.
        var directoryUnsynced = false
    }

    let file: Mutex<FileState>
    /// Held around every change (``transaction(_:)``) and every compaction.
    let gate = Mutex(())
    /// What a compaction writes: the whole state as records (``Operations/snapshotRecords()``).
    /// Boxed: a closure kept in a `Mutex` directly was re-wrapped in a reabstraction thunk at
    /// every access (Swift 6.3.1), until calling it overflowed the stack after ~140,000 changes.
    final class SnapshotSource: Sendable {
        let make: @Sendable () -> [RegisterChange]
        init(_ make: @escaping @Sendable () -> [RegisterChange]) { self.make = make }
    }
    let snapshotSource = Mutex<SnapshotSource?>(nil)

    /// Opens (or creates) the journal for the provider set whose fingerprint is given, checks it,
    /// cuts off a torn tail, removes a leftover `FILE.compact`, and returns the changes to replay.
    public static func open(
        _ path: String, fingerprint: [UInt8], compaction: Compaction = Compaction(),
        log: @escaping @Sendable (String) -> Void = { _ in }
    ) throws(Failure) -> (StateJournal, Recovery) {
        let fd = try openExclusively(path)
        do throws(Failure) {
            let bytes = try readAll(fd, path: path)
            var recovery = Recovery(path: path, changes: [], discardedBytes: 0, created: bytes.isEmpty)
            var state = FileState(descriptor: fd, size: headerSize, tailStart: headerSize)
            if bytes.isEmpty {
                try writeAll(fd, header(fingerprint), at: 0, path: path)
                try sync(fd, path: path)
                try syncDirectory(of: path)
            } else {
                let parsed = try parse(bytes, fingerprint: fingerprint, path: path)
                recovery.changes = parsed.changes
                recovery.discardedBytes = bytes.count - parsed.validLength
                if recovery.discardedBytes > 0 {
                    guard ftruncate(fd, off_t(parsed.validLength)) == 0 else {
                        throw .cannotCutOff(path: path, Errno(rawValue: errno))
                    }
                    try sync(fd, path: path)
                }
                state.size = parsed.validLength
                state.tailStart = parsed.tailStart
            }
            recovery.removedLeftover = try removeLeftover(of: path)
            let journal = StateJournal(
                path: path, fingerprint: fingerprint, compaction: compaction, log: log, file: state)
            return (journal, recovery)
        } catch {
            Glibc.close(fd)
            throw error
        }
    }

    private init(
        path: String, fingerprint: [UInt8], compaction: Compaction, log: @escaping @Sendable (String) -> Void,
        file: FileState
    ) {
        self.path = path
        self.fingerprint = fingerprint
        self.compaction = compaction
        self.log = log
        self.file = Mutex(file)
    }

    deinit {
        close()
    }

    /// Closes the file and releases its lock (the daemon keeps it for its life; tests close it
    /// to reopen). Later records fail with EBADF.
    public func close() {
        file.withLock { file in
            if file.descriptor >= 0 { Glibc.close(file.descriptor) }
            file.descriptor = -1
        }
    }

    /// The fingerprint of a provider set: SHA-256 of its JSON form and what else shapes the model.
    public static func fingerprint(_ providers: [ProviderDescriptor], context: String) -> [UInt8] {
        Array(SHA256.hash(data: Array((ProviderConfig.encode(providers) + "\n" + context).utf8)))
    }

    /// The file's length and its tail's (tests, diagnostics).
    public var sizes: (file: Int, tail: Int) {
        file.withLock { ($0.size, $0.size - $0.tailStart) }
    }

    /// Runs one change with no compaction in between, then compacts when the tail is due.
    public func transaction(_ body: () throws(MRError) -> Void) throws(MRError) {
        try gate.withLock { (_: inout Void) throws(MRError) in
            try body()
            compactIfDue()
        }
    }

    /// Appends the change and fsyncs; EIO, ENOSPC, ... from the disk fail the write, and the file
    /// is cut back to where it was (never a half-written record). Called inside a transaction.
    public func record(_ change: RegisterChange) throws(MRError) {
        let bytes = Self.encode(change)
        try file.withLock { (file: inout FileState) throws(MRError) in
            guard file.descriptor >= 0 else { throw .backend(.badFileDescriptor) }
            if file.directoryUnsynced {
                do throws(Failure) {
                    try Self.syncDirectory(of: path)
                    file.directoryUnsynced = false
                } catch {
                    throw .backend(error.errno)
                }
            }
            guard file.size + bytes.count <= Self.maximumSize else {
                log("state \(path): full (\(Self.maximumSize) bytes, the most a state file holds); change refused")
                throw .backend(.noSpace)
            }
            do throws(Failure) {
                try Self.writeAll(file.descriptor, bytes, at: file.size, path: path)
                try Self.sync(file.descriptor, path: path)
            } catch {
                _ = ftruncate(file.descriptor, off_t(file.size))
                throw .backend(error.errno)
            }
            file.size += bytes.count
        }
    }
}
