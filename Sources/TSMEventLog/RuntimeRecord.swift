/// One successful runtime extend: RTMR `rtmr` was extended with the 48 bytes `data`
/// (TDG.MR.RTMR.EXTEND's `new = SHA-384(old ‖ data)`), by a face that may have said what it
/// measured (`event`).
///
/// In the log it is a `TCG_PCR_EVENT2` of type `EV_EVENT_TAG` at MR index `rtmr + 1` whose
/// SHA-384 digest is `data` itself, so a replay of the log extends exactly what was extended;
/// its event is a `TCG_PCClientTaggedEvent` with tag ``TaggedEvent/tsmfsExtendID`` ("TSMF") and
/// `event` as the tagged data (empty when the face carried none). The event data is therefore
/// never empty, which cctrusted 0.5.0 needs: it cannot read a record with `eventSize` 0.
public struct RuntimeRecord: Sendable, Equatable {
    /// 0...3.
    public let rtmr: Int
    /// What was extended: 48 bytes.
    public let data: [UInt8]
    /// What the face said was measured; empty when it said nothing.
    public let event: [UInt8]

    /// Throws `invalidInput` for an RTMR outside 0...3, data that is not 48 bytes, or event data
    /// too large for a tagged event.
    public init(rtmr: Int, data: [UInt8], event: [UInt8] = []) throws(EventLogError) {
        guard (0..<TCGEvent.rtmrCount).contains(rtmr) else {
            throw .invalidInput(field: "rtmr", reason: "TDX has RTMR0 to RTMR3, not \(rtmr)")
        }
        guard data.count == TCGEvent.digestSize else {
            throw .invalidInput(field: "extend data", reason: "an RTMR is extended with 48 bytes, not \(data.count)")
        }
        guard UInt64(event.count) <= UInt64(UInt32.max) - 8 else {
            throw .invalidInput(field: "event data", reason: "\(event.count) bytes do not fit a tagged event")
        }
        self.rtmr = rtmr
        self.data = data
        self.event = event
    }

    /// The record as the log holds it.
    public var tcgEvent: TCGEvent {
        // The initializer checked the digest size and that the tagged event fits a u32.
        TCGEvent(
            checkedMRIndex: TCGEvent.firstRTMRIndex + UInt32(rtmr), type: .eventTag, digest: data,
            data: TaggedEvent(id: TaggedEvent.tsmfsExtendID, data: event).encoded())
    }

    /// Encoded size: a record of 66 bytes plus the 8-byte tag header and the event.
    public var encodedSize: Int { 66 + 8 + event.count }

    /// Reads a record back from the log: `EV_EVENT_TAG` into an RTMR with a "TSMF" tagged event.
    public init(decoding event: TCGEvent) throws(EventLogError) {
        guard event.type == .eventTag, let rtmr = event.rtmr else {
            throw .malformed(
                structure: "runtime record", offset: 0,
                reason: "\(event.type) at MR index \(event.mrIndex) is not a tsmfs runtime record")
        }
        let tagged = try TaggedEvent(decoding: event.data)
        guard tagged.id == TaggedEvent.tsmfsExtendID else {
            throw .malformed(
                structure: "runtime record", offset: 0, reason: "tag 0x\(String(tagged.id, radix: 16)) is not tsmfs's")
        }
        try self.init(rtmr: rtmr, data: event.digest, event: tagged.data)
    }
}
