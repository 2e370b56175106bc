import Crypto
import TSMBytes
@testable import TSMEventLog

/// SHA-384 through swift-crypto directly, not through TSMModel's HashAlgorithm.
func sha384(_ parts: [UInt8]...) -> [UInt8] {
    var hasher = SHA384()
    for part in parts { hasher.update(data: part) }
    return Array(hasher.finalize())
}

func hexBytes(_ text: String) -> [UInt8] {
    Hex.decode(text) ?? []
}

func u32(_ bytes: [UInt8], at offset: Int) -> UInt32 {
    bytes[offset..<offset + 4].reversed().reduce(0) { $0 << 8 | UInt32($1) }
}

func u16(_ bytes: [UInt8], at offset: Int) -> UInt16 {
    UInt16(bytes[offset]) | UInt16(bytes[offset + 1]) << 8
}

func u64(_ bytes: [UInt8], at offset: Int) -> UInt64 {
    bytes[offset..<offset + 8].reversed().reduce(0) { $0 << 8 | UInt64($1) }
}

enum Samples {
    /// A log with one record of every shape: measured into each RTMR, a no-action record, empty
    /// and non-empty event data.
    static func log() throws -> TCGEventLog {
        TCGEventLog(events: [
            try .measurement(rtmr: 0, type: .efiAction, data: Array("zero".utf8)),
            try .noAction(data: Array("note".utf8)),
            try .measurement(rtmr: 1, type: .separator, data: [0, 0, 0, 0]),
            try .measurement(rtmr: 2, type: .ipl, data: []),
            try .measurement(
                rtmr: 3, type: TCGEventType(rawValue: 0x1234_5678), data: [UInt8](repeating: 0xAB, count: 300)),
            try TCGEvent(mrIndex: 1, type: .eventTag, digest: [UInt8](repeating: 7, count: 48), data: [1]),
        ])
    }
}
