import TSMBytes
@testable import TSMCrypto
import TestSupport
import Testing

/// The CBOR subset against RFC 8949 Appendix A's examples and the CCA bytes the research notes
/// checked by hand, then a bounded decoder that refuses what it does not accept, and fuzzing.
@Suite struct CBORTests {
    static let vectors: [(CBOR, String)] = [
        (.unsigned(0), "00"), (.unsigned(23), "17"), (.unsigned(24), "1818"), (.unsigned(100), "1864"),
        (.unsigned(1000), "1903e8"), (.unsigned(1_000_000), "1a000f4240"),
        (.unsigned(1_000_000_000_000), "1b000000e8d4a51000"),
        (.unsigned(UInt64.max), "1bffffffffffffffff"), (.int(-1), "20"), (.int(-10), "29"), (.int(-100), "3863"),
        (.int(-1000), "3903e7"), (.bytes([]), "40"), (.bytes([1, 2, 3, 4]), "4401020304"), (.text(""), "60"),
        (.text("IETF"), "6449455446"), (.text("\u{00fc}"), "62c3bc"), (.array([]), "80"),
        (
            .array([.unsigned(1), .array([.unsigned(2), .unsigned(3)]), .array([.unsigned(4), .unsigned(5)])]),
            "8301820203820405"
        ),
        (.intMap([(1, .unsigned(2)), (3, .unsigned(4))]), "a201020304"),
        (.tagged(1, .unsigned(1_363_896_240)), "c11a514b67b0"),
        (.simple(20), "f4"), (.simple(21), "f5"), (.simple(22), "f6"),
        // CCA: tag 399, claim 44234, ES384, the protected header, a 96-byte signature's head.
        (.tagged(399, .map([])), "d9018fa0"), (.unsigned(44234), "19acca"), (.int(-35), "3822"),
        (.intMap([(1, .int(-35))]), "a1013822"), (.tagged(18, .array([])), "d280"),
    ]

    @Test func encodesAndDecodesTheVectors() throws {
        for (item, hex) in Self.vectors {
            #expect(Hex.encode(item.encoded()) == hex, "\(item)")
            #expect(try CBORDecoder.decode(Hex.decode(hex) ?? []) == item, "\(hex)")
        }
        let text = String(repeating: "a", count: 300)
        #expect(Hex.encode(CBOR.text(text).encoded()).hasPrefix("79012c"))
        #expect(Hex.encode(CBOR.bytes([UInt8](repeating: 7, count: 96)).encoded()).hasPrefix("5860"))
    }

    @Test func refusesWhatItDoesNotAccept() {
        let refused: [(String, String)] = [
            ("5f4101ff", "indefinite length"), ("f93c00", "float"), ("1c", "reserved additional information"),
            ("0000", "bytes follow"), ("44010203", "truncated"), ("1a0001", "truncated"), ("62c328", "invalid UTF-8"),
            ("5bffffffffffffffff", "declared length"), ("9bffffffffffffffff", "declared length"), ("", "truncated"),
            ("ff", "break code"), ("a201000100", "a key twice"), ("1f", "reserved additional information"),
            ("f7", "simple value"), ("f820", "simple value"),
            (String(repeating: "81", count: 17) + "00", "nested deeper"),
        ]
        for (hex, reason) in refused {
            #expect(throws: CryptoError.self, "\(hex): \(reason)") { try CBORDecoder.decode(Hex.decode(hex) ?? []) }
        }
        let many = [UInt8]([0x99, 0x13, 0x88]) + [UInt8](repeating: 0, count: 5000)
        #expect(throws: CryptoError.malformed(structure: "CBOR", reason: "more than 4096 data items")) {
            try CBORDecoder.decode(many)
        }
        #expect(throws: Never.self) {
            try CBORDecoder.decode(Hex.decode(String(repeating: "81", count: 16) + "00") ?? [])
        }
    }

    /// Random trees survive encode -> decode; random bytes never crash the decoder,
    /// and whatever it accepts re-encodes to a document that decodes to the same item.
    @Test func fuzz() throws {
        var random = SeededGenerator(seed: 15)
        for _ in 0..<2000 {
            let item = randomItem(&random, depth: 0)
            #expect(try CBORDecoder.decode(item.encoded()) == item)
        }
        for _ in 0..<1500 {
            let bytes = (0..<Int(random.next() % 64)).map { _ in UInt8(truncatingIfNeeded: random.next()) }
            if let item = try? CBORDecoder.decode(bytes) {
                #expect(try CBORDecoder.decode(item.encoded()) == item)
            }
        }
    }

    func randomItem(_ random: inout SeededGenerator, depth: Int) -> CBOR {
        switch random.next() % (depth < 4 ? 8 : 5) {
        case 0: return .unsigned(random.next() >> (random.next() % 64))
        case 1: return .negative(random.next() >> (random.next() % 64))
        case 2: return .bytes((0..<Int(random.next() % 40)).map { _ in UInt8(truncatingIfNeeded: random.next()) })
        case 3: return .text(String(repeating: "é", count: Int(random.next() % 30)))
        case 4: return .simple(20 + UInt8(random.next() % 3))
        case 5: return .array((0..<Int(random.next() % 5)).map { _ in randomItem(&random, depth: depth + 1) })
        case 6:
            // Keys unique: a map with a key twice is not valid CBOR (RFC 8949 §5.6) and is refused.
            var keys = Set<CBOR>()
            return .map(
                (0..<Int(random.next() % 4)).compactMap { _ in
                    let pair = CBOR.Pair(randomItem(&random, depth: depth + 1), randomItem(&random, depth: depth + 1))
                    return keys.insert(pair.key).inserted ? pair : nil
                })
        default: return .tagged(random.next() % 1000, randomItem(&random, depth: depth + 1))
        }
    }
}
