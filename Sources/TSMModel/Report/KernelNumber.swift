import SystemPackage
import TSMBytes

/// The kernel's text parsers as configfs stores use them.
public enum KernelNumber {
    /// `kstrtouint(buf, 0, &val)`: optional '+', base from the prefix ("0x" hex, "0" octal, else
    /// decimal), one trailing newline allowed, nothing else. EINVAL when malformed, ERANGE when it
    /// does not fit in 32 bits.
    public static func parseUInt32(_ text: [UInt8]) throws(Errno) -> UInt32 {
        var bytes = text[...]
        if bytes.last == UInt8(ascii: "\n") { bytes = bytes.dropLast() }
        if bytes.first == UInt8(ascii: "+") { bytes = bytes.dropFirst() }
        var radix: UInt64 = 10
        if bytes.count >= 2, bytes.first == UInt8(ascii: "0"),
            let x = bytes.dropFirst().first, x | 0x20 == UInt8(ascii: "x")
        {
            radix = 16
            bytes = bytes.dropFirst(2)
        } else if bytes.count >= 2, bytes.first == UInt8(ascii: "0") {
            radix = 8
            bytes = bytes.dropFirst()
        }
        guard !bytes.isEmpty else { throw .invalidArgument }
        var value: UInt64 = 0
        for byte in bytes {
            guard let nibble = Hex.nibble(byte) else { throw .invalidArgument }
            let digit = UInt64(nibble)
            guard digit < radix else { throw .invalidArgument }
            value = value * radix + digit
            guard value <= UInt64(UInt32.max) else { throw .outOfRange }
        }
        return UInt32(value)
    }

    /// `uuid_parse`: 36 characters, hyphens at 8, 13, 18 and 23, hex elsewhere; what follows the
    /// 36 characters (a newline) is ignored. Bytes in the string's order.
    public static func parseUUID(_ text: [UInt8]) -> [UInt8]? {
        UUIDText.parse(leading: text)
    }
}
