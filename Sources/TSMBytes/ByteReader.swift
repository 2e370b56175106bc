/// Where a read ran out of bytes: the structure, the field, and how many bytes it needed.
public struct Truncation: Sendable, Equatable {
    /// The structure being read, e.g. "TD Quote header".
    public var structure: String
    /// The field that did not fit.
    public var field: String
    /// Where the field starts, from the start of the reader's bytes.
    public var offset: Int
    /// How many bytes the field needs.
    public var needed: Int
    /// How many bytes were left.
    public var available: Int

    /// A truncation record.
    public init(structure: String, field: String, offset: Int, needed: Int, available: Int) {
        self.structure = structure
        self.field = field
        self.offset = offset
        self.needed = needed
        self.available = available
    }
}

/// An error type a ``ByteReader`` can throw: each parsing module says how a truncation reads in
/// its own errors.
public protocol TruncationReporting: Error {
    /// The module's error for `truncation`.
    static func truncated(_ truncation: Truncation) -> Self
}

/// A bounds-checked little-endian cursor over hostile bytes: every read returns exactly what was
/// asked or throws the module's truncation error naming the structure and field.
public struct ByteReader<Failure: TruncationReporting> {
    /// All the bytes, read or not.
    public let bytes: [UInt8]
    /// The structure name truncation errors carry.
    public let structure: String
    /// The index of the next byte to read.
    public private(set) var offset: Int

    /// A reader of `bytes` starting at `offset`, naming `structure` in its errors.
    public init(_ bytes: [UInt8], structure: String, offset: Int = 0) {
        self.bytes = bytes
        self.structure = structure
        self.offset = offset
    }

    /// Bytes not yet read.
    public var remaining: Int { bytes.count - offset }
    /// Whether every byte has been read.
    public var isAtEnd: Bool { offset >= bytes.count }

    /// The next `count` bytes; a negative count or one past the end throws without moving.
    public mutating func read(_ count: Int, _ field: String) throws(Failure) -> [UInt8] {
        // `count` may come from a length field: compare with what remains, never add to offset first.
        guard count >= 0, count <= remaining else {
            throw .truncated(
                Truncation(structure: structure, field: field, offset: offset, needed: count, available: remaining))
        }
        let slice = Array(bytes[offset..<offset + count])
        offset += count
        return slice
    }

    /// The next byte.
    public mutating func u8(_ field: String) throws(Failure) -> UInt8 {
        try read(1, field)[0]
    }

    /// The next 2 bytes as a little-endian u16.
    public mutating func u16(_ field: String) throws(Failure) -> UInt16 {
        UInt16(littleEndianBytes: try read(2, field))
    }

    /// The next 4 bytes as a little-endian u32.
    public mutating func u32(_ field: String) throws(Failure) -> UInt32 {
        UInt32(littleEndianBytes: try read(4, field))
    }

    /// The next 8 bytes as a little-endian u64.
    public mutating func u64(_ field: String) throws(Failure) -> UInt64 {
        UInt64(littleEndianBytes: try read(8, field))
    }

    /// The next 4 bytes as a u32 without consuming them; nil when fewer remain.
    public func peekU32() -> UInt32? {
        guard remaining >= 4 else { return nil }
        return UInt32(littleEndianBytes: bytes[offset..<offset + 4])
    }
}
