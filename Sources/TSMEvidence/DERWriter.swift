import SwiftASN1

/// Hand-assembled DER for the AMD-shaped certificates: swift-certificates 1.21 neither signs nor
/// parses RSASSA-PSS certificates, so their TBSCertificate is written byte by byte here.
enum DERWriter {
    /// A TLV of `tag` around `content`, with a definite DER length.
    static func tlv(_ tag: UInt8, _ content: [UInt8]) -> [UInt8] {
        var length: [UInt8]
        if content.count < 0x80 {
            length = [UInt8(content.count)]
        } else {
            var count = content.count
            length = []
            while count > 0 {
                length.insert(UInt8(truncatingIfNeeded: count), at: 0)
                count >>= 8
            }
            length.insert(0x80 | UInt8(length.count), at: 0)
        }
        return [tag] + length + content
    }

    static func sequence(_ parts: [UInt8]...) -> [UInt8] { tlv(0x30, parts.flatMap { $0 }) }
    static func set(_ content: [UInt8]) -> [UInt8] { tlv(0x31, content) }
    static func octetString(_ content: [UInt8]) -> [UInt8] { tlv(0x04, content) }
    static func bitString(_ content: [UInt8]) -> [UInt8] { tlv(0x03, [0] + content) }
    static func utf8String(_ text: String) -> [UInt8] { tlv(0x0c, Array(text.utf8)) }
    static func printableString(_ text: String) -> [UInt8] { tlv(0x13, Array(text.utf8)) }
    static func ia5String(_ text: String) -> [UInt8] { tlv(0x16, Array(text.utf8)) }
    static func explicit(_ number: UInt8, _ content: [UInt8]) -> [UInt8] { tlv(0xa0 | number, content) }

    /// A non-negative INTEGER of big-endian `bytes`: leading zeros dropped, one 0x00 added when
    /// the top bit is set (AMD's microcode SPL 213 is `02 02 00 d5`).
    static func integer(bytes: [UInt8]) -> [UInt8] {
        var content = Array(bytes.drop { $0 == 0 })
        if content.isEmpty { content = [0] }
        if content[0] & 0x80 != 0 { content.insert(0, at: 0) }
        return tlv(0x02, content)
    }

    static func integer(_ value: UInt64) -> [UInt8] {
        integer(bytes: (0..<8).reversed().map { UInt8(truncatingIfNeeded: value >> (8 * $0)) })
    }

    /// An OBJECT IDENTIFIER's TLV, encoded by swift-asn1.
    static func oid(_ oid: ASN1ObjectIdentifier) -> [UInt8] {
        var serializer = DER.Serializer()
        // Serialising an already-valid identifier cannot fail; an empty result would show in tests.
        try? serializer.serialize(oid)
        return serializer.serializedBytes
    }

    /// An Extension: SEQUENCE { extnID, critical TRUE only when set, extnValue OCTET STRING }.
    static func `extension`(_ id: ASN1ObjectIdentifier, critical: Bool = false, value: [UInt8]) -> [UInt8] {
        sequence(oid(id), critical ? [0x01, 0x01, 0xff] : [], octetString(value))
    }

    /// UTCTime "YYMMDDhhmmssZ" of a date between 1950 and 2049.
    static func utcTime(year: Int, month: Int, day: Int, hour: Int = 0, minute: Int = 0, second: Int = 0) -> [UInt8] {
        let fields = [year % 100, month, day, hour, minute, second]
        let text = fields.map { $0 < 10 ? "0\($0)" : "\($0)" }.joined() + "Z"
        return tlv(0x17, Array(text.utf8))
    }
}
