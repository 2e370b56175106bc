/// A CBOR data item (RFC 8949), the subset CCA tokens and COSE use: integers, byte and text
/// strings, arrays, maps, tags and the simple values false, true and null. Definite lengths
/// only; no floats. Maps keep their order as written (encoding does not sort them).
public indirect enum CBOR: Sendable, Hashable {
    /// Major type 0: an unsigned integer.
    case unsigned(UInt64)
    /// Major type 1: the integer −1 − n.
    case negative(UInt64)
    /// Major type 2: a byte string.
    case bytes([UInt8])
    /// Major type 3: a UTF-8 text string.
    case text(String)
    /// Major type 4.
    case array([CBOR])
    /// Major type 5: key/value pairs in their written order.
    case map([Pair])
    /// Major type 6: a tag number and its content.
    case tagged(UInt64, CBOR)
    /// Major type 7: false (20), true (21), null (22).
    case simple(UInt8)

    /// One entry of a map.
    public struct Pair: Sendable, Hashable {
        /// The key (CCA claims use integer keys).
        public var key: CBOR
        /// The value.
        public var value: CBOR
        /// A pair of `key` and `value`.
        public init(_ key: CBOR, _ value: CBOR) {
            self.key = key
            self.value = value
        }
    }

    /// A signed integer as CBOR: major type 0 for n ≥ 0, 1 otherwise.
    public static func int(_ value: Int64) -> CBOR {
        value >= 0 ? .unsigned(UInt64(value)) : .negative(UInt64(-(value + 1)))
    }

    /// A map with integer keys, in the order given.
    public static func intMap(_ pairs: [(Int64, CBOR)]) -> CBOR {
        .map(pairs.map { Pair(.int($0.0), $0.1) })
    }

    /// The value as a signed integer, if it is one that fits in Int64.
    public var intValue: Int64? {
        switch self {
        case .unsigned(let n): return n <= UInt64(Int64.max) ? Int64(n) : nil
        case .negative(let n): return n <= UInt64(Int64.max) ? -1 - Int64(n) : nil
        default: return nil
        }
    }

    /// The value of `key` in a map (the first pair with that key), nil otherwise.
    public subscript(key: Int64) -> CBOR? {
        guard case .map(let pairs) = self else { return nil }
        return pairs.first { $0.key.intValue == key }?.value
    }

    // MARK: Encoding

    /// The item's encoding, shortest-form heads, definite lengths.
    public func encoded() -> [UInt8] {
        var out: [UInt8] = []
        encode(into: &out)
        return out
    }

    func encode(into out: inout [UInt8]) {
        switch self {
        case .unsigned(let n): Self.head(0, n, into: &out)
        case .negative(let n): Self.head(1, n, into: &out)
        case .bytes(let bytes):
            Self.head(2, UInt64(bytes.count), into: &out)
            out += bytes
        case .text(let text):
            let utf8 = Array(text.utf8)
            Self.head(3, UInt64(utf8.count), into: &out)
            out += utf8
        case .array(let items):
            Self.head(4, UInt64(items.count), into: &out)
            for item in items { item.encode(into: &out) }
        case .map(let pairs):
            Self.head(5, UInt64(pairs.count), into: &out)
            for pair in pairs {
                pair.key.encode(into: &out)
                pair.value.encode(into: &out)
            }
        case .tagged(let tag, let content):
            Self.head(6, tag, into: &out)
            content.encode(into: &out)
        case .simple(let value):
            Self.head(7, UInt64(value), into: &out)
        }
    }

    /// A head: major type in the top 3 bits, then the argument in the shortest form.
    static func head(_ major: UInt8, _ argument: UInt64, into out: inout [UInt8]) {
        let type = major << 5
        switch argument {
        case 0..<24: out.append(type | UInt8(argument))
        case 24...0xFF: out += [type | 24, UInt8(argument)]
        case 0x100...0xFFFF: out += [type | 25] + bigEndian(argument, count: 2)
        case 0x1_0000...0xFFFF_FFFF: out += [type | 26] + bigEndian(argument, count: 4)
        default: out += [type | 27] + bigEndian(argument, count: 8)
        }
    }

    static func bigEndian(_ value: UInt64, count: Int) -> [UInt8] {
        (0..<count).map { UInt8(truncatingIfNeeded: value >> (8 * UInt64(count - 1 - $0))) }
    }
}
