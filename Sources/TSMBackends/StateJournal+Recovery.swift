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

        public var description: String {
            switch self {
            case .notServed(let path, let change, let provider):
                "\(path): change \(change) names provider '\(provider)', which is not served; refusing the file"
            case .doesNotApply(let path, let change, let provider, let errno):
                "\(path): change \(change) does not apply to provider '\(provider)' (\(errno)); refusing the file"
            case .rebootFailed(_, _, let reason): reason
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
            var text = "replayed \(changes.count) change\(changes.count == 1 ? "" : "s")"
            if discardedBytes > 0 {
                text += "; cut off a torn last record of \(discardedBytes) bytes (a change that was never acknowledged)"
            }
            return text
        }

        /// Replays the changes, in order, into the providers they name; a reboot record calls
        /// `reboot` (which must not record it again). Any change that does not apply refuses the
        /// whole file: a partial state is never served. Providers are matched by name, the first
        /// of a name winning.
        public func replay(into providers: [MeasurementProvider], reboot: () throws -> Void) throws(ReplayFailure) {
            let byName = Dictionary(providers.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
            for (index, change) in changes.enumerated() {
                if change.kind == .reboot {
                    do {
                        try reboot()
                    } catch {
                        throw .rebootFailed(path: path, change: index + 1, reason: "\(error)")
                    }
                    continue
                }
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

        /// Replays into the providers `tsmfs ctl` changes; a reboot record reboots them without
        /// recording it again.
        public func replay(into operations: Operations) throws(ReplayFailure) {
            try replay(into: operations.providers) { try operations.reboot(record: false) }
        }
    }
}
