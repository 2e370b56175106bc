import Testing
import TSMBytes

/// A module error for the reader, as TSMEvidence and TSMEventLog define theirs.
struct Truncated: TruncationReporting, Equatable {
    let truncation: Truncation
    static func truncated(_ truncation: Truncation) -> Truncated { Truncated(truncation: truncation) }
}

@Suite("Little-endian reader and writer")
struct LittleEndianTests {
    @Test("littleEndianBytes: least significant first, full width")
    func integerBytes() {
        #expect(UInt16(0x0102).littleEndianBytes == [0x02, 0x01])
        #expect(UInt32(0x0102_0304).littleEndianBytes == [0x04, 0x03, 0x02, 0x01])
        #expect(UInt64.max.littleEndianBytes == [UInt8](repeating: 0xff, count: 8))
        #expect(UInt64(1).littleEndianBytes == [1, 0, 0, 0, 0, 0, 0, 0])
        #expect(Int32(-2).littleEndianBytes == [0xfe, 0xff, 0xff, 0xff])
    }

    @Test("init(littleEndianBytes:): the first width's bytes, short input zero-extended")
    func integerFromBytes() {
        #expect(UInt32(littleEndianBytes: [0x04, 0x03, 0x02, 0x01]) == 0x0102_0304)
        #expect(UInt64(littleEndianBytes: [UInt8](repeating: 0xff, count: 8)) == .max)
        #expect(UInt64(littleEndianBytes: [0x01]) == 1)
        #expect(UInt16(littleEndianBytes: [0x01, 0x02, 0x03]) == 0x0201)
        #expect(UInt64(littleEndianBytes: []) == 0)
        #expect(UInt64(littleEndianBytes: UInt64(0x8000_0000_0000_0001).littleEndianBytes) == 0x8000_0000_0000_0001)
    }

    @Test("writer then reader round-trips every width at its bounds")
    func roundTrip() throws {
        var writer = ByteWriter()
        writer.u8(0xff); writer.u16(.max); writer.u32(.max); writer.u64(.max)
        writer.u16(0); writer.u32(0x8000_0000); writer.u64(1)
        writer.zeros(3); writer.append([0xaa])
        #expect(writer.bytes.count == 1 + 2 + 4 + 8 + 2 + 4 + 8 + 3 + 1)
        var reader = ByteReader<Truncated>(writer.bytes, structure: "test")
        #expect(try reader.u8("a") == 0xff)
        #expect(try reader.u16("b") == .max)
        #expect(try reader.u32("c") == .max)
        #expect(try reader.u64("d") == .max)
        #expect(try reader.u16("e") == 0)
        #expect(reader.peekU32() == 0x8000_0000)
        #expect(try reader.u32("f") == 0x8000_0000)
        #expect(try reader.u64("g") == 1)
        #expect(try reader.read(3, "h") == [0, 0, 0])
        #expect(reader.remaining == 1)
        #expect(reader.peekU32() == nil)
        #expect(try reader.u8("i") == 0xaa)
        #expect(reader.isAtEnd)
        #expect(try reader.read(0, "empty") == [])
    }

    @Test("a read past the end throws the module's error naming the field, and does not move")
    func pastTheEnd() throws {
        var reader = ByteReader<Truncated>([1, 2, 3], structure: "header", offset: 1)
        let expected = Truncation(structure: "header", field: "version", offset: 1, needed: 4, available: 2)
        #expect(throws: Truncated(truncation: expected)) { try reader.u32("version") }
        #expect(reader.offset == 1)
        #expect(throws: Truncated.self) { try reader.u64("x") }
        #expect(throws: Truncated.self) { try reader.read(-1, "negative") }
        #expect(throws: Truncated.self) { try reader.read(Int.max, "huge length field") }
        #expect(try reader.u16("fits") == 0x0302)
        #expect(throws: Truncated.self) { try reader.u8("after the end") }
    }
}
