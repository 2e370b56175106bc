/// The event logs as a client reads them back from a sysroot: the CCEL table
/// (`sys/firmware/acpi/tables/CCEL`), its log area (`.../data/CCEL`) and the runtime log. What
/// `tsmfs log` decodes, and what an integration test compares with the live RTMRs.
public struct EventLogFiles: Sendable, Equatable {
    /// The decoded CCEL table.
    public let table: CCELTable
    /// The boot log in the log area, without its 0xFF fill.
    public let boot: TCGEventLog
    /// The runtime records, in order.
    public let runtime: [TCGEvent]

    /// Decodes the three files. Throws when the table is not a valid CCEL table, when the log
    /// area is not LAML bytes long, when either log does not decode, and when a runtime record is
    /// not one tsmfs writes (``RuntimeRecord``).
    public init(table: [UInt8], area: [UInt8], runtime: [UInt8]) throws(EventLogError) {
        let decodedTable = try CCELTable(decoding: table)
        guard UInt64(area.count) == decodedTable.logAreaMinimumLength else {
            throw .malformed(
                structure: "CCEL log area", offset: 0,
                reason: "\(area.count) bytes where LAML says \(decodedTable.logAreaMinimumLength)")
        }
        let boot = try TCGEventLog(decoding: area)
        let records = try TCGEventLog.decodeRecords(runtime, header: boot.header)
        for event in records { _ = try RuntimeRecord(decoding: event) }
        self.table = decodedTable
        self.boot = boot
        self.runtime = records
    }

    /// The boot records, then the runtime records.
    public var events: [TCGEvent] { boot.events + runtime }

    /// RTMR0...RTMR3 as both logs replay them: the live RTMRs, if the logs are complete.
    public func replay() -> [[UInt8]] { TCGEventLog.replay(events) }

    /// The replay of the boot log alone: the RTMRs at mount.
    public func bootReplay() -> [[UInt8]] { boot.replay() }

    /// The text `tsmfs log` prints: every record, then with `replay` the replayed RTMRs.
    public func text(replay: Bool) -> String {
        var lines = EventLogText.lines(boot: boot, runtime: runtime)
        if replay { lines += EventLogText.replayLines(self.replay()) }
        return lines.joined(separator: "\n") + "\n"
    }
}
