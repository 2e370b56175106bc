import TSMModel

/// Everything that explains a TDX guest's RTMRs: the boot log firmware left in the ACPI CCEL log
/// area and the runtime log of every extend since. The invariant it keeps:
/// `replay(boot log + runtime log) == the RTMRs`, at mount (where the RTMRs start at
/// ``initialRTMRs``, the boot log's replay) and after every extend, concurrent ones included,
/// when every extend goes through an ``EventLoggingBackend`` over this log.
///
/// The Linux counterparts: `/sys/firmware/acpi/tables/CCEL` (``ccelTableBytes``),
/// `/sys/firmware/acpi/tables/data/CCEL` (``ccelDataBytes``); the runtime log has none in Linux
/// (IMA's log is another format), tsmfs serves ``runtimeLogBytes(offset:count:)``.
public final class MeasurementLog: Sendable {
    /// The boot log: header and records, unpadded.
    public let boot: TCGEventLog
    /// The ACPI CCEL table that points at the boot log's area.
    public let table: CCELTable
    /// The runtime records.
    public let runtime: RuntimeLog
    /// RTMR0...RTMR3 at mount: the replay of the boot log.
    public let initialRTMRs: [[UInt8]]
    /// The log area: the boot log, then 0xFF to LAML.
    public let ccelDataBytes: [UInt8]

    /// - Parameters:
    ///   - boot: the boot log (by default ``BootLog/synthetic(kernel:commandLine:)``). Its records
    ///     must be `EV_NO_ACTION` or extend RTMR0-3 (MR index 1-4).
    ///   - table: the CCEL table; by default tsmfs's, with LAML TDVF's 64 KiB or, for a larger
    ///     log, the next 4 KiB page past it.
    ///   - runtimeCapacity: the most bytes the runtime log holds (see ``RuntimeLog``); nil for no limit.
    /// - Throws: `malformed` for a record that extends no RTMR, `logAreaTooSmall` when `table`'s
    ///   LAML cannot hold the log.
    public init(boot: TCGEventLog = BootLog.synthetic(), table: CCELTable? = nil, runtimeCapacity: Int? = nil)
        throws(EventLogError)
    {
        for (index, event) in boot.events.enumerated() where event.type != .noAction && event.rtmr == nil {
            throw .malformed(
                structure: "boot log", offset: index,
                reason:
                    """
                    record \(index) (\(event.type)) extends MR index \(event.mrIndex); a TDX log extends RTMR0-3 \
                    (MR index 1-4) only
                    """
            )
        }
        let log = boot.encoded()
        let table = table ?? CCELTable(logAreaMinimumLength: CCELTable.logAreaLength(for: log.count))
        self.boot = boot
        self.table = table
        self.runtime = RuntimeLog(capacity: runtimeCapacity)
        self.initialRTMRs = boot.replay()
        self.ccelDataBytes = try table.logArea(log)
    }

    /// The 56 bytes of `sys/firmware/acpi/tables/CCEL`.
    public var ccelTableBytes: [UInt8] { table.encoded() }

    /// Records that RTMR `rtmr` was extended with `data`, and the face's event data if it had
    /// any. For a caller that hooks extends itself: it must call this while it still holds the
    /// lock its extend ran under, or records of concurrent extends may land out of order.
    /// ``EventLoggingBackend`` does this for every face. Throws for an RTMR outside 0...3, data
    /// that is not 48 bytes, or a full runtime log.
    public func recordExtend(rtmr: Int, data: [UInt8], event: [UInt8]? = nil) throws(EventLogError) {
        try runtime.append(try RuntimeRecord(rtmr: rtmr, data: data, event: event ?? []))
    }

    /// The runtime log's size in bytes (what `stat` shows for its file).
    public var runtimeLogSize: Int { runtime.byteCount }

    /// The whole runtime log: its records' `TCG_PCR_EVENT2` bytes, no header.
    public func runtimeLogBytes() -> [UInt8] { runtime.bytes() }

    /// Up to `count` bytes of the runtime log at `offset` (a FUSE read).
    public func runtimeLogBytes(offset: Int, count: Int) -> [UInt8] { runtime.bytes(offset: offset, count: count) }

    /// One self-contained log: the boot log (header included, no fill) followed by the runtime
    /// records. Any TCG2 parser reads it; its replay is the current RTMRs.
    public func fullLogBytes() -> [UInt8] { boot.encoded() + runtime.bytes() }

    /// The boot records, then the runtime records.
    public func events() -> [TCGEvent] { boot.events + runtime.events() }

    /// RTMR0...RTMR3 as the boot and runtime logs replay them.
    public func replay() -> [[UInt8]] { TCGEventLog.replay(events()) }

    /// `descriptor` with registers `rtmrs[n]` (RTMRn, by index) starting at ``initialRTMRs``, so
    /// that the provider's RTMRs at mount are what the CCEL log replays to. Other registers are
    /// unchanged.
    public func applyingInitialRTMRs(to descriptor: ProviderDescriptor, rtmrs: [Int]) -> ProviderDescriptor {
        var descriptor = descriptor
        for (rtmr, index) in rtmrs.prefix(TCGEvent.rtmrCount).enumerated()
        where descriptor.registers.indices.contains(index) {
            descriptor.registers[index].initial = initialRTMRs[rtmr]
        }
        return descriptor
    }
}

extension MeasurementLog {
    /// The event data the calling thread's next logged extend records (see ``withEvent(_:_:)``).
    @TaskLocal static var pendingEvent: [UInt8]?

    /// Runs `body` so that an extend it makes through an ``EventLoggingBackend`` records `event`
    /// as its event data: for a face that carries a description of what it measures. The value is
    /// bound to the calling thread (or task) for the duration of `body` only.
    @discardableResult
    public static func withEvent<R, E: Error>(_ event: [UInt8], _ body: () throws(E) -> R) throws(E) -> R {
        let result: Result<R, E> = $pendingEvent.withValue(event) {
            Result { () throws(E) -> R in try body() }
        }
        return try result.get()
    }
}
