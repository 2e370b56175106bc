import Testing
@testable import TSMEventLog
import TestSupport

/// Decoders get hostile bytes: every failure is a typed error, never a trap, and nothing
/// allocates by a length field before checking it against what remains.
@Suite struct HostileInputTests {
    static let valid: [UInt8] = (try? Samples.log().encoded()) ?? []

    @Test func everyTruncationIsRefusedOrAPrefix() throws {
        let log = try Samples.log()
        let bytes = log.encoded()
        var boundaries = [SpecIDEvent.tdx.encoded().count]
        for event in log.events { boundaries.append(boundaries[boundaries.count - 1] + event.encodedSize) }
        for count in 0..<bytes.count {
            let prefix = Array(bytes.prefix(count))
            if let index = boundaries.firstIndex(of: count) {
                #expect(try TCGEventLog(decoding: prefix).events == Array(log.events.prefix(index)), "cut at \(count)")
            } else {
                #expect(throws: EventLogError.self, "cut at \(count)") { try TCGEventLog(decoding: prefix) }
            }
        }
    }

    @Test func emptyAndErased() {
        #expect(throws: EventLogError.self) { try TCGEventLog(decoding: []) }
        #expect(throws: EventLogError.self) { try TCGEventLog(decoding: [UInt8](repeating: 0xFF, count: 4096)) }
    }

    /// Overwrites the u32 at `offset` of the valid log.
    func patched(_ offset: Int, _ value: UInt32, in bytes: [UInt8] = valid) -> [UInt8] {
        var bytes = bytes
        for index in 0..<4 { bytes[offset + index] = UInt8(truncatingIfNeeded: value >> (8 * index)) }
        return bytes
    }

    @Test(arguments: [
        (4, 0x0000_000D, "first record is not EV_NO_ACTION"),
        (28, 0xFFFF_FFFF, "Spec ID eventSize past the end"),
        (28, 32, "Spec ID eventSize shorter than its struct"),
        (28, 34, "Spec ID eventSize longer than its struct"),
        (32, 0x5858_5858, "signature"),
        (56, 0x4000_0000, "numberOfAlgorithms past the end"),
        (56, 0, "no algorithms: sha384 missing"),
        (60, 0x0030_000B, "sha384 not listed (sha256 in its place)"),
        (60, 0x0020_000C, "sha384 listed at 32 bytes"),
        (65 + 8, 0xFFFF_FFFF, "digests.count past the end"),
        (65 + 8, 0, "no digest at all"),
        (65 + 12, 0x0000_000B, "digest algorithm not in the header"),
        (65 + 62, 0xFFFF_FFF0, "eventSize past the end"),
        (65, 0, "MR index 0 (MRTD) extended"),
        (65, 5, "MR index 5 (no RTMR4)"),
    ])
    func refusesField(offset: Int, value: UInt32, what: String) {
        #expect(throws: EventLogError.self, "\(what)") { try TCGEventLog(decoding: patched(offset, value)) }
    }

    @Test func refusesAlgorithmListedTwice() {
        var header = SpecIDEvent.tdx
        header.algorithms += header.algorithms
        #expect(throws: EventLogError.self) { try TCGEventLog(decoding: header.encoded()) }
    }

    @Test func refusesTwoSHA384Digests() {
        var bytes = SpecIDEvent.tdx.encoded()
        bytes += [1, 0, 0, 0] + [0x0D, 0, 0, 0] + [2, 0, 0, 0]
        bytes += [0x0C, 0] + [UInt8](repeating: 1, count: 48) + [0x0C, 0] + [UInt8](repeating: 2, count: 48)
        bytes += [0, 0, 0, 0]
        #expect(throws: EventLogError.self) { try TCGEventLog(decoding: bytes) }
    }

    @Test func trailingBytesThatAreNotFill() {
        #expect(throws: EventLogError.self) { try TCGEventLog(decoding: Self.valid + [0x01]) }
        #expect(throws: EventLogError.self) { try TCGEventLog(decoding: Self.valid + [0xFF, 0xFF, 0x00]) }
    }

    @Test func seededMutationsNeverTrap() {
        var generator = SeededGenerator(seed: 0x7D5)
        let area = (try? CCELTable().logArea(Self.valid)) ?? []
        for round in 0..<4000 {
            var bytes = round.isMultiple(of: 2) ? Self.valid : Array(area.prefix(Self.valid.count + 64))
            for _ in 0..<Int.random(in: 1...6, using: &generator) {
                let index = Int.random(in: 0..<bytes.count, using: &generator)
                switch Int.random(in: 0..<4, using: &generator) {
                case 0: bytes[index] ^= UInt8.random(in: 1...255, using: &generator)
                case 1: bytes[index] = [0x00, 0xFF, 0x7F, 0x80][Int.random(in: 0..<4, using: &generator)]
                case 2:
                    bytes.removeSubrange(index..<min(bytes.count, index + Int.random(in: 1...16, using: &generator)))
                default: bytes.insert(UInt8.random(in: 0...255, using: &generator), at: index)
                }
                if bytes.isEmpty { bytes = [0] }
            }
            // Either outcome is fine; what is checked is that decoding returns.
            if let log = try? TCGEventLog(decoding: bytes) {
                #expect(log.events.allSatisfy { $0.digest.count == 48 })
                _ = log.replay()
            }
            _ = try? TCGEventLog.decodeRecords(bytes)
            _ = try? CCELTable(decoding: Array(bytes.prefix(56)))
            _ = try? TaggedEvent(decoding: Array(bytes.prefix(Int.random(in: 0...bytes.count, using: &generator))))
        }
    }

    @Test func taggedEventSizes() throws {
        #expect(throws: EventLogError.self) { try TaggedEvent(decoding: [1, 2, 3]) }
        #expect(throws: EventLogError.self) { try TaggedEvent(decoding: [0, 0, 0, 0, 0xFF, 0xFF, 0xFF, 0xFF]) }
        #expect(throws: EventLogError.self) { try TaggedEvent(decoding: [0, 0, 0, 0, 1, 0, 0, 0, 9, 9]) }
        #expect(try TaggedEvent(decoding: [1, 0, 0, 0, 0, 0, 0, 0]) == TaggedEvent(id: 1, data: []))
    }

    @Test func runtimeRecordsFromForeignEvents() throws {
        let digest = [UInt8](repeating: 3, count: 48)
        let notTagged = try TCGEvent(mrIndex: 1, type: .ipl, digest: digest, data: [1])
        let foreignTag = try TCGEvent(
            mrIndex: 1, type: .eventTag, digest: digest, data: TaggedEvent(id: 5, data: []).encoded())
        let notRTMR = try TCGEvent(
            mrIndex: 0, type: .eventTag, digest: digest,
            data: TaggedEvent(id: TaggedEvent.tsmfsExtendID, data: []).encoded())
        for event in [notTagged, foreignTag, notRTMR] {
            #expect(throws: EventLogError.self) { try RuntimeRecord(decoding: event) }
        }
    }

    @Test func constructorsCheckTheirInputs() {
        #expect(throws: EventLogError.self) { try TCGEvent(mrIndex: 1, type: .ipl, digest: [1], data: []) }
        #expect(throws: EventLogError.self) { try TCGEvent.measurement(rtmr: 4, type: .ipl, data: []) }
        #expect(throws: EventLogError.self) { try TCGEvent.measurement(rtmr: -1, type: .ipl, data: []) }
        #expect(throws: EventLogError.self) { try RuntimeRecord(rtmr: 0, data: [UInt8](repeating: 0, count: 32)) }
        #expect(throws: EventLogError.self) { try RuntimeRecord(rtmr: 4, data: [UInt8](repeating: 0, count: 48)) }
    }
}
