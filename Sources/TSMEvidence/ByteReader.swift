/// A bounds-checked little-endian cursor over hostile bytes: every read either returns exactly
/// what was asked or throws `EvidenceError.truncated` naming the structure and field.
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

    mutating func read(_ count: Int, _ field: String) throws(EvidenceError) -> [UInt8] {
        // `count` may come from a length field: compare against what remains, never add to offset first.
        guard count >= 0, count <= remaining else {
            throw .truncated(structure: structure, field: field, offset: offset, needed: count, available: remaining)
        }
        let slice = Array(bytes[offset..<offset + count])
        offset += count
        return slice
    }

    mutating func u16(_ field: String) throws(EvidenceError) -> UInt16 {
        UInt16(truncatingIfNeeded: try littleEndian(2, field))
    }

    mutating func u32(_ field: String) throws(EvidenceError) -> UInt32 {
        UInt32(truncatingIfNeeded: try littleEndian(4, field))
    }

    mutating func u64(_ field: String) throws(EvidenceError) -> UInt64 {
        try littleEndian(8, field)
    }

    private mutating func littleEndian(_ count: Int, _ field: String) throws(EvidenceError) -> UInt64 {
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

/// Checks an encoder input's size, naming the field when it is wrong.
func requireSize(_ bytes: [UInt8], _ size: Int, _ field: String) throws(EvidenceError) {
    guard bytes.count == size else {
        throw .invalidInput(field: field, reason: "\(bytes.count) bytes, expected \(size)")
    }
}
