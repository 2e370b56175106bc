import FoundationEssentials

/// Where a JSON text first breaks RFC 8259's grammar, as a line and column (both from 1): what a
/// "not valid JSON" error should say. FoundationEssentials' decoder gives no position.
enum JSONSyntax {
    struct Problem: Error, Equatable {
        var line: Int
        var column: Int
        var expected: String
    }

    /// Deeper nesting is refused rather than recursed into.
    static let maximumDepth = 256

    static func firstProblem(in bytes: [UInt8]) -> Problem? {
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
            var line = 1, column = 1
            for byte in bytes.prefix(index) {
                if byte == UInt8(ascii: "\n") { line += 1; column = 1 } else if byte & 0xC0 != 0x80 { column += 1 }
            }
            return Problem(line: line, column: column, expected: expected)
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
            while true {
                if keyed {
                    skipSpace()
                    guard current == UInt8(ascii: "\"") else { throw fail("a key in double quotes") }
                    try string()
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

/// A key of any name, to list what an object holds.
struct AnyCodingKey: CodingKey {
    var stringValue: String
    var intValue: Int? { nil }
    init(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
}

extension Decoder {
    /// Refuses an object with a key outside `known`: a misspelt key (`"intial"`) must not be
    /// ignored silently. Future formats add keys with a version that older tsmfs refuses clearly.
    func refuseUnknownKeys(_ known: [String]) throws {
        let container = try self.container(keyedBy: AnyCodingKey.self)
        for key in container.allKeys where !known.contains(key.stringValue) {
            throw DecodingError.dataCorrupted(
                DecodingError.Context(
                    codingPath: codingPath + [key],
                    debugDescription: "unknown key '\(key.stringValue)' (known here: \(known.joined(separator: ", ")))")
            )
        }
    }
}

/// What a JSON decoding error says, with the path of the value at fault: for messages that name
/// the file and the key a user got wrong.
public enum DecodingErrorText {
    public static func describe(_ error: any Error) -> String {
        switch error {
        case DecodingError.keyNotFound(let key, let context):
            return "missing key '\(key.stringValue)' at \(path(context.codingPath))"
        case DecodingError.dataCorrupted(let context) where context.debugDescription.hasPrefix("unknown key"):
            return "\(context.debugDescription) at \(path(context.codingPath))"
        case DecodingError.typeMismatch(_, let context), DecodingError.valueNotFound(_, let context):
            return "\(context.debugDescription) at \(path(context.codingPath))"
        case DecodingError.dataCorrupted(let context):
            return "\(context.debugDescription)\(context.codingPath.isEmpty ? "" : " at " + path(context.codingPath))"
        default:
            return "\(error)"
        }
    }

    private static func path(_ codingPath: [any CodingKey]) -> String {
        guard !codingPath.isEmpty else { return "the top level" }
        return codingPath.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
    }
}
