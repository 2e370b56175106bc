import Crypto
import Glibc

/// The values an extendable register takes when extended again and again with the same data,
/// computed as far as reads need them, up to a bound.
struct Chain {
    let hash: String
    let data: [UInt8]
    let bound: Int
    private var tip: [UInt8]
    private var length = 0
    private var index: [[UInt8]: Int]

    init(hash: String, data: [UInt8], start: [UInt8], bound: Int) {
        self.hash = hash
        self.data = data
        self.bound = bound
        tip = start
        index = [start: 0]
    }

    /// How many extends from the start give `value`, or nil if none up to the bound does.
    mutating func position(of value: [UInt8]) -> Int? {
        while index[value] == nil && length < bound {
            tip = extendValue(hash, tip, data)
            length += 1
            index[tip] = length
        }
        return index[value]
    }
}

func extendValue(_ hash: String, _ old: [UInt8], _ data: [UInt8]) -> [UInt8] {
    switch hash {
    case "sha256": return Array(SHA256.hash(data: old + data))
    case "sha384": return Array(SHA384.hash(data: old + data))
    default: return Array(SHA512.hash(data: old + data))
    }
}

/// A small seeded generator, so that a failing run can be repeated.
struct SplitMix64 {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

func readText(_ path: String) -> String {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { return "" }
    defer { close(fd) }
    var bytes: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 65536)
    while true {
        let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if n <= 0 { break }
        bytes += buffer.prefix(n)
    }
    return String(decoding: bytes, as: UTF8.self)
}

func encodeHex(_ bytes: [UInt8]) -> String {
    let digits = Array("0123456789abcdef")
    return String(bytes.flatMap { [digits[Int($0 >> 4)], digits[Int($0 & 0xF)]] })
}

func decodeHex(_ text: String) -> [UInt8]? {
    let chars = Array(text.utf8)
    guard chars.count % 2 == 0 else { return nil }
    var bytes: [UInt8] = []
    var index = 0
    while index < chars.count {
        guard let high = UInt8(String(decoding: chars[index..<(index + 1)], as: UTF8.self), radix: 16),
            let low = UInt8(String(decoding: chars[(index + 1)..<(index + 2)], as: UTF8.self), radix: 16)
        else { return nil }
        bytes.append(high << 4 | low)
        index += 2
    }
    return bytes
}
