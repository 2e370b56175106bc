import Testing
import TSMBytes

@Suite("UUID text")
struct UUIDTextTests {
    static let vcekText = "63da758d-e664-4564-adc5-f4b93be8accd"
    static let vcek: [UInt8] = [
        0x63, 0xda, 0x75, 0x8d, 0xe6, 0x64, 0x45, 0x64, 0xad, 0xc5, 0xf4, 0xb9, 0x3b, 0xe8, 0xac, 0xcd,
    ]

    @Test("parse: exactly 36 characters, bytes in text order, either case")
    func parse() {
        #expect(UUIDText.parse(Self.vcekText) == Self.vcek)
        #expect(UUIDText.parse(Self.vcekText.uppercased()) == Self.vcek)
        #expect(UUIDText.parse(Self.vcekText + "\n") == nil)
        #expect(UUIDText.parse("63da758de6644564adc5f4b93be8accd") == nil)
        #expect(UUIDText.parse("63da758d_e664-4564-adc5-f4b93be8accd") == nil)
        #expect(UUIDText.parse("63da758d-e664-4564-adc5-f4b93be8accg") == nil)
        #expect(UUIDText.parse("63da758-de664-4564-adc5-f4b93be8accd") == nil)
        #expect(UUIDText.parse("") == nil)
    }

    @Test("parse(leading:): the kernel's uuid_parse ignores what follows 36 characters")
    func kernelForm() {
        #expect(UUIDText.parse(leading: Array((Self.vcekText + "\n").utf8)) == Self.vcek)
        #expect(UUIDText.parse(leading: Array((Self.vcekText + "trailing junk").utf8)) == Self.vcek)
        #expect(UUIDText.parse(leading: Array(Self.vcekText.utf8)) == Self.vcek)
        #expect(UUIDText.parse(leading: Array("63da758d-e664".utf8)) == nil)
        #expect(UUIDText.parse(leading: Array(("\n" + Self.vcekText).utf8)) == nil)
        #expect(UUIDText.parse(leading: Array("63da758d e664-4564-adc5-f4b93be8accd".utf8)) == nil)
    }

    @Test("format: lowercase 8-4-4-4-12; other lengths plain hex")
    func format() {
        #expect(UUIDText.format(Self.vcek) == Self.vcekText)
        #expect(UUIDText.format([0xab, 0xcd]) == "abcd")
        #expect(UUIDText.parse(UUIDText.format(Self.vcek)) == Self.vcek)
    }

    @Test("efiOrder swaps the first three groups, is its own inverse, leaves other lengths alone")
    func efiOrder() {
        // EFI_GLOBAL_VARIABLE, 8BE4DF61-93CA-11D2-AA0D-00E098032B8C, as it lies in memory.
        let text = UUIDText.parse("8BE4DF61-93CA-11D2-AA0D-00E098032B8C") ?? []
        let memory: [UInt8] = [
            0x61, 0xDF, 0xE4, 0x8B, 0xCA, 0x93, 0xD2, 0x11, 0xAA, 0x0D, 0x00, 0xE0, 0x98, 0x03, 0x2B, 0x8C,
        ]
        #expect(UUIDText.efiOrder(text) == memory)
        #expect(UUIDText.efiOrder(memory) == text)
        #expect(UUIDText.efiOrder([1, 2, 3]) == [1, 2, 3])
    }
}
