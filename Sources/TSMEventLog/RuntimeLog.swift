import Synchronization
import TSMBytes

/// The runtime event log: an append-only, thread-safe list of ``RuntimeRecord``s, held as the
/// `TCG_PCR_EVENT2` bytes a reader is served (records only; the boot log's Spec ID header
/// describes them). Bytes once appended never change, so a reader paging through the log sees a
/// prefix of it.
///
/// With a `capacity`, an append that would pass it is refused (`runtimeLogFull`); a logging
/// backend then refuses the extend itself, so the log never misses an extend that happened.
public final class RuntimeLog: Sendable {
    /// The most bytes the log holds; nil for no limit.
    public let capacity: Int?

    private struct State {
        var bytes: [UInt8] = []
        var count = 0
    }

    private let state = Mutex(State())

    /// An empty log holding at most `capacity` bytes (nil: no limit).
    public init(capacity: Int? = nil) {
        self.capacity = capacity
    }

    /// Empties the log (a reboot).
    public func clear() {
        state.withLock { $0 = State() }
    }

    /// Replaces the log with `bytes`, whole records as ``bytes()`` gave them: a state file's
    /// snapshot restored at start. Throws when they do not decode as records or pass the capacity.
    public func restore(_ bytes: [UInt8]) throws(EventLogError) {
        if let capacity, bytes.count > capacity { throw .runtimeLogFull(capacity: capacity) }
        let count = try TCGEventLog.decodeRecords(bytes).count
        state.withLock { $0 = State(bytes: bytes, count: count) }
    }

    /// Appends one record. Throws `runtimeLogFull` when it does not fit the capacity.
    public func append(_ record: RuntimeRecord) throws(EventLogError) {
        try transaction { (appender: inout Appender) throws(EventLogError) in try appender.append(record) }
    }

    /// Runs `body` with the log locked, so that an extend and the record of it are one step:
    /// whoever extends an RTMR inside `body` and appends its record there logs in the order the
    /// RTMR changed. `body` must not call back into this log.
    func transaction<R, E: Error>(_ body: (inout Appender) throws(E) -> R) throws(E) -> R {
        try state.withLock { (state: inout State) throws(E) -> R in
            var appender = Appender(capacity: capacity, bytes: state.bytes, count: state.count)
            state.bytes = []  // hand the buffer over without copying it
            defer {
                state.bytes = appender.bytes
                state.count = appender.count
            }
            return try body(&appender)
        }
    }

    /// The log as seen inside a ``transaction(_:)``.
    struct Appender {
        let capacity: Int?
        fileprivate(set) var bytes: [UInt8]
        fileprivate(set) var count: Int

        fileprivate init(capacity: Int?, bytes: [UInt8], count: Int) {
            self.capacity = capacity
            self.bytes = bytes
            self.count = count
        }

        /// Refuses with `runtimeLogFull` when `record` would not fit.
        func check(_ record: RuntimeRecord) throws(EventLogError) {
            if let capacity, bytes.count + record.encodedSize > capacity {
                throw .runtimeLogFull(capacity: capacity)
            }
        }

        mutating func append(_ record: RuntimeRecord) throws(EventLogError) {
            try check(record)
            var writer = ByteWriter()
            record.tcgEvent.encode(into: &writer)
            bytes += writer.bytes
            count += 1
        }
    }

    /// The number of records.
    public var count: Int { state.withLock { $0.count } }

    /// The log's size in bytes.
    public var byteCount: Int { state.withLock { $0.bytes.count } }

    /// Every record's bytes, in order.
    public func bytes() -> [UInt8] { state.withLock { $0.bytes } }

    /// Up to `count` bytes at `offset`; empty at or past the end, or for a negative offset.
    public func bytes(offset: Int, count: Int) -> [UInt8] {
        state.withLock { state in
            guard offset >= 0, count > 0, offset < state.bytes.count else { return [] }
            let end = offset + min(count, state.bytes.count - offset)
            return Array(state.bytes[offset..<end])
        }
    }

    /// The records, decoded from the log's bytes.
    public func records() -> [RuntimeRecord] {
        let events = (try? TCGEventLog.decodeRecords(bytes())) ?? []
        return events.compactMap { try? RuntimeRecord(decoding: $0) }
    }

    /// The records as the log holds them.
    public func events() -> [TCGEvent] {
        (try? TCGEventLog.decodeRecords(bytes())) ?? []
    }
}
