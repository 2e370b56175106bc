import SystemPackage
import TSMModel

extension StateJournal {
    /// Why a state file is refused or cannot be kept. Each names the file (or its directory) first.
    public enum Failure: Error, CustomStringConvertible, Equatable {
        case cannotOpen(path: String, Errno)
        case cannotCutOff(path: String, Errno)
        case cannotSeek(path: String, Errno)
        case cannotRead(path: String, Errno)
        case cannotWrite(path: String, Errno)
        case cannotSync(path: String, Errno)
        /// The directory of a new file, opened to sync the file's name.
        case cannotOpenDirectory(path: String, Errno)
        /// Wrong magic or a damaged header.
        case notAStateFile(path: String)
        /// A format 1 file (tsmfs 0.1), whose records cannot tell damage from a torn tail.
        case formerFormat(path: String)
        /// The path is a symbolic link: never followed.
        case symbolicLink(path: String)
        /// A FIFO, device, directory or socket.
        case notRegularFile(path: String)
        /// Another daemon holds the file's lock.
        case inUse(path: String, holder: Int32?)
        /// The fingerprint names other providers, registers, config or guest.
        case otherProviderSet(path: String)
        /// A record fails a check and is not a torn tail.
        case damagedRecord(path: String, offset: Int)
        /// A record passes its checksum but its payload is malformed.
        case undecodableRecord(path: String, offset: Int)
        /// The file is larger than ``StateJournal/maximumSize`` (a tsmfs before compaction let it grow).
        case tooLarge(path: String, limit: Int)
        /// A leftover `FILE.compact` cannot be removed.
        case cannotRemove(path: String, Errno)
        /// A compaction's `FILE.compact` cannot be renamed over the file.
        case cannotRename(path: String, Errno)
        /// The whole state does not fit half of ``StateJournal/maximumSize``.
        case snapshotTooLarge(path: String, size: Int, limit: Int)
        /// An environment variable that tunes the journal has a value it cannot have.
        case environment(name: String, value: String, expected: String)

        public var description: String {
            switch self {
            case .cannotOpen(let path, let errno): "\(path): cannot open the state file: \(errno)"
            case .cannotCutOff(let path, let errno): "\(path): cannot cut off the torn last record: \(errno)"
            case .cannotSeek(let path, let errno): "\(path): cannot seek: \(errno)"
            case .cannotRead(let path, let errno): "\(path): cannot read: \(errno)"
            case .cannotWrite(let path, let errno): "\(path): cannot write: \(errno)"
            case .cannotSync(let path, let errno): "\(path): cannot fsync: \(errno)"
            case .cannotOpenDirectory(let path, let errno): "\(path): cannot open to sync: \(errno)"
            case .notAStateFile(let path):
                "\(path): not a tsmfs state file, or its header is damaged; refusing it (move it away to start afresh)"
            case .formerFormat(let path):
                """
                \(path): a format 1 state file (tsmfs 0.1), whose records cannot tell damage from a torn write; \
                this tsmfs writes format 2. Replay it with tsmfs 0.1 and set the values again, or move it away to \
                start afresh
                """
            case .symbolicLink(let path): "\(path): is a symbolic link; a state file is never opened through one"
            case .notRegularFile(let path): "\(path): not a regular file; refusing it as a state file"
            case .inUse(let path, let holder):
                """
                \(path): in use by another tsmfs\(holder.map { " (pid \($0))" } ?? ""); two daemons on one state \
                file would lose changes
                """
            case .otherProviderSet(let path):
                """
                \(path): this state belongs to another provider set (other providers, registers, config or \
                guest); refusing it (move it away to start afresh)
                """
            case .damagedRecord(let path, let offset):
                """
                \(path): record at byte \(offset) is damaged (not a torn last write); refusing the file and \
                leaving it as it is
                """
            case .undecodableRecord(let path, let offset):
                "\(path): record at byte \(offset) does not decode; refusing the file"
            case .tooLarge(let path, let limit):
                "\(path): larger than \(limit) bytes, the most a state file may hold (a tsmfs before "
                    + "compaction let it grow); replay it with that tsmfs and set the values again, "
                    + "or move it away to start afresh"
            case .cannotRemove(let path, let errno): "\(path): cannot remove a compaction's leftover: \(errno)"
            case .cannotRename(let path, let errno): "\(path): cannot rename over the state file: \(errno)"
            case .snapshotTooLarge(let path, let size, let limit):
                "\(path): the state takes \(size) bytes, more than the \(limit) a snapshot may"
            case .environment(let name, let value, let expected):
                "\(name)=\(value): expected \(expected)"
            }
        }

        /// The errno a change that failed this way answers (EIO where the failure has none).
        public var errno: Errno {
            switch self {
            case .cannotOpen(_, let errno), .cannotCutOff(_, let errno), .cannotSeek(_, let errno),
                .cannotRead(_, let errno), .cannotWrite(_, let errno), .cannotSync(_, let errno),
                .cannotOpenDirectory(_, let errno), .cannotRemove(_, let errno), .cannotRename(_, let errno):
                errno
            case .snapshotTooLarge, .tooLarge: .noSpace
            default: .ioError
            }
        }
    }

    /// Why the changes of a state file cannot be replayed into the served providers. `change`
    /// counts from 1, as the message does.
    public enum ReplayFailure: Error, CustomStringConvertible, Equatable {
        /// The change names a provider the mount does not serve.
        case notServed(path: String, change: Int, provider: String)
        /// The provider refuses the change (a register it lacks, a value of the wrong size, ...).
        case doesNotApply(path: String, change: Int, provider: String, Errno)
        /// A recorded reboot failed; the text is the reboot's own error.
        case rebootFailed(path: String, change: Int, reason: String)
        /// A snapshot's runtime log cannot be restored (no event log here, or it does not decode).
        case runtimeLog(path: String, change: Int, reason: String)

        public var description: String {
            switch self {
            case .notServed(let path, let change, let provider):
                "\(path): change \(change) names provider '\(provider)', which is not served; refusing the file"
            case .doesNotApply(let path, let change, let provider, let errno):
                "\(path): change \(change) does not apply to provider '\(provider)' (\(errno)); refusing the file"
            case .rebootFailed(_, _, let reason): reason
            case .runtimeLog(let path, let change, let reason):
                "\(path): change \(change) holds a runtime event log that cannot be restored (\(reason)); "
                    + "refusing the file"
            }
        }
    }

    /// What opening the file found: the changes to replay, and the one log line that says it.
    public struct Recovery: Sendable {
        /// The state file.
        public var path: String
        /// The acknowledged changes, oldest first.
        public var changes: [RegisterChange]
        /// Bytes of a torn last record that were cut off.
        public var discardedBytes: Int
        /// Whether the file was new (and so held nothing to replay).
        public var created: Bool
        /// Whether a `FILE.compact` a compaction cut short was removed.
        public var removedLeftover = false

        /// The changes after the snapshot (all of them in a file never compacted).
        public var tail: ArraySlice<RegisterChange> {
            changes[((changes.lastIndex { $0.kind == .checkpoint }).map { $0 + 1 } ?? 0)...]
        }

        /// What opening `path` found; `StateJournal.open` makes these.
        public init(path: String, changes: [RegisterChange], discardedBytes: Int, created: Bool) {
            self.path = path
            self.changes = changes
            self.discardedBytes = discardedBytes
            self.created = created
        }

        /// `new state file`, or `replayed N changes` and whether a torn last record was cut off.
        public var summary: String {
            if created { return "new state file" }
            let count = tail.count
            var text = count == changes.count ? "" : "restored a snapshot, "
            text += "replayed \(count) change\(count == 1 ? "" : "s")"
            if removedLeftover {
                text += "; removed the leftover of a compaction cut short (the file holds every change)"
            }
            if discardedBytes > 0 {
                text += "; cut off a torn last record of \(discardedBytes) bytes (a change that was never acknowledged)"
            }
            return text
        }

        /// Replays the changes, in order, into the providers they name; a reboot record calls
        /// `reboot` (which must not record it again), a snapshot's runtime log records (one run of
        /// them, concatenated) go to `restoreLog`. Any change that does not apply refuses the
        /// whole file: a partial state is never served. Providers are matched by name, the first
        /// of a name winning.
        public func replay(
            into providers: [MeasurementProvider], reboot: () throws -> Void,
            restoreLog: ([UInt8]) throws -> Void = { _ in throw RuntimeLogMissing() }
        ) throws(ReplayFailure) {
            let byName = Dictionary(providers.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
            var pendingLog: (change: Int, bytes: [UInt8])?
            for (index, change) in changes.enumerated() {
                if change.kind == .runtimeLog {
                    pendingLog = (pendingLog?.change ?? index + 1, (pendingLog?.bytes ?? []) + change.data)
                    continue
                }
                if let log = pendingLog {
                    pendingLog = nil
                    do {
                        try restoreLog(log.bytes)
                    } catch {
                        throw .runtimeLog(path: path, change: log.change, reason: "\(error)")
                    }
                }
                switch change.kind {
                case .checkpoint, .runtimeLog: continue
                case .reboot:
                    do {
                        try reboot()
                    } catch {
                        throw .rebootFailed(path: path, change: index + 1, reason: "\(error)")
                    }
                case .extend, .overwrite:
                    guard let provider = byName[change.provider] else {
                        throw .notServed(path: path, change: index + 1, provider: change.provider)
                    }
                    do {
                        try provider.replay(change)
                    } catch {
                        throw .doesNotApply(path: path, change: index + 1, provider: change.provider, error.errno)
                    }
                }
            }
            if let log = pendingLog {
                do {
                    try restoreLog(log.bytes)
                } catch {
                    throw .runtimeLog(path: path, change: log.change, reason: "\(error)")
                }
            }
        }

        /// Replays into the providers `tsmfs ctl` changes; a reboot record reboots them without
        /// recording it again, and without what reboots beside them (a vTPM, just started).
        public func replay(into operations: Operations) throws(ReplayFailure) {
            try replay(
                into: operations.providers, reboot: { try operations.reboot(record: false, alongside: false) },
                restoreLog: { bytes in
                    guard let log = operations.eventLog else { throw RuntimeLogMissing() }
                    try log.runtime.restore(bytes)
                })
        }
    }

    /// A snapshot holds a runtime log and the mount has none.
    public struct RuntimeLogMissing: Error, CustomStringConvertible {
        public init() {}
        public var description: String { "this mount has no runtime event log" }
    }
}
