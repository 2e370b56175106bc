/// One register change as a journal records it: enough to replay it through the same backend.
public struct RegisterChange: Sendable, Equatable {
    public enum Kind: UInt8, Sendable {
        /// An extend through the backend with `data` (the register's size).
        case extend = 1
        /// A new value, written over the old (RFC v2 W without X, or `tsmfs ctl set`).
        case overwrite = 2
        /// `tsmfs ctl reboot`: every extensible register back to its boot value, the runtime
        /// event log emptied. Recorded once for all providers (`provider` is empty).
        case reboot = 3
        /// A state file's snapshot (not a change): whole records of a runtime event log, restored
        /// as they were (`provider` names the logged provider; `register` is 0).
        case runtimeLog = 4
        /// A state file's snapshot ends here: what follows are changes made after it.
        case checkpoint = 5
    }

    public var provider: String
    public var register: Int
    public var kind: Kind
    public var data: [UInt8]

    public init(provider: String, register: Int, kind: Kind, data: [UInt8]) {
        self.provider = provider
        self.register = register
        self.kind = kind
        self.data = data
    }
}

/// Makes every change durable before it takes effect (`--state`). Called with the provider's
/// lock held, after the backend computed the change and before anyone can see it; a thrown error
/// fails the write with that errno and leaves the register as it was.
///
/// Every journaled change runs inside ``transaction(_:)``, which a compacting journal uses to see
/// the whole state with no change half made: `body` takes the provider's lock and calls
/// ``record(_:)`` once.
public protocol ChangeJournal: Sendable {
    func record(_ change: RegisterChange) throws(MRError)
    /// Runs one change (`body`) so that no snapshot of the state sees it half made.
    func transaction(_ body: () throws(MRError) -> Void) throws(MRError)
}

extension ChangeJournal {
    /// A journal that never takes snapshots needs no ordering beyond its own.
    public func transaction(_ body: () throws(MRError) -> Void) throws(MRError) {
        try body()
    }
}
