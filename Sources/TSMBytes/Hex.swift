/// Lowercase hexadecimal, as the JSON rendering, the config file and error messages print bytes.
/// The one hex codec of tsmfs.
public enum Hex {
    private static let digits = Array("0123456789abcdef".utf8)

    /// The lowercase hex of `bytes`, two digits a byte.
    public static func encode(_ bytes: some Sequence<UInt8>) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.underestimatedCount * 2)
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// All `bitWidth / 4` lowercase hex digits of `value`, most significant first, no prefix:
    /// `digits(of: UInt64(0x1f))` is `"000000000000001f"`.
    public static func digits<Value: FixedWidthInteger & UnsignedInteger>(of value: Value) -> String {
        encode(value.littleEndianBytes.reversed())
    }

    /// The bytes of an even-length hex string (either case, no separators), or nil for anything else.
    public static func decode(_ text: String) -> [UInt8]? {
        try? parse(text)
    }

    /// The bytes of an even-length hex string (either case, no separators); the error says why not.
    public static func parse(_ text: String) throws(HexError) -> [UInt8] {
        try parse(Array(text.utf8))
    }

    /// The bytes of even-length hex text given as UTF-8 bytes; the error says why not.
    public static func parse(_ chars: [UInt8]) throws(HexError) -> [UInt8] {
        guard chars.count % 2 == 0 else { throw .oddLength(digits: chars.count) }
        var out: [UInt8] = []
        out.reserveCapacity(chars.count / 2)
        var index = 0
        while index < chars.count {
            guard let high = nibble(chars[index]) else { throw .badDigit(offset: index) }
            guard let low = nibble(chars[index + 1]) else { throw .badDigit(offset: index + 1) }
            out.append(high << 4 | low)
            index += 2
        }
        return out
    }

    /// The value of one hex digit (either case), or nil for any other byte.
    public static func nibble(_ char: UInt8) -> UInt8? {
        switch char {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return char - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return char - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return char - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
}

/// Why text is not hex.
public enum HexError: Error, Sendable, Equatable, CustomStringConvertible {
    /// An odd number of digits: the last byte would be half a byte.
    case oddLength(digits: Int)
    /// The byte at `offset` (counted in UTF-8 bytes from 0) is not a hex digit.
    case badDigit(offset: Int)

    /// "odd number of digits" or "bad digit at position N".
    public var description: String {
        switch self {
        case .oddLength: return "odd number of digits"
        case .badDigit(let offset): return "bad digit at position \(offset)"
        }
    }
}
