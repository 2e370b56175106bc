import Testing
import TSMBytes

@Suite("Hex")
struct HexTests {
    @Test("encode: lowercase, two digits a byte, empty for nothing")
    func encode() {
        #expect(Hex.encode([0x00, 0x0f, 0xa0, 0xff]) == "000fa0ff")
        #expect(Hex.encode([]) == "")
        #expect(Hex.encode([0xde, 0xad, 0xbe, 0xef][1...]) == "adbeef")
    }

    @Test("decode: either case round-trips; odd length, bad digits and separators are nil")
    func decode() {
        #expect(Hex.decode("000FA0ff") == [0x00, 0x0f, 0xa0, 0xff])
        #expect(Hex.decode("") == [])
        #expect(Hex.decode("abc") == nil)
        #expect(Hex.decode("zz") == nil)
        #expect(Hex.decode("0g") == nil)
        #expect(Hex.decode("00 11") == nil)
        #expect(Hex.decode("0x00") == nil)
        let all = (0...255).map { UInt8($0) }
        #expect(Hex.decode(Hex.encode(all)) == all)
    }

    @Test("parse names what is wrong: odd length, or the offset of the first bad digit")
    func parseErrors() {
        #expect(throws: HexError.oddLength(digits: 3)) { try Hex.parse("abc") }
        #expect(throws: HexError.badDigit(offset: 0)) { try Hex.parse("g0") }
        #expect(throws: HexError.badDigit(offset: 3)) { try Hex.parse("000g") }
        // "é" is two UTF-8 bytes; offsets count bytes.
        #expect(throws: HexError.badDigit(offset: 2)) { try Hex.parse("00é") }
        #expect(HexError.oddLength(digits: 1).description == "odd number of digits")
        #expect(HexError.badDigit(offset: 4).description == "bad digit at position 4")
    }

    @Test("nibble: the 22 hex digits and nothing else")
    func nibble() {
        let accepted = (0...255).filter { Hex.nibble(UInt8($0)) != nil }.map { Character(UnicodeScalar(UInt8($0))) }
        #expect(String(accepted) == "0123456789ABCDEFabcdef")
        #expect(Hex.nibble(UInt8(ascii: "F")) == 15)
        #expect(Hex.nibble(UInt8(ascii: "a")) == 10)
    }

    @Test("digits(of:): every digit of the width, most significant first")
    func fixedWidth() {
        #expect(Hex.digits(of: UInt64(0x1f)) == "000000000000001f")
        #expect(Hex.digits(of: UInt64.max) == "ffffffffffffffff")
        #expect(Hex.digits(of: UInt16(0xabc)) == "0abc")
        #expect(Hex.digits(of: UInt8(0)) == "00")
    }
}
