import Foundation
import TestSupport

// MARK: - The config parser

/// Mutations of valid configs, from bytes up to the JSON structure, and plain random bytes.
struct ConfigMutator {
    var random: SeededGenerator
    let seeds: [[UInt8]]

    static let edgeNumbers = [
        "0", "-1", "1", "31", "32", "48", "64", "4095", "4096", "4097", "65536", "2147483648",
        "9223372036854775807", "-9223372036854775808", "18446744073709551616", "1e400", "1.5", "-0", "013",
    ]
    static let edgeStrings = [
        "", ".", "..", "a/b", "\\u0000", "sha256", "sha384", "sha512", "sha3-256", "RWXLF", "RWX", "F", "Q",
        "00", "0", "zz", "abc", "\\ud800", String(repeating: "ab", count: 5000), "rtmr0", "static_mr", "reportdata",
    ]
    static let keys = [
        "providers", "name", "registers", "hash", "size", "flags", "initial", "derive", "digest", "layout",
        "offset", "register", "hex", "of",
    ]

    mutating func next() -> [UInt8] {
        if random.chance(5) { return random.bytes(random.below(300)) }
        var input = random.pick(seeds)
        // Mostly changes that keep the JSON well-formed, so that the rules behind the parser run.
        for _ in 0...random.below(3) {
            switch random.below(10) {
            case 0...4: input = structural(input)
            case 5...7: input = token(input)
            default: input = bytewise(input)
            }
        }
        return input
    }

    /// Flip, set, insert, delete, duplicate or cut bytes.
    mutating func bytewise(_ input: [UInt8]) -> [UInt8] {
        var bytes = input
        guard !bytes.isEmpty else { return random.bytes(8) }
        let at = random.below(bytes.count)
        switch random.below(6) {
        case 0: bytes[at] ^= UInt8(1) << UInt8(random.below(8))
        case 1: bytes[at] = random.pick(Array("{}[]\",:-0123456789eE.\\ ntrufals".utf8) + [0, 0xFF])
        case 2: bytes.insert(contentsOf: random.bytes(1 + random.below(4)), at: at)
        case 3: bytes.removeSubrange(at..<min(bytes.count, at + 1 + random.below(16)))
        case 4:
            let end = min(bytes.count, at + 1 + random.below(64))
            bytes.insert(contentsOf: bytes[at..<end], at: random.below(bytes.count))
        default: bytes.removeSubrange(at...)
        }
        return bytes
    }

    /// Replace one number or one string literal with an edge value.
    mutating func token(_ input: [UInt8]) -> [UInt8] {
        let text = String(decoding: input, as: UTF8.self)
        let numbers = text.ranges(of: /-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?/)
        let strings = text.ranges(of: /"(?:[^"\\]|\\.)*"/)
        var result = text
        if random.chance(50), !numbers.isEmpty {
            result.replaceSubrange(random.pick(numbers), with: random.pick(Self.edgeNumbers))
        } else if !strings.isEmpty {
            result.replaceSubrange(random.pick(strings), with: "\"" + random.pick(Self.edgeStrings) + "\"")
        }
        return Array(result.utf8)
    }

    /// Parse, change one node of the tree (drop a key, swap a type, duplicate or drop an array
    /// element, add a key), and write it back.
    mutating func structural(_ input: [UInt8]) -> [UInt8] {
        guard var object = try? JSONSerialization.jsonObject(with: Data(input), options: [.fragmentsAllowed]) else {
            return bytewise(input)
        }
        var depth = 0
        object = mutate(object, depth: &depth)
        guard let data = try? JSONSerialization.data(withJSONObject: object, options: [.fragmentsAllowed]) else {
            return input
        }
        return Array(data)
    }

    mutating func randomValue() -> Any {
        switch random.below(8) {
        case 0: return NSNull()
        case 1: return Int(truncatingIfNeeded: Int64(bitPattern: random.next())) >> random.below(64)
        case 2: return random.pick([0, -1, 1, 32, 48, 64, 4096, 4097, Int.max, Int.min])
        case 3: return random.pick(Self.edgeStrings.filter { !$0.hasPrefix("\\") })
        case 4: return [random.pick(["R", "W", "X", "L", "F", "Z"])]
        case 5: return [String: Any]()
        case 6: return [Any]()
        default: return random.chance(50)
        }
    }

    mutating func mutate(_ node: Any, depth: inout Int) -> Any {
        depth += 1
        let descend = depth < 8 && random.chance(75)
        if var dictionary = node as? [String: Any], !dictionary.isEmpty {
            let key = random.pick(dictionary.keys.sorted())
            if descend, let child = dictionary[key] {
                dictionary[key] = mutate(child, depth: &depth)
            } else {
                switch random.below(3) {
                case 0: dictionary[key] = nil
                case 1: dictionary[key] = randomValue()
                default: dictionary[random.pick(Self.keys)] = randomValue()
                }
            }
            return dictionary
        }
        if var array = node as? [Any], !array.isEmpty {
            let index = random.below(array.count)
            if descend {
                array[index] = mutate(array[index], depth: &depth)
            } else {
                switch random.below(3) {
                case 0: array.remove(at: index)
                case 1: array.append(array[index])
                default: array.swapAt(index, random.below(array.count))
                }
            }
            return array
        }
        return randomValue()
    }
}
