/// A bounds-checked little-endian cursor over hostile bytes: every read returns exactly what was
/// asked or throws ``EventLogError/truncated(structure:field:offset:needed:available:)``.
struct ByteReader {
    let bytes: [UInt8]
    let structure: String
    private(set) var offset: Int

    init(_ bytes: [UInt8], structure: String, offset: Int = 0) {
        self.bytes = bytes
        self.structure = structure
        self.offset = offset
    }

    var remaining: Int { bytes.count - offset }
    var isAtEnd: Bool { offset >= bytes.count }

    mutating func read(_ count: Int, _ field: String) throws(EventLogError) -> [UInt8] {
        // `count` may come from a length field: compare against what remains, never add to offset first.
        guard count >= 0, count <= remaining else {
            throw .truncated(structure: structure, field: field, offset: offset, needed: count, available: remaining)
        }
        let slice = Array(bytes[offset..<offset + count])
        offset += count
        return slice
    }

    mutating func u8(_ field: String) throws(EventLogError) -> UInt8 {
        try read(1, field)[0]
    }

    mutating func u16(_ field: String) throws(EventLogError) -> UInt16 {
        UInt16(truncatingIfNeeded: try littleEndian(2, field))
    }

    mutating func u32(_ field: String) throws(EventLogError) -> UInt32 {
        UInt32(truncatingIfNeeded: try littleEndian(4, field))
    }

    mutating func u64(_ field: String) throws(EventLogError) -> UInt64 {
        try littleEndian(8, field)
    }

    /// The next 4 bytes as a u32 without consuming them; nil when fewer remain.
    func peekU32() -> UInt32? {
        guard remaining >= 4 else { return nil }
        return bytes[offset..<offset + 4].reversed().reduce(0) { $0 << 8 | UInt32($1) }
    }

    private mutating func littleEndian(_ count: Int, _ field: String) throws(EventLogError) -> UInt64 {
        try read(count, field).reversed().reduce(0) { $0 << 8 | UInt64($1) }
    }
}

/// The little-endian writer counterpart of `ByteReader`.
struct ByteWriter {
    private(set) var bytes: [UInt8] = []

    mutating func append(_ data: [UInt8]) { bytes += data }
    mutating func u8(_ value: UInt8) { bytes.append(value) }
    mutating func u16(_ value: UInt16) { append(value.littleEndianBytes) }
    mutating func u32(_ value: UInt32) { append(value.littleEndianBytes) }
    mutating func u64(_ value: UInt64) { append(value.littleEndianBytes) }
    mutating func zeros(_ count: Int) { bytes += [UInt8](repeating: 0, count: count) }
}

extension FixedWidthInteger {
    var littleEndianBytes: [UInt8] {
        (0..<(Self.bitWidth / 8)).map { UInt8(truncatingIfNeeded: self >> ($0 * 8)) }
    }
}

/// Lower-case hex, two digits a byte.
func hex(_ bytes: [UInt8]) -> String {
    let digits = Array("0123456789abcdef".utf8)
    var text: [UInt8] = []
    text.reserveCapacity(bytes.count * 2)
    for byte in bytes {
        text.append(digits[Int(byte >> 4)])
        text.append(digits[Int(byte & 0x0F)])
    }
    return String(decoding: text, as: UTF8.self)
}

/// The bytes of a hex string (either case, even length, no separators); nil for anything else.
func bytes(fromHex text: String) -> [UInt8]? {
    let characters = Array(text.utf8)
    guard characters.count % 2 == 0 else { return nil }
    func nibble(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return c - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
    var result: [UInt8] = []
    result.reserveCapacity(characters.count / 2)
    var index = 0
    while index < characters.count {
        guard let high = nibble(characters[index]), let low = nibble(characters[index + 1]) else { return nil }
        result.append(high << 4 | low)
        index += 2
    }
    return result
}
