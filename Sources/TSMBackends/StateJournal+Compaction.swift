import Glibc
import SystemPackage
import TSMModel

extension StateJournal {
    /// When the journal compacts, and the test hook that stops the daemon inside a compaction.
    ///
    /// A compaction is due once the tail of changes after the snapshot reaches ``tailBytes`` and
    /// the snapshot's own size (so rewriting the snapshot costs at most as much as the changes
    /// did), or half of ``StateJournal/maximumSize``. The file then stays below twice the state
    /// plus ``tailBytes``.
    public struct Compaction: Sendable, Equatable {
        /// The steps of a compaction, in order, after which ``stopAfter`` ends the daemon.
        public enum Step: String, Sendable, CaseIterable {
            /// `FILE.compact` holds the snapshot, not yet fsync'd.
            case written
            /// `FILE.compact` is fsync'd.
            case synced
            /// `FILE.compact` is renamed over the file.
            case renamed
            /// The directory is fsync'd: the rename is durable.
            case directorySynced = "directory-synced"
        }

        /// The environment variable that sets ``tailBytes``.
        public static let tailVariable = "TSMFS_STATE_COMPACT_BYTES"
        /// The environment variable that sets ``stopAfter`` (tests only).
        public static let stopVariable = "TSMFS_STATE_STOP_AFTER"
        /// The exit status of a daemon that ``stopAfter`` stopped.
        public static let stopStatus: Int32 = 86
        /// 1 MiB: about 14,000 extends of a 48-byte register.
        public static let defaultTailBytes = 1 << 20

        /// The tail, in bytes, past which the journal compacts.
        public var tailBytes: Int
        /// When set, the daemon `_exit`s (status ``stopStatus``) after this step of its first
        /// compaction: "killed during a compaction" as a test.
        public var stopAfter: Step?

        public init(tailBytes: Int = defaultTailBytes, stopAfter: Step? = nil) {
            self.tailBytes = tailBytes
            self.stopAfter = stopAfter
        }

        /// From ``tailVariable`` (a whole number of bytes, 1 to ``StateJournal/maximumSize``) and
        /// ``stopVariable`` (a step's name); unset variables keep the defaults. `lookup` reads the
        /// process's environment unless a test gives another.
        public static func fromEnvironment(
            _ lookup: (String) -> String? = { getenv($0).map { String(cString: $0) } }
        ) throws(Failure) -> Compaction {
            var compaction = Compaction()
            if let text = lookup(tailVariable) {
                guard let value = Int(text), value >= 1, value <= maximumSize else {
                    throw .environment(
                        name: tailVariable, value: text, expected: "a number of bytes from 1 to \(maximumSize)")
                }
                compaction.tailBytes = value
            }
            if let text = lookup(stopVariable) {
                guard let step = Step(rawValue: text) else {
                    throw .environment(
                        name: stopVariable, value: text,
                        expected: "one of " + Step.allCases.map(\.rawValue).joined(separator: ", "))
                }
                compaction.stopAfter = step
            }
            return compaction
        }
    }

    /// Gives the journal the whole state to compact to (``Operations/snapshotRecords()``) once
    /// the changes are replayed, and compacts at once when the replayed tail is due (a file an
    /// earlier tsmfs let grow).
    public func takeSnapshots(from source: @escaping @Sendable () -> [RegisterChange]) {
        let boxed = SnapshotSource(source)
        snapshotSource.withLock { $0 = boxed }
        gate.withLock { _ in compactIfDue() }
    }

    /// With the gate held: compacts when the tail is due. A compaction that fails keeps the old
    /// file, which holds every change, says why, and is tried again after another tail's worth.
    func compactIfDue() {
        guard let source = snapshotSource.withLock({ $0 }) else { return }
        let due = file.withLock { file in
            let tail = file.size - file.tailStart
            return file.descriptor >= 0 && tail >= compaction.tailBytes && tail >= file.retryAt
                && (tail >= file.tailStart || file.size >= Self.maximumSize / 2)
        }
        guard due else { return }
        do {
            try compact(source.make())
        } catch {
            file.withLock { $0.retryAt = $0.size - $0.tailStart + compaction.tailBytes }
            log("state \(path): compaction failed, the file keeps every change: \(error)")
        }
    }

    /// Writes the snapshot to `FILE.compact`, fsyncs it, renames it over the file, fsyncs the
    /// directory and appends to the new file from then on.
    private func compact(_ records: [RegisterChange]) throws(Failure) {
        var bytes = Self.header(fingerprint)
        for record in records { bytes += Self.encode(record) }
        bytes += Self.encode(RegisterChange(provider: "", register: 0, kind: .checkpoint, data: []))
        guard bytes.count <= Self.maximumSize / 2 else {
            throw .snapshotTooLarge(path: path, size: bytes.count, limit: Self.maximumSize / 2)
        }
        let temporary = Self.compactPath(path)
        let flags = O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC
        var fd = Glibc.open(temporary, flags, 0o600)
        if fd < 0 && errno == EEXIST && unlink(temporary) == 0 { fd = Glibc.open(temporary, flags, 0o600) }
        guard fd >= 0 else { throw .cannotOpen(path: temporary, Errno(rawValue: errno)) }
        do throws(Failure) {
            // Locked before its name is the file's: a second daemon never finds it unlocked.
            guard flock(fd, LOCK_EX | LOCK_NB) == 0 else { throw .cannotOpen(path: temporary, Errno(rawValue: errno)) }
            try Self.writeAll(fd, bytes, at: 0, path: temporary)
            stop(after: .written)
            try Self.sync(fd, path: temporary)
            stop(after: .synced)
            guard rename(temporary, path) == 0 else { throw .cannotRename(path: temporary, Errno(rawValue: errno)) }
        } catch {
            Glibc.close(fd)
            unlink(temporary)
            throw error
        }
        stop(after: .renamed)
        file.withLock { file in
            if file.descriptor >= 0 { Glibc.close(file.descriptor) }
            file = FileState(descriptor: fd, size: bytes.count, tailStart: bytes.count, directoryUnsynced: true)
        }
        do {
            try Self.syncDirectory(of: path)
            file.withLock { $0.directoryUnsynced = false }
        } catch {
            log("state \(path): compacted, but \(error); the next change syncs the directory first")
        }
        stop(after: .directorySynced)
    }

    private func stop(after step: Compaction.Step) {
        guard compaction.stopAfter == step else { return }
        log("state \(path): stopping after compaction step '\(step.rawValue)' (\(Compaction.stopVariable))")
        _exit(Compaction.stopStatus)
    }
}
