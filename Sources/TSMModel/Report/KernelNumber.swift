import SystemPackage

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
           let x = bytes.dropFirst().first, x | 0x20 == UInt8(ascii: "x") {
            radix = 16
            bytes = bytes.dropFirst(2)
        } else if bytes.count >= 2, bytes.first == UInt8(ascii: "0") {
            radix = 8
            bytes = bytes.dropFirst()
        }
        guard !bytes.isEmpty else { throw .invalidArgument }
        var value: UInt64 = 0
        for byte in bytes {
            let digit: UInt64
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = UInt64(byte - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = UInt64(byte - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = UInt64(byte - UInt8(ascii: "A") + 10)
            default: throw .invalidArgument
            }
            guard digit < radix else { throw .invalidArgument }
            value = value * radix + digit
            guard value <= UInt64(UInt32.max) else { throw .outOfRange }
        }
        return UInt32(value)
    }

    /// `uuid_parse`: 36 characters, hyphens at 8, 13, 18 and 23, hex elsewhere; what follows the
    /// 36 characters (a newline) is ignored. Bytes in the string's order.
    public static func parseUUID(_ text: [UInt8]) -> [UInt8]? {
        guard text.count >= 36 else { return nil }
        var bytes: [UInt8] = []
        var index = 0
        while index < 36 {
            if [8, 13, 18, 23].contains(index) {
                guard text[index] == UInt8(ascii: "-") else { return nil }
                index += 1
                continue
            }
            guard let high = Hex.nibble(text[index]), let low = Hex.nibble(text[index + 1]) else { return nil }
            bytes.append(high << 4 | low)
            index += 2
        }
        return bytes
    }
}
