import Glibc
import SystemPackage

/// /etc/fuse.conf as fusermount3 reads it (libfuse's util/fusermount.c, `read_conf`,
/// `strip_line` and `parse_line`), so that tsmfs agrees with the fusermount3 that will mount:
///
/// - lines end with a newline; a line of more than 255 bytes with its newline is skipped whole,
///   and so is a last line that has no newline (fusermount3 reads with `fgets` into 256 bytes);
/// - `#` starts a comment to the end of the line; leading and trailing white space is dropped;
/// - `user_allow_other` must then be the whole line;
/// - `mount_max = N` is `sscanf("mount_max = %i")`: spaces around `=` optional, N decimal, octal
///   (leading 0) or hexadecimal (0x), signed, anything after the number ignored;
/// - any other non-empty line is an unknown parameter, which fusermount3 warns about and skips.
public struct FuseConfiguration: Equatable, Sendable {
    /// Whether ordinary users may mount with `allow_other`.
    public var userAllowOther = false
    /// How many FUSE mounts ordinary users may have; fusermount3's default is 1000.
    public var mountMax: Int32 = 1000
    /// The numbers (from 1) of the lines fusermount3 skips: unknown, too long, or unterminated.
    public var skippedLines: [Int] = []

    /// fusermount3's line buffer, newline and terminating NUL included.
    public static let lineBuffer = 256
    /// The most of the file that is read; fusermount3 has no limit, but a configuration this
    /// large is not one.
    public static let sizeLimit = 64 << 10

    /// The defaults: what fusermount3 assumes when the file does not exist.
    public init() {}

    public init(parsing text: String) {
        self.init(parsing: Array(text.utf8))
    }

    public init(parsing bytes: [UInt8]) {
        // The text after the last newline is the last piece: empty when the file ends with one.
        let pieces = bytes.prefix(Self.sizeLimit).split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
        for (index, line) in pieces.enumerated() {
            let lineNumber = index + 1
            guard index < pieces.count - 1 else {
                if !line.isEmpty { skippedLines.append(lineNumber) }
                break
            }
            // fgets reads up to 255 bytes: the line and its newline must fit; a NUL ends C's view of it.
            guard line.count + 1 < Self.lineBuffer, !line.contains(0) else {
                skippedLines.append(lineNumber)
                continue
            }
            if !parse(Self.stripped(line)) { skippedLines.append(lineNumber) }
        }
    }

    /// Reads and parses `path`; a missing file gives the defaults, as for fusermount3.
    public static func read(path: String = "/etc/fuse.conf") throws(Errno) -> FuseConfiguration {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 {
            if errno == ENOENT { return FuseConfiguration() }
            throw Errno(rawValue: errno)
        }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while bytes.count < sizeLimit {
            let count = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            if count < 0 { throw Errno(rawValue: errno) }
            if count == 0 { break }
            bytes += chunk[0..<count]
        }
        return FuseConfiguration(parsing: bytes)
    }

    /// `strip_line`: the comment cut off, then white space (C's isspace) at both ends.
    static func stripped(_ line: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        let uncommented = line.prefix { $0 != UInt8(ascii: "#") }
        let isSpace: (UInt8) -> Bool = { $0 == 0x20 || (0x09...0x0D).contains($0) }
        guard let first = uncommented.firstIndex(where: { !isSpace($0) }),
            let last = uncommented.lastIndex(where: { !isSpace($0) })
        else { return [] }
        return uncommented[first...last]
    }

    /// `parse_line`; false for a non-empty line it does not know.
    mutating func parse(_ line: ArraySlice<UInt8>) -> Bool {
        if line.isEmpty { return true }
        if line.elementsEqual("user_allow_other".utf8) {
            userAllowOther = true
            return true
        }
        if let value = Self.mountMax(line) {
            mountMax = value
            return true
        }
        return false
    }

    /// `sscanf(line, "mount_max = %i")`: each space of the format matches any white space.
    static func mountMax(_ line: ArraySlice<UInt8>) -> Int32? {
        let key = Array("mount_max".utf8)
        guard line.starts(with: key) else { return nil }
        var rest = line.dropFirst(key.count)
        let isSpace: (UInt8) -> Bool = { $0 == 0x20 || (0x09...0x0D).contains($0) }
        rest = rest.drop(while: isSpace)
        guard rest.first == UInt8(ascii: "=") else { return nil }
        rest = rest.dropFirst().drop(while: isSpace)
        return scanInteger(rest)
    }

    /// C's `%i`: an optional sign, then 0x and hexadecimal digits, 0 and octal digits, or decimal
    /// digits; the longest such prefix. Nil without a digit or when it does not fit an Int32.
    static func scanInteger(_ text: ArraySlice<UInt8>) -> Int32? {
        var rest = text
        var negative = false
        if let sign = rest.first, sign == UInt8(ascii: "+") || sign == UInt8(ascii: "-") {
            negative = sign == UInt8(ascii: "-")
            rest = rest.dropFirst()
        }
        var radix = 10
        if rest.first == UInt8(ascii: "0") {
            let afterZero = rest.dropFirst()
            if let x = afterZero.first, x == UInt8(ascii: "x") || x == UInt8(ascii: "X"),
                let digit = afterZero.dropFirst().first, hexValue(digit) != nil
            {
                radix = 16
                rest = afterZero.dropFirst()
            } else {
                radix = 8
            }
        }
        var value: Int64 = 0
        var digits = 0
        for byte in rest {
            guard let digit = hexValue(byte), digit < radix else { break }
            value = value * Int64(radix) + Int64(digit)
            digits += 1
            if value > Int64(Int32.max) + 1 { return nil }
        }
        guard digits > 0 else { return nil }
        return Int32(exactly: negative ? -value : value)
    }

    private static func hexValue(_ byte: UInt8) -> Int? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): Int(byte - UInt8(ascii: "0"))
        case UInt8(ascii: "a")...UInt8(ascii: "f"): Int(byte - UInt8(ascii: "a")) + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): Int(byte - UInt8(ascii: "A")) + 10
        default: nil
        }
    }
}
