import Testing
@testable import TSMEventLog

/// The 56-byte ACPI CCEL table at the offsets cctrusted's CCEL class reads, and the log area.
@Suite struct CCELTableTests {
    @Test func layout() {
        let table = CCELTable(logAreaMinimumLength: 0x10000, logAreaStartAddress: 0x1122_3344_5566_7788)
        let bytes = table.encoded()
        #expect(bytes.count == 56)
        #expect(Array(bytes[0..<4]) == Array("CCEL".utf8))
        #expect(u32(bytes, at: 4) == 56)
        #expect(bytes[8] == 1, "revision")
        #expect(bytes.reduce(0, &+) == 0, "checksum: the bytes sum to 0 mod 256")
        #expect(Array(bytes[10..<16]) == Array("TSMFS ".utf8), "OEM ID")
        #expect(Array(bytes[16..<24]) == Array("TSMFSLOG".utf8), "OEM Table ID")
        #expect(u32(bytes, at: 24) == 1, "OEM revision")
        #expect(Array(bytes[28..<32]) == Array("TSMF".utf8), "creator ID")
        #expect(u32(bytes, at: 32) == 1, "creator revision")
        #expect(bytes[36] == 2, "CC type: TDX")
        #expect(bytes[37] == 0, "CC subtype")
        #expect(bytes[38] == 0 && bytes[39] == 0, "reserved")
        #expect(u64(bytes, at: 40) == 0x10000, "LAML")
        #expect(u64(bytes, at: 48) == 0x1122_3344_5566_7788, "LASA")
    }

    @Test func roundTrip() throws {
        var table = CCELTable(logAreaMinimumLength: 0x2_0000)
        table.oemID = Array("INTEL ".utf8)
        table.ccSubtype = 3
        #expect(try CCELTable(decoding: table.encoded()) == table)
    }

    @Test(arguments: [
        (0, "signature"), (4, "Length"), (9, "checksum"), (20, "checksum"), (47, "checksum"),
    ])
    func refusesDamage(offset: Int, reason: String) {
        var bytes = CCELTable().encoded()
        bytes[offset] ^= 0x01
        #expect(throws: EventLogError.self) { try CCELTable(decoding: bytes) }
    }

    @Test func refusesWrongSizes() {
        let bytes = CCELTable().encoded()
        for count in [0, 3, 4, 8, 36, 55] {
            #expect(throws: EventLogError.self) { try CCELTable(decoding: Array(bytes.prefix(count))) }
        }
        #expect(throws: EventLogError.self) { try CCELTable(decoding: bytes + [0]) }
    }

    @Test func logAreaIsFilledWithFF() throws {
        let log = BootLog.synthetic().encoded()
        let area = try CCELTable().logArea(log)
        #expect(area.count == 0x10000)
        #expect(Array(area.prefix(log.count)) == log)
        #expect(area[log.count...].allSatisfy { $0 == 0xFF })
    }

    @Test func logAreaMustHoldTheLogAndAnEndMarker() throws {
        let log = [UInt8](repeating: 1, count: 100)
        #expect(try CCELTable(logAreaMinimumLength: 100).logArea(log) == log, "exactly full")
        #expect(try CCELTable(logAreaMinimumLength: 108).logArea(log).count == 108)
        for laml: UInt64 in [0, 99, 101, 107] {
            #expect(throws: EventLogError.self) { try CCELTable(logAreaMinimumLength: laml).logArea(log) }
        }
        #expect(throws: EventLogError.self) { try CCELTable(logAreaMinimumLength: UInt64.max).logArea(log) }
    }

    @Test func areaLengthForLargeLogs() {
        #expect(CCELTable.logAreaLength(for: 0) == 0x10000)
        #expect(CCELTable.logAreaLength(for: 0x10000 - 8) == 0x10000)
        #expect(CCELTable.logAreaLength(for: 0x10000 - 7) == 0x11000)
        #expect(CCELTable.logAreaLength(for: 0x20000) == 0x21000)
    }
}
