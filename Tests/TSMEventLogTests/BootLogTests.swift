import TSMBytes
@testable import TSMEventLog
import Testing

/// The default synthetic boot, the JSON description and loading a boot log from a file.
@Suite struct BootLogTests {
    @Test func syntheticBootShape() throws {
        let log = BootLog.synthetic()
        #expect(log.header == .tdx)
        let shape = log.events.map { "\($0.rtmr ?? -1) \($0.type)" }
        #expect(
            shape == [
                "0 EV_EFI_PLATFORM_FIRMWARE_BLOB2", "0 EV_EFI_VARIABLE_DRIVER_CONFIG", "0 EV_EFI_VARIABLE_BOOT",
                "0 EV_SEPARATOR",
                "1 EV_EFI_ACTION", "1 EV_SEPARATOR", "1 EV_EFI_BOOT_SERVICES_APPLICATION",
                "2 EV_IPL", "2 EV_EVENT_TAG", "2 EV_IPL", "1 EV_EFI_ACTION",
            ])
        for event in log.events {
            #expect(event.digest == sha384(event.data), "\(event.type): digest is SHA-384 of the event data")
            #expect(!event.data.isEmpty)
        }
        #expect(log.events[9].data == Array("kernel_cmdline: /boot/vmlinuz console=hvc0 root=/dev/vda1 ro".utf8) + [0])
        #expect(try TaggedEvent(decoding: log.events[8].data).id == TaggedEvent.linuxInitrdID)
    }

    @Test func commandLineChangesOnlyRTMR2() {
        let standard = BootLog.synthetic().replay()
        let other = BootLog.synthetic(commandLine: "console=ttyS0").replay()
        #expect(other[0] == standard[0] && other[1] == standard[1] && other[3] == standard[3])
        #expect(other[2] != standard[2])
    }

    @Test func jsonDescription() throws {
        let json = """
            {"events": [
              {"rtmr": 0, "type": "EV_EFI_ACTION", "text": "hello"},
              {"rtmr": 3, "type": 13, "hex": "00ff10"},
              {"rtmr": 1, "type": "EV_SEPARATOR", "hex": "00000000", "digest": "\(String(repeating: "ab", count: 48))"},
              {"type": "EV_NO_ACTION", "text": "note"},
              {"rtmr": 2, "type": "EV_IPL"}
            ]}
            """
        let log = try BootLog.load(Array(json.utf8))
        #expect(
            log.events == [
                try .measurement(rtmr: 0, type: .efiAction, data: Array("hello".utf8)),
                try .measurement(rtmr: 3, type: .ipl, data: [0x00, 0xFF, 0x10]),
                try TCGEvent(
                    mrIndex: 2, type: .separator, digest: [UInt8](repeating: 0xAB, count: 48), data: [0, 0, 0, 0]),
                try .noAction(data: Array("note".utf8)),
                try .measurement(rtmr: 2, type: .ipl, data: []),
            ])
        let array = try BootLog.load(
            Array("\n  [{\"rtmr\": 0, \"type\": \"EV_EFI_ACTION\", \"text\": \"hello\"}]".utf8))
        #expect(array.events == [log.events[0]])
    }

    @Test func jsonRoundTrip() throws {
        let synthetic = BootLog.synthetic()
        #expect(try BootLog.load(Array(BootLogDescription.encode(synthetic).utf8)) == synthetic)
        let sample = try Samples.log()
        #expect(try BootLog.load(Array(BootLogDescription.encode(sample).utf8)) == sample)
    }

    @Test(arguments: [
        #"{"events": [{"rtmr": 0, "type": "EV_EFI_ACTION", "txt": "typo"}]}"#,
        #"{"events": [{"rtmr": 0, "type": "EV_NOPE"}]}"#,
        #"{"events": [{"rtmr": 0, "type": "EV_IPL", "text": "a", "hex": "00"}]}"#,
        #"{"events": [{"rtmr": 0, "type": "EV_IPL", "hex": "0"}]}"#,
        #"{"events": [{"rtmr": 0, "type": "EV_IPL", "hex": "zz"}]}"#,
        #"{"events": [{"type": "EV_IPL", "text": "no rtmr"}]}"#,
        #"{"events": [{"rtmr": 4, "type": "EV_IPL"}]}"#,
        #"{"events": [{"rtmr": -1, "type": "EV_IPL"}]}"#,
        #"{"events": [{"rtmr": 0, "type": "EV_IPL", "digest": "00"}]}"#,
        #"{"events": [{"rtmr": 0, "type": "EV_NO_ACTION"}]}"#,
        #"{"events": [{"rtmr": 0, "type": -3}]}"#,
        #"{"events": {"rtmr": 0}}"#,
        #"{"event": []}"#,
        #"[{"rtmr": 0}]"#,
        #"{"events": [}"#,
        "[",
    ])
    func refusesBadDescriptions(_ json: String) {
        #expect(throws: EventLogError.self) { try BootLog.load(Array(json.utf8)) }
    }

    @Test("issue 24: a boot log past its size or event limit is refused naming the limit")
    func limits() throws {
        let event = #"{"rtmr": 0, "type": "EV_IPL"}"#
        let many = "[" + Array(repeating: event, count: BootLog.maxEvents + 1).joined(separator: ",") + "]"
        #expect(
            throws: EventLogError.invalidInput(field: "boot log", reason: "10001 events, more than the limit of 10000")
        ) {
            try BootLog.load(Array(many.utf8))
        }
        let enough = "[" + Array(repeating: event, count: BootLog.maxEvents).joined(separator: ",") + "]"
        #expect(try BootLog.load(Array(enough.utf8)).events.count == BootLog.maxEvents)
        let huge = [UInt8](repeating: 0x20, count: BootLog.maxSize + 1)
        #expect(
            throws: EventLogError.invalidInput(
                field: "boot log", reason: "1048577 bytes, more than the limit of 1048576")
        ) { try BootLog.load(huge) }
        let binary = TCGEventLog(events: Array(repeating: BootLog.synthetic().events[4], count: BootLog.maxEvents + 1))
        #expect(throws: EventLogError.self) { try BootLog.load(binary.encoded()) }
    }

    @Test("issue 24: rtmr 1e300 is named as a number out of range, a key twice as a key twice")
    func numberAndDuplicateMessages() throws {
        for (json, expected) in [
            (#"{"events": [{"rtmr": 1e300, "type": "EV_IPL"}]}"#, "rtmr"),
            (#"{"events": [{"rtmr": 0, "rtmr": 1, "type": "EV_IPL"}]}"#, "the key \"rtmr\" a second time"),
        ] {
            #expect(throws: EventLogError.self) { try BootLog.load(Array(json.utf8)) }
            do {
                _ = try BootLog.load(Array(json.utf8))
            } catch {
                #expect(error.description.contains(expected), "\(error)")
                #expect(!error.description.contains("was not valid JSON"), "\(error)")
            }
        }
    }

    @Test func loadsABinaryLogAreaAsARealTDServesIt() throws {
        let log = try Samples.log()
        let area = try CCELTable().logArea(log.encoded())
        #expect(try BootLog.load(area) == log)
        #expect(throws: EventLogError.self) { try BootLog.load(Array("not a log".utf8)) }
    }

    @Test func textRendering() throws {
        let log = try MeasurementLog()
        try log.recordExtend(rtmr: 2, data: sha384([1]), event: Array("app v1".utf8))
        let lines = EventLogText.lines(boot: log.boot, runtime: log.runtime.events())
        #expect(lines.count == 1 + log.boot.events.count + 1)
        #expect(lines[0].contains("Spec ID Event03"))
        #expect(
            lines.contains {
                $0.contains("EV_EFI_ACTION") && $0.contains("\"Calling EFI Application from Boot Option\"")
            })
        #expect(
            lines.last?.hasPrefix("runtime  0  rtmr2  EV_EVENT_TAG  \(Hex.encode(sha384([1])))  tag TSMF \"app v1\"")
                == true)
        let replay = EventLogText.replayLines(log.replay())
        #expect(replay.count == 4 && replay[3] == "rtmr3: " + String(repeating: "0", count: 96))
    }
}
