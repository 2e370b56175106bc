/// Where a read ran out of bytes: the structure, the field, and how many bytes it needed.
public struct Truncation: Sendable, Equatable {
    public var structure: String
    public var field: String
    public var offset: Int
    public var needed: Int
    public var available: Int
}

/// An error type a ``ByteReader`` can throw: each parsing module says how a truncation reads in
/// its own errors.
public protocol TruncationReporting: Error {
    static func truncated(_ truncation: Truncation) -> Self
}

/// A bounds-checked little-endian cursor over hostile bytes: every read returns exactly what was
/// asked or throws the module's truncation error naming the structure and field.
public struct ByteReader<Failure: TruncationReporting> {
    public let bytes: [UInt8]
    public let structure: String
    public private(set) var offset: Int

    public init(_ bytes: [UInt8], structure: String, offset: Int = 0) {
        self.bytes = bytes
        self.structure = structure
        self.offset = offset
    }

    public var remaining: Int { bytes.count - offset }
    public var isAtEnd: Bool { offset >= bytes.count }

    public mutating func read(_ count: Int, _ field: String) throws(Failure) -> [UInt8] {
        // `count` may come from a length field: compare with what remains, never add to offset first.
        guard count >= 0, count <= remaining else {
            throw .truncated(Truncation(structure: structure, field: field, offset: offset, needed: count, available: remaining))
        }
        let slice = Array(bytes[offset..<offset + count])
        offset += count
        return slice
    }

    public mutating func u8(_ field: String) throws(Failure) -> UInt8 {
        try read(1, field)[0]
    }

    public mutating func u16(_ field: String) throws(Failure) -> UInt16 {
        UInt16(truncatingIfNeeded: try littleEndian(2, field))
    }

    public mutating func u32(_ field: String) throws(Failure) -> UInt32 {
        UInt32(truncatingIfNeeded: try littleEndian(4, field))
    }

    public mutating func u64(_ field: String) throws(Failure) -> UInt64 {
        try littleEndian(8, field)
    }

    /// The next 4 bytes as a u32 without consuming them; nil when fewer remain.
    public func peekU32() -> UInt32? {
        guard remaining >= 4 else { return nil }
        return bytes[offset..<offset + 4].reversed().reduce(0) { $0 << 8 | UInt32($1) }
    }

    private mutating func littleEndian(_ count: Int, _ field: String) throws(Failure) -> UInt64 {
        try read(count, field).reversed().reduce(0) { $0 << 8 | UInt64($1) }
    }
}

/// The little-endian writer counterpart of ``ByteReader``.
public struct ByteWriter {
    public private(set) var bytes: [UInt8] = []

    public init() {}

    public mutating func append(_ data: [UInt8]) { bytes += data }
    public mutating func u8(_ value: UInt8) { bytes.append(value) }
    public mutating func u16(_ value: UInt16) { append(value.littleEndianBytes) }
    public mutating func u32(_ value: UInt32) { append(value.littleEndianBytes) }
    public mutating func u64(_ value: UInt64) { append(value.littleEndianBytes) }
    public mutating func zeros(_ count: Int) { bytes += [UInt8](repeating: 0, count: count) }
}

extension FixedWidthInteger {
    /// The value's bytes, least significant first.
    public var littleEndianBytes: [UInt8] {
        (0..<(Self.bitWidth / 8)).map { UInt8(truncatingIfNeeded: self >> ($0 * 8)) }
    }
}
