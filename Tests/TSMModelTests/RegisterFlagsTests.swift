import Testing
import TSMModel

@Suite("Register flags")
struct RegisterFlagsTests {
    @Test("kernel values of ABI.md 2.2")
    func values() {
        #expect(RegisterFlags.extensible.rawValue == 1)
        #expect(RegisterFlags.writable.rawValue == 2)
        #expect(RegisterFlags.readable.rawValue == 4)
        #expect(RegisterFlags.live.rawValue == 8)
        #expect(RegisterFlags.file.rawValue == 16)
        #expect(RegisterFlags.liveReadable.rawValue == 12)
        #expect(RegisterFlags.rtmr.rawValue == 13)
        #expect(!RegisterFlags.rtmr.contains(.writable))
    }

    static let modeCases: [(RegisterFlags, UInt16)] = [
        (.readable, 0o444), ([.writable], 0o220), ([.readable, .writable], 0o664), ([], 0o000),
        (.rtmr, 0o444), ([.readable, .live, .file], 0o444), (RegisterFlags.rtmr.union(.writable), 0o664),
    ]

    @Test("modes from R and W only (ABI.md 2.3)")
    func modes() {
        for (flags, mode) in Self.modeCases {
            #expect(flags.fileMode == mode, "flags \(flags.rawValue)")
        }
    }

    @Test("letters round-trip")
    func letters() {
        let flags = RegisterFlags.rtmr.union(.writable)
        #expect(flags.letterList == ["R", "W", "X", "L"])
        #expect(RegisterFlags(letters: flags.letterList) == flags)
        #expect(RegisterFlags(letters: ["Q"]) == nil)
        #expect(RegisterFlags(letters: ["RW"]) == nil)
    }
}
