extension FixedWidthInteger {
    /// The value's `bitWidth / 8` bytes, most significant first (the TPM 2.0 wire order).
    public var bigEndianBytes: [UInt8] {
        (0..<(Self.bitWidth / 8)).reversed().map { UInt8(truncatingIfNeeded: self >> ($0 * 8)) }
    }
}

extension ByteReader {
    /// The next 2 bytes as a big-endian u16.
    public mutating func u16BigEndian(_ field: String) throws(Failure) -> UInt16 {
        try read(2, field).reduce(0) { $0 << 8 | UInt16($1) }
    }

    /// The next 4 bytes as a big-endian u32.
    public mutating func u32BigEndian(_ field: String) throws(Failure) -> UInt32 {
        try read(4, field).reduce(0) { $0 << 8 | UInt32($1) }
    }

    /// The next 8 bytes as a big-endian u64.
    public mutating func u64BigEndian(_ field: String) throws(Failure) -> UInt64 {
        try read(8, field).reduce(0) { $0 << 8 | UInt64($1) }
    }
}

extension ByteWriter {
    /// Appends a big-endian u16.
    public mutating func u16BigEndian(_ value: UInt16) { append(value.bigEndianBytes) }

    /// Appends a big-endian u32.
    public mutating func u32BigEndian(_ value: UInt32) { append(value.bigEndianBytes) }

    /// Appends a big-endian u64.
    public mutating func u64BigEndian(_ value: UInt64) { append(value.bigEndianBytes) }
}
