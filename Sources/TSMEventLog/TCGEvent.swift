import TSMBytes
import TSMModel

/// One record of a TDX event log: a `TCG_PCR_EVENT2` (TCG PC Client PFP 1.06, 10.2.2) as the
/// UEFI CC measurement protocol writes it, `CC_EVENT` in EDK II.
///
/// The TDX log carries one digest algorithm, SHA-384 (`TPM_ALG_SHA384`, 0x000C), so a record
/// holds one 48-byte digest. Decoding keeps the SHA-384 digest of a record that lists several.
public struct TCGEvent: Sendable, Equatable {
    /// `pcrIndex`, which in a CC log is the CC MR index (UEFI 2.10, 38.4.1): 0 = MRTD,
    /// 1...4 = RTMR0...RTMR3.
    public let mrIndex: UInt32
    /// `eventType`.
    public let type: TCGEventType
    /// `digests.digests[sha384].digest`: what was extended into the register.
    public let digest: [UInt8]
    /// `event[eventSize]`: the type's event data.
    public let data: [UInt8]

    /// `TPM_ALG_SHA384` in the TCG algorithm registry.
    public static let sha384AlgorithmID: UInt16 = 0x000C
    /// SHA-384's digest size.
    public static let digestSize = 48
    /// The CC MR index of RTMR0; RTMRn is `firstRTMRIndex + n`.
    public static let firstRTMRIndex: UInt32 = 1
    /// TDX has four RTMRs.
    public static let rtmrCount = 4

    /// A record as it stands. Throws `invalidInput` when the digest is not 48 bytes or the event
    /// data cannot be sized by a u32.
    public init(mrIndex: UInt32, type: TCGEventType, digest: [UInt8], data: [UInt8]) throws(EventLogError) {
        guard digest.count == Self.digestSize else {
            throw .invalidInput(field: "digest", reason: "a SHA-384 digest is 48 bytes, not \(digest.count)")
        }
        guard UInt64(data.count) <= UInt64(UInt32.max) else {
            throw .invalidInput(field: "event data", reason: "\(data.count) bytes do not fit eventSize (u32)")
        }
        self.mrIndex = mrIndex
        self.type = type
        self.digest = digest
        self.data = data
    }

    /// For callers that checked the digest size and the data size themselves.
    init(checkedMRIndex mrIndex: UInt32, type: TCGEventType, digest: [UInt8], data: [UInt8]) {
        self.mrIndex = mrIndex
        self.type = type
        self.digest = digest
        self.data = data
    }

    /// A measurement into RTMR `rtmr` (0...3) whose digest is SHA-384 of its event data, as
    /// firmware logs a string or a structure it measured. With `digest`, that digest instead.
    public static func measurement(rtmr: Int, type: TCGEventType, data: [UInt8], digest: [UInt8]? = nil)
        throws(EventLogError) -> TCGEvent
    {
        guard (0..<rtmrCount).contains(rtmr) else {
            throw .invalidInput(field: "rtmr", reason: "TDX has RTMR0 to RTMR3, not \(rtmr)")
        }
        return try TCGEvent(
            mrIndex: firstRTMRIndex + UInt32(rtmr), type: type,
            digest: digest ?? HashAlgorithm.sha384.digest(data), data: data)
    }

    /// An `EV_NO_ACTION` record as TDVF writes one after the Spec ID event: MR index 0 and a zero
    /// SHA-384 digest. Never extended.
    public static func noAction(data: [UInt8]) throws(EventLogError) -> TCGEvent {
        try TCGEvent(mrIndex: 0, type: .noAction, digest: [UInt8](repeating: 0, count: digestSize), data: data)
    }

    /// The RTMR this record extends (0...3), or nil for `EV_NO_ACTION` and for MR indices that are
    /// not an RTMR.
    public var rtmr: Int? {
        guard type != .noAction, mrIndex >= Self.firstRTMRIndex,
            mrIndex < Self.firstRTMRIndex + UInt32(Self.rtmrCount)
        else { return nil }
        return Int(mrIndex - Self.firstRTMRIndex)
    }

    /// The `TCG_PCR_EVENT2` bytes: pcrIndex, eventType, digests (count 1, sha384), eventSize, event.
    public func encoded() -> [UInt8] {
        var writer = ByteWriter()
        encode(into: &writer)
        return writer.bytes
    }

    func encode(into writer: inout ByteWriter) {
        writer.u32(mrIndex)
        writer.u32(type.rawValue)
        writer.u32(1)
        writer.u16(Self.sha384AlgorithmID)
        writer.append(digest)
        writer.u32(UInt32(truncatingIfNeeded: data.count))
        writer.append(data)
    }

    /// Encoded size: 4 + 4 + 4 + 2 + 48 + 4 + event data.
    public var encodedSize: Int { 66 + data.count }
}
