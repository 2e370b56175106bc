import Testing
@testable import TSMEventLog

/// The byte layout of the Spec ID header and of TCG_PCR_EVENT2, and round trips through decode.
@Suite struct EncodingTests {
    @Test func specIDHeaderLayout() {
        let bytes = SpecIDEvent.tdx.encoded()
        #expect(bytes.count == 65)
        #expect(u32(bytes, at: 0) == 1, "pcrIndex: TDVF's MR index 1")
        #expect(u32(bytes, at: 4) == 3, "EV_NO_ACTION")
        #expect(bytes[8..<28].allSatisfy { $0 == 0 }, "20-byte zero SHA-1 style digest")
        #expect(u32(bytes, at: 28) == 33, "eventSize")
        #expect(Array(bytes[32..<48]) == Array("Spec ID Event03".utf8) + [0])
        #expect(u32(bytes, at: 48) == 0, "platformClass")
        #expect(Array(bytes[52..<56]) == [0, 2, 0, 2], "minor, major, errata, uintnSize")
        #expect(u32(bytes, at: 56) == 1, "numberOfAlgorithms")
        #expect(u16(bytes, at: 60) == 0x000C, "TPM_ALG_SHA384")
        #expect(u16(bytes, at: 62) == 48)
        #expect(bytes[64] == 0, "vendorInfoSize")
    }

    @Test func pcrEvent2Layout() throws {
        let digest = (0..<48).map { UInt8($0) }
        let event = try TCGEvent(mrIndex: 3, type: .ipl, digest: digest, data: Array("cmdline".utf8))
        let bytes = event.encoded()
        #expect(bytes.count == event.encodedSize)
        #expect(bytes.count == 66 + 7)
        #expect(u32(bytes, at: 0) == 3)
        #expect(u32(bytes, at: 4) == 0x0D)
        #expect(u32(bytes, at: 8) == 1, "digests.count")
        #expect(u16(bytes, at: 12) == 0x000C)
        #expect(Array(bytes[14..<62]) == digest)
        #expect(u32(bytes, at: 62) == 7)
        #expect(Array(bytes[66...]) == Array("cmdline".utf8))
        #expect(event.rtmr == 2)
    }

    @Test func roundTrip() throws {
        let log = try Samples.log()
        #expect(try TCGEventLog(decoding: log.encoded()) == log)
        let boot = BootLog.synthetic()
        #expect(try TCGEventLog(decoding: boot.encoded()) == boot)
    }

    @Test func decodingStopsAtTheFill() throws {
        let log = try Samples.log()
        let area = try CCELTable().logArea(log.encoded())
        #expect(area.count == 0x10000)
        #expect(try TCGEventLog(decoding: area) == log)
        // Fill shorter than a pcrIndex still ends the log.
        #expect(try TCGEventLog(decoding: log.encoded() + [0xFF, 0xFF]) == log)
    }

    @Test func multiAlgorithmLogKeepsSHA384() throws {
        // A TPM-style log listing sha256 and sha384: the decoder sizes each digest from the header.
        var header = SpecIDEvent.tdx
        header.algorithms = [.init(algorithmID: 0x000B, digestSize: 32), .init(algorithmID: 0x000C, digestSize: 48)]
        header.vendorInfo = [1, 2, 3]
        var writer = [UInt8]()
        writer += header.encoded()
        let digest384 = [UInt8](repeating: 0x38, count: 48)
        writer += [2, 0, 0, 0] + [0x0D, 0, 0, 0] + [2, 0, 0, 0]
        writer += [0x0B, 0x00] + [UInt8](repeating: 0x25, count: 32)
        writer += [0x0C, 0x00] + digest384
        writer += [3, 0, 0, 0] + [0x61, 0x62, 0x63]
        let decoded = try TCGEventLog(decoding: writer)
        #expect(decoded.header == header)
        #expect(decoded.events == [try TCGEvent(mrIndex: 2, type: .ipl, digest: digest384, data: Array("abc".utf8))])
    }

    @Test func recordsWithoutHeader() throws {
        let log = try Samples.log()
        let records = log.events.flatMap { $0.encoded() }
        #expect(try TCGEventLog.decodeRecords(records) == log.events)
        #expect(try TCGEventLog.decodeRecords([]) == [])
    }

    @Test func taggedEventRoundTrip() throws {
        let tagged = TaggedEvent(id: TaggedEvent.linuxInitrdID, data: Array("Linux initrd".utf8) + [0])
        let bytes = tagged.encoded()
        #expect(u32(bytes, at: 0) == 0x8F3B_22EC)
        #expect(u32(bytes, at: 4) == 13)
        #expect(try TaggedEvent(decoding: bytes) == tagged)
        #expect(Array(TaggedEvent(id: TaggedEvent.tsmfsExtendID, data: []).encoded().prefix(4)) == Array("TSMF".utf8))
    }

    @Test func eventTypeNames() {
        #expect(TCGEventType.efiPlatformFirmwareBlob2.description == "EV_EFI_PLATFORM_FIRMWARE_BLOB2")
        #expect(TCGEventType(name: "EV_EFI_VARIABLE_AUTHORITY") == .efiVariableAuthority)
        #expect(TCGEventType(name: "EV_BOGUS") == nil)
        #expect(TCGEventType(rawValue: 0xDEAD).description == "0xDEAD")
    }

    @Test func uefiStructures() throws {
        let blob = UEFIEventData.platformFirmwareBlob2(description: "CFV", base: 0xFFC0_0000, length: 0x4_0000)
        #expect(blob == [3] + Array("CFV".utf8) + [0, 0, 0xC0, 0xFF, 0, 0, 0, 0] + [0, 0, 4, 0, 0, 0, 0, 0])
        #expect(UEFIEventData.guid("8BE4DF61-93CA-11D2-AA0D-00E098032B8C") == UEFIEventData.globalVariableGUID)
        #expect(UEFIEventData.guid("not-a-guid") == nil)
        let variable = UEFIEventData.variableData(vendor: UEFIEventData.globalVariableGUID, name: "PK", data: [9])
        #expect(u64(variable, at: 16) == 2)
        #expect(u64(variable, at: 24) == 1)
        #expect(Array(variable[32...]) == [0x50, 0, 0x4B, 0, 9])
        let path = UEFIEventData.filePathDevicePath("\\A")
        #expect(path == [4, 4, 10, 0, 0x5C, 0, 0x41, 0, 0, 0, 0x7F, 0xFF, 4, 0])
    }
}
