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
public protocol ChangeJournal: Sendable {
    func record(_ change: RegisterChange) throws(MRError)
}
