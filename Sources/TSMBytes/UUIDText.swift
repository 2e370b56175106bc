/// The textual UUID form, 8-4-4-4-12 hex digits (RFC 4122; the kernel's `uuid_parse`, libuuid).
/// Bytes are in the order the text prints them; ``efiOrder(_:)`` converts to the EFI `guid_t`
/// layout whose first three groups are little-endian.
public enum UUIDText {
    /// Bytes in a UUID.
    public static let byteCount = 16
    /// Characters in the textual form.
    public static let textLength = 36
    private static let hyphens: Set<Int> = [8, 13, 18, 23]

    /// Exactly 36 characters, hyphens at 8, 13, 18 and 23, hex (either case) elsewhere; nil for
    /// anything else.
    public static func parse(_ text: String) -> [UInt8]? {
        let chars = Array(text.utf8)
        guard chars.count == textLength else { return nil }
        return parse(leading: chars)
    }

    /// The kernel's `uuid_parse`: the first 36 bytes must be a UUID; what follows them (a newline
    /// from `echo`) is ignored. Nil when fewer than 36 bytes or any of them is wrong.
    public static func parse(leading text: [UInt8]) -> [UInt8]? {
        guard text.count >= textLength else { return nil }
        var digits: [UInt8] = []
        digits.reserveCapacity(32)
        for (index, char) in text.prefix(textLength).enumerated() {
            if hyphens.contains(index) {
                guard char == UInt8(ascii: "-") else { return nil }
            } else {
                digits.append(char)
            }
        }
        return try? Hex.parse(digits)
    }

    /// The lowercase textual form of 16 bytes; other counts print as plain hex.
    public static func format(_ bytes: [UInt8]) -> String {
        let hex = Array(Hex.encode(bytes).utf8)
        guard bytes.count == byteCount else { return String(decoding: hex, as: UTF8.self) }
        let groups = [hex[0..<8], hex[8..<12], hex[12..<16], hex[16..<20], hex[20..<32]]
        return groups.map { String(decoding: $0, as: UTF8.self) }.joined(separator: "-")
    }

    /// The same 16 bytes with the first three groups byte-swapped: text order to EFI `guid_t`
    /// order, and back (the swap is its own inverse). Other counts come back unchanged.
    public static func efiOrder(_ bytes: [UInt8]) -> [UInt8] {
        guard bytes.count == byteCount else { return bytes }
        return bytes[0..<4].reversed() + bytes[4..<6].reversed() + bytes[6..<8].reversed() + Array(bytes[8...])
    }
}
