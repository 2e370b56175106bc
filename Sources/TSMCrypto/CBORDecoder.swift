/// A bounded CBOR decoder for evidence: definite lengths only, at most ``maxDepth`` levels of
/// nesting, ``maxItems`` items in all, shortest-form heads not required (RFC 8949 §4.2 is a
/// producer rule). Anything else — indefinite lengths, a break code outside them, floats,
/// reserved additional information, invalid UTF-8, a length past the end, a map with a key twice
/// (not valid CBOR, RFC 8949 §5.6), trailing bytes — is refused with the offset.
public struct CBORDecoder {
    /// Arrays, maps and tags nested deeper than this are refused.
    public static let maxDepth = 16
    /// A document with more data items than this is refused (a CCA token has about 150).
    public static let maxItems = 4096

    let bytes: [UInt8]
    let structure: String
    var offset = 0
    var items = 0

    /// Decodes `bytes` as exactly one data item; `structure` names it in errors.
    public static func decode(_ bytes: [UInt8], structure: String = "CBOR") throws(CryptoError) -> CBOR {
        var decoder = CBORDecoder(bytes: bytes, structure: structure)
        let item = try decoder.item(depth: 0)
        guard decoder.offset == bytes.count else {
            throw .malformed(
                structure: structure,
                reason: "\(bytes.count - decoder.offset) bytes follow the data item at offset \(decoder.offset)")
        }
        return item
    }

    mutating func item(depth: Int) throws(CryptoError) -> CBOR {
        guard depth <= Self.maxDepth else { throw fail("nested deeper than \(Self.maxDepth) levels") }
        items += 1
        guard items <= Self.maxItems else { throw fail("more than \(Self.maxItems) data items") }
        let start = offset
        let initial = try take(1, "head")[0]
        let major = initial >> 5
        let info = initial & 0x1F
        let argument: UInt64
        switch info {
        case 0..<24: argument = UInt64(info)
        case 24, 25, 26, 27:
            argument = try take(1 << Int(info - 24), "head argument").reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        case 31 where (2...5).contains(major):
            throw fail("indefinite length at offset \(start) (only definite lengths are accepted)")
        case 31 where major == 7:
            throw fail("a break code (0xff) at offset \(start) with no indefinite-length item open")
        default: throw fail("reserved additional information \(info) at offset \(start)")
        }
        switch major {
        case 0: return .unsigned(argument)
        case 1: return .negative(argument)
        case 2: return .bytes(try take(try length(argument, "byte string", at: start), "byte string"))
        case 3:
            let utf8 = try take(try length(argument, "text string", at: start), "text string")
            guard let text = String(validating: utf8, as: UTF8.self) else {
                throw fail("invalid UTF-8 in the text string at offset \(start)")
            }
            return .text(text)
        case 4:
            let count = try length(argument, "array", at: start)
            var array: [CBOR] = []
            for _ in 0..<count { array.append(try item(depth: depth + 1)) }
            return .array(array)
        case 5:
            let count = try length(argument, "map", at: start)
            var pairs: [CBOR.Pair] = []
            var keys = Set<CBOR>()
            for _ in 0..<count {
                let keyOffset = offset
                let key = try item(depth: depth + 1)
                guard keys.insert(key).inserted else {
                    throw fail("the map at offset \(start) has the key at offset \(keyOffset) twice")
                }
                pairs.append(CBOR.Pair(key, try item(depth: depth + 1)))
            }
            return .map(pairs)
        case 6: return .tagged(argument, try item(depth: depth + 1))
        default:
            guard info < 24, (20...22).contains(argument) else {
                throw fail("unsupported simple value or float at offset \(start)")
            }
            return .simple(UInt8(argument))
        }
    }

    /// A length that cannot exceed what remains (each item needs at least one byte); `what`,
    /// which starts at `start`, names it when it does.
    func length(_ argument: UInt64, _ what: String, at start: Int) throws(CryptoError) -> Int {
        let remaining = bytes.count - offset
        guard argument <= UInt64(remaining) else {
            guard argument <= UInt64(Int.max) else {
                throw fail(
                    "the \(what) at offset \(start) declares a length of \(argument), but \(remaining) bytes remain")
            }
            throw CryptoError.truncated(
                structure: structure, field: "CBOR item", offset: offset, needed: Int(argument), available: remaining)
        }
        return Int(argument)
    }

    mutating func take(_ count: Int, _ field: String) throws(CryptoError) -> [UInt8] {
        guard count <= bytes.count - offset else {
            throw CryptoError.truncated(
                structure: structure, field: field, offset: offset, needed: count, available: bytes.count - offset)
        }
        defer { offset += count }
        return Array(bytes[offset..<offset + count])
    }

    func fail(_ reason: String) -> CryptoError {
        .malformed(structure: structure, reason: reason)
    }
}
