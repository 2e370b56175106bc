import TSMBytes
import TSMModel

/// A TCG2 crypto-agile event log as TDX firmware leaves it in the ACPI CCEL log area: the
/// ``SpecIDEvent`` header, then `TCG_PCR_EVENT2` records (TCG PC Client PFP 1.06, 10.2.2 and
/// 10.4.5; UEFI 2.10, 38.4 for the CC MR index in `pcrIndex`).
public struct TCGEventLog: Sendable, Equatable {
    /// The Spec ID Event03 header record.
    public var header: SpecIDEvent
    /// The records after the header, in log order.
    public var events: [TCGEvent]

    /// A log of `events` under `header` (TDVF's by default).
    public init(header: SpecIDEvent = .tdx, events: [TCGEvent]) {
        self.header = header
        self.events = events
    }

    /// The log's bytes: the header record, then every record, unpadded.
    public func encoded() -> [UInt8] {
        var writer = ByteWriter()
        writer.append(header.encoded())
        for event in events { event.encode(into: &writer) }
        return writer.bytes
    }

    /// Decodes a log: a Spec ID Event03 header, then records up to the end of `bytes` or up to
    /// the 0xFF fill of an ACPI log area (a record whose `pcrIndex` reads 0xFFFFFFFF ends the log,
    /// as TDVF and the Linux TPM code read it). Throws on a truncated or malformed record, on a
    /// digest algorithm the header does not list, on a record without a SHA-384 digest and on a
    /// measured record whose MR index is not an RTMR (1...4).
    public init(decoding bytes: [UInt8]) throws(EventLogError) {
        var reader = ByteReader(bytes, structure: "TCG event log")
        if reader.isAtEnd || reader.peekU32() == Self.endOfLog {
            throw .malformed(structure: "TCG event log", offset: 0, reason: "empty: no Spec ID event")
        }
        let header = try SpecIDEvent.decode(&reader)
        self.header = header
        self.events = try Self.decodeRecords(&reader, header: header)
    }

    /// Decodes records with no header of their own, as the runtime log holds them: digest sizes
    /// come from `header` (SHA-384 at 48 bytes by default). Stops at the end or at 0xFF fill.
    public static func decodeRecords(_ bytes: [UInt8], header: SpecIDEvent = .tdx) throws(EventLogError) -> [TCGEvent] {
        var reader = ByteReader(bytes, structure: "TCG event log")
        return try decodeRecords(&reader, header: header)
    }

    /// `pcrIndex` of an erased (0xFF-filled) log area: the end of the log.
    static let endOfLog: UInt32 = 0xFFFF_FFFF

    private static func decodeRecords(_ reader: inout ByteReader, header: SpecIDEvent) throws(EventLogError)
        -> [TCGEvent]
    {
        var events: [TCGEvent] = []
        while !reader.isAtEnd {
            if reader.peekU32() == endOfLog || reader.bytes[reader.offset...].allSatisfy({ $0 == 0xFF }) { break }
            events.append(try decodeRecord(&reader, header: header))
        }
        return events
    }

    private static func decodeRecord(_ reader: inout ByteReader, header: SpecIDEvent) throws(EventLogError) -> TCGEvent
    {
        let start = reader.offset
        let mrIndex = try reader.u32("pcrIndex")
        let type = TCGEventType(rawValue: try reader.u32("eventType"))
        let count = try reader.u32("digests.count")
        // Each TPMT_HA is at least its 2-byte algorithm id: bound the loop by what remains.
        guard UInt64(count) * 2 <= UInt64(reader.remaining) else {
            throw .truncated(
                structure: "TCG_PCR_EVENT2", field: "digests", offset: reader.offset,
                needed: Int(count) * 2, available: reader.remaining)
        }
        var sha384: [UInt8]?
        for _ in 0..<count {
            let algorithm = try reader.u16("hashAlg")
            guard let size = header.digestSize(of: algorithm) else {
                throw .malformed(
                    structure: "TCG_PCR_EVENT2", offset: start,
                    reason: "digest algorithm 0x\(String(algorithm, radix: 16)) is not in the Spec ID event")
            }
            let digest = try reader.read(size, "digest")
            if algorithm == TCGEvent.sha384AlgorithmID {
                guard sha384 == nil else {
                    throw .malformed(structure: "TCG_PCR_EVENT2", offset: start, reason: "two sha384 digests")
                }
                sha384 = digest
            }
        }
        let data = try reader.read(Int(try reader.u32("eventSize")), "event")
        if type == .noAction {
            // PFP 10.4.5: an EV_NO_ACTION record's digests are zero; nothing is extended.
            return try TCGEvent(
                mrIndex: mrIndex, type: type,
                digest: sha384 ?? [UInt8](repeating: 0, count: TCGEvent.digestSize), data: data)
        }
        guard let digest = sha384 else {
            throw .malformed(structure: "TCG_PCR_EVENT2", offset: start, reason: "no sha384 digest")
        }
        let event = try TCGEvent(mrIndex: mrIndex, type: type, digest: digest, data: data)
        guard event.rtmr != nil else {
            throw .malformed(
                structure: "TCG_PCR_EVENT2", offset: start,
                reason: "\(type) into MR index \(mrIndex): a TDX log extends RTMR0-3 (MR index 1-4) only")
        }
        return event
    }

    /// The RTMR values this log's records produce.
    public func replay() -> [[UInt8]] {
        Self.replay(events)
    }

    /// Replays `events` the way TDG.MR.RTMR.EXTEND computes: each RTMR starts as 48 zero bytes and
    /// every record into it makes `new = SHA-384(old ‖ digest)`. `EV_NO_ACTION` records and MR
    /// indices that are not an RTMR are skipped. Returns RTMR0...RTMR3.
    public static func replay(_ events: some Sequence<TCGEvent>) -> [[UInt8]] {
        var registers = [[UInt8]](
            repeating: [UInt8](repeating: 0, count: TCGEvent.digestSize), count: TCGEvent.rtmrCount)
        for event in events {
            guard let rtmr = event.rtmr else { continue }
            registers[rtmr] = HashAlgorithm.sha384.extend(registers[rtmr], with: event.digest)
        }
        return registers
    }
}
