/// Lowercase hex of `bytes`, written here rather than taken from TSMBytes so that tests of the
/// codec and of what uses it do not check the code against itself.
public func hex(_ bytes: [UInt8]) -> String {
    bytes.map { String($0 >> 4, radix: 16) + String($0 & 0xF, radix: 16) }.joined()
}

/// The bytes of an even-length hex string; a pair that is not hex gives 0 (fixtures are trusted).
public func bytes(_ hex: String) -> [UInt8] {
    var result: [UInt8] = []
    var index = hex.startIndex
    while index < hex.endIndex {
        let next = hex.index(index, offsetBy: 2)
        result.append(UInt8(hex[index..<next], radix: 16) ?? 0)
        index = next
    }
    return result
}
