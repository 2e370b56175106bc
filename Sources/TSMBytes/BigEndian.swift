extension FixedWidthInteger {
    /// The value's `bitWidth / 8` bytes, most significant first (the TPM's byte order, TPM 2.0
    /// Library Part 1 §18.2).
    public var bigEndianBytes: [UInt8] { littleEndianBytes.reversed() }

    /// The value whose big-endian bytes are the first `bitWidth / 8` of `bytes` (a short input
    /// reads as if zero-padded on the right: read through ``ByteReader`` where that is an error).
    public init(bigEndianBytes bytes: some Sequence<UInt8>) {
        var padded = Array(bytes.prefix(Self.bitWidth / 8))
        padded += [UInt8](repeating: 0, count: Self.bitWidth / 8 - padded.count)
        self.init(littleEndianBytes: padded.reversed())
    }
}

extension ByteReader {
    /// The next 2 bytes as a big-endian u16.
    public mutating func be16(_ field: String) throws(Failure) -> UInt16 {
        UInt16(bigEndianBytes: try read(2, field))
    }

    /// The next 4 bytes as a big-endian u32.
    public mutating func be32(_ field: String) throws(Failure) -> UInt32 {
        UInt32(bigEndianBytes: try read(4, field))
    }

    /// The next 8 bytes as a big-endian u64.
    public mutating func be64(_ field: String) throws(Failure) -> UInt64 {
        UInt64(bigEndianBytes: try read(8, field))
    }

    /// A TPM2B: a big-endian u16 size, then that many bytes.
    public mutating func sized16(_ field: String) throws(Failure) -> [UInt8] {
        let size = try be16("\(field) size")
        return try read(Int(size), field)
    }
}

extension ByteWriter {
    /// Appends 2 bytes, most significant first.
    public mutating func be16(_ value: UInt16) { append(value.bigEndianBytes) }
    /// Appends 4 bytes, most significant first.
    public mutating func be32(_ value: UInt32) { append(value.bigEndianBytes) }
    /// Appends 8 bytes, most significant first.
    public mutating func be64(_ value: UInt64) { append(value.bigEndianBytes) }
    /// Appends a TPM2B: the size as a big-endian u16, then `data` (at most 65,535 bytes: the
    /// callers' structures are bounded far below that).
    public mutating func sized16(_ data: [UInt8]) {
        be16(UInt16(clamping: data.count))
        append(Array(data.prefix(Int(UInt16.max))))
    }
}
