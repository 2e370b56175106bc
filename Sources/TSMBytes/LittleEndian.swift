extension FixedWidthInteger {
    /// The value's `bitWidth / 8` bytes, least significant first.
    public var littleEndianBytes: [UInt8] {
        (0..<(Self.bitWidth / 8)).map { UInt8(truncatingIfNeeded: self >> ($0 * 8)) }
    }

    /// The value whose little-endian bytes start `bytes`: the first `bitWidth / 8` bytes count,
    /// later ones are ignored and missing high bytes are zero (so `[0x01]` reads as 1 in any width).
    /// Where a short input is an error, read through ``ByteReader`` instead.
    public init(littleEndianBytes bytes: some Sequence<UInt8>) {
        var value: Self = 0
        for (index, byte) in bytes.prefix(Self.bitWidth / 8).enumerated() {
            value |= Self(truncatingIfNeeded: byte) << (index * 8)
        }
        self = value
    }
}

/// The little-endian writer counterpart of ``ByteReader``.
public struct ByteWriter {
    /// What has been written so far.
    public private(set) var bytes: [UInt8] = []

    /// An empty writer.
    public init() {}

    /// Appends `data` as it is.
    public mutating func append(_ data: [UInt8]) { bytes += data }
    /// Appends one byte.
    public mutating func u8(_ value: UInt8) { bytes.append(value) }
    /// Appends 2 bytes, least significant first.
    public mutating func u16(_ value: UInt16) { append(value.littleEndianBytes) }
    /// Appends 4 bytes, least significant first.
    public mutating func u32(_ value: UInt32) { append(value.littleEndianBytes) }
    /// Appends 8 bytes, least significant first.
    public mutating func u64(_ value: UInt64) { append(value.littleEndianBytes) }
    /// Appends `count` zero bytes.
    public mutating func zeros(_ count: Int) { bytes += [UInt8](repeating: 0, count: count) }
}
