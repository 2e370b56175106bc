/// Where a JSON text first breaks RFC 8259's grammar, or first repeats a key inside one object
/// (RFC 8259 §4: names "SHOULD be unique"; a reader that keeps the first or the last of two would
/// read another document than its producer meant), as a line and column (both from 1): what a
/// "not valid JSON" error should say. FoundationEssentials' decoder gives no position, and keeps
/// one of two equal keys silently.
public enum JSONSyntax {
    /// The first problem of a text.
    public struct Problem: Error, Equatable, Sendable, CustomStringConvertible {
        public var line: Int
        public var column: Int
        /// What the grammar expected there ("a value"), or what is wrong ("the key \"a\" a second
        /// time in one object").
        public var reason: String

        /// "line L, column C: REASON".
        public var description: String { "line \(line), column \(column): \(reason)" }
    }

    /// Deeper nesting is refused rather than recursed into.
    public static let maximumDepth = 256

    /// The text's first problem, nil for a valid JSON text with unique keys in every object.
    public static func firstProblem(in bytes: [UInt8]) -> Problem? {
        var scanner = Scanner(bytes: bytes)
        do throws(Problem) {
            scanner.skipSpace()
            try scanner.value(depth: 0)
            scanner.skipSpace()
            guard scanner.index == bytes.count else { throw scanner.fail("the end of the text") }
            return nil
        } catch {
            return error
        }
    }

    private struct Scanner {
        let bytes: [UInt8]
        var index = 0

        func fail(_ expected: String) -> Problem {
            problem(at: index, "expected \(expected)")
        }

        func problem(at position: Int, _ reason: String) -> Problem {
            var line = 1, column = 1
            for byte in bytes.prefix(position) {
                if byte == UInt8(ascii: "\n") { line += 1; column = 1 } else if byte & 0xC0 != 0x80 { column += 1 }
            }
            return Problem(line: line, column: column, reason: reason)
        }

        var current: UInt8? { index < bytes.count ? bytes[index] : nil }

        mutating func skipSpace() {
            while let byte = current, [0x20, 0x09, 0x0A, 0x0D].contains(byte) { index += 1 }
        }

        mutating func expect(_ byte: UInt8, _ what: String) throws(Problem) {
            skipSpace()
            guard current == byte else { throw fail(what) }
            index += 1
        }

        mutating func value(depth: Int) throws(Problem) {
            skipSpace()
            guard depth < JSONSyntax.maximumDepth else {
                throw fail("at most \(JSONSyntax.maximumDepth) levels of nesting")
            }
            switch current {
            case UInt8(ascii: "{"): try container(close: UInt8(ascii: "}"), depth: depth, keyed: true)
            case UInt8(ascii: "["): try container(close: UInt8(ascii: "]"), depth: depth, keyed: false)
            case UInt8(ascii: "\""): try string()
            case UInt8(ascii: "t"): try literal("true")
            case UInt8(ascii: "f"): try literal("false")
            case UInt8(ascii: "n"): try literal("null")
            case let byte? where byte == UInt8(ascii: "-") || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte):
                try number()
            default: throw fail("a value")
            }
        }

        mutating func container(close: UInt8, depth: Int, keyed: Bool) throws(Problem) {
            index += 1
            skipSpace()
            if current == close { index += 1; return }
            var keys = Set<String>()
            while true {
                if keyed {
                    skipSpace()
                    guard current == UInt8(ascii: "\"") else { throw fail("a key in double quotes") }
                    let start = index
                    try string()
                    let key = JSONSyntax.unescaped(bytes[(start + 1)..<(index - 1)])
                    guard keys.insert(key).inserted else {
                        throw problem(at: start, "the key \(JSONText.quoted(key)) a second time in one object")
                    }
                    try expect(UInt8(ascii: ":"), "':' after the key")
                }
                try value(depth: depth + 1)
                skipSpace()
                if current == UInt8(ascii: ",") { index += 1; continue }
                guard current == close else { throw fail("',' or '\(Character(Unicode.Scalar(close)))'") }
                index += 1
                return
            }
        }

        mutating func string() throws(Problem) {
            index += 1
            while let byte = current {
                index += 1
                if byte == UInt8(ascii: "\"") { return }
                if byte == UInt8(ascii: "\\") {
                    guard let escaped = current, "\"\\/bfnrtu".utf8.contains(escaped) else {
                        throw fail("an escape: \\\" \\\\ \\/ \\b \\f \\n \\r \\t or \\uXXXX")
                    }
                    index += 1
                    if escaped == UInt8(ascii: "u") {
                        for _ in 0..<4 {
                            guard let digit = current, "0123456789abcdefABCDEF".utf8.contains(digit) else {
                                throw fail("four hex digits after \\u")
                            }
                            index += 1
                        }
                    }
                } else if byte < 0x20 {
                    index -= 1
                    throw fail("no control character inside a string")
                }
            }
            throw fail("the closing '\"' of a string")
        }

        mutating func literal(_ word: String) throws(Problem) {
            let text = Array(word.utf8)
            guard bytes.count - index >= text.count, Array(bytes[index..<(index + text.count)]) == text else {
                throw fail(word)
            }
            index += text.count
        }

        /// `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`
        mutating func number() throws(Problem) {
            if current == UInt8(ascii: "-") { index += 1 }
            if current == UInt8(ascii: "0") {
                index += 1
            } else {
                guard try digits() > 0 else { throw fail("a digit") }
            }
            if current == UInt8(ascii: ".") {
                index += 1
                guard try digits() > 0 else { throw fail("a digit after '.'") }
            }
            if current == UInt8(ascii: "e") || current == UInt8(ascii: "E") {
                index += 1
                if current == UInt8(ascii: "+") || current == UInt8(ascii: "-") { index += 1 }
                guard try digits() > 0 else { throw fail("a digit in the exponent") }
            }
        }

        mutating func digits() throws(Problem) -> Int {
            var count = 0
            while let byte = current, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) {
                index += 1
                count += 1
            }
            return count
        }
    }
}

extension JSONSyntax {
    /// A string's contents (between its quotes, already checked) with its escapes resolved, so
    /// `"a"` and `"\u0061"` are the same key. An unpaired surrogate becomes U+FFFD.
    static func unescaped(_ raw: ArraySlice<UInt8>) -> String {
        guard raw.contains(UInt8(ascii: "\\")) else { return String(decoding: raw, as: UTF8.self) }
        var units: [UInt16] = []
        var index = raw.startIndex
        func hex(_ at: Int) -> UInt16 {
            UInt16(String(decoding: raw[at..<min(at + 4, raw.endIndex)], as: UTF8.self), radix: 16) ?? 0xFFFD
        }
        while index < raw.endIndex {
            let byte = raw[index]
            guard byte == UInt8(ascii: "\\"), index + 1 < raw.endIndex else {
                // Plain UTF-8: decode the run up to the next escape as one piece.
                let end = raw[index...].firstIndex(of: UInt8(ascii: "\\")) ?? raw.endIndex
                units += Array(String(decoding: raw[index..<max(end, index + 1)], as: UTF8.self).utf16)
                index = max(end, index + 1)
                continue
            }
            let escaped = raw[index + 1]
            index += 2
            switch escaped {
            case UInt8(ascii: "b"): units.append(0x08)
            case UInt8(ascii: "f"): units.append(0x0C)
            case UInt8(ascii: "n"): units.append(0x0A)
            case UInt8(ascii: "r"): units.append(0x0D)
            case UInt8(ascii: "t"): units.append(0x09)
            case UInt8(ascii: "u"):
                units.append(hex(index))
                index += 4
            default: units.append(UInt16(escaped))
            }
        }
        return String(decoding: units, as: UTF16.self)
    }
}
