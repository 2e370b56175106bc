import Testing
import TSMBackends
import TSMControl

@Suite("Control requests: one line, parsed")
struct ControlRequestTests {
    @Test(
        "every command, extra spaces included",
        arguments: [
            ("set tdx/mrconfigid 00ff", ControlRequest.set(register: "tdx/mrconfigid", hex: "00ff")),
            ("  set   tdx/rtmr0   ab  ", .set(register: "tdx/rtmr0", hex: "ab")),
            ("reboot", .reboot),
            ("faults", .listFaults),
            ("faults clear", .clearFaults),
            (
                "fault extend@rtmr2:EIO:all",
                .fault(FaultSpec(kind: .extend, errno: .ioError, count: Int.max, register: "rtmr2"))
            ),
            ("fault outblob", .fault(FaultSpec(kind: .outblob))),
        ])
    func parses(line: String, expected: ControlRequest) throws {
        #expect(try ControlRequest(parsing: line) == expected)
    }

    @Test(
        "wrong arity and unknown commands are refused, naming the whole line",
        arguments: [
            "set", "set tdx/mrconfigid", "set a b c", "reboot now", "faults clear now", "faults reset", "fault",
            "fault a b", "bogus", "SET tdx/x 00", "Reboot",
        ])
    func unknown(line: String) {
        #expect(throws: ControlRequest.ParseError.unknown(line)) { try ControlRequest(parsing: line) }
    }

    @Test("an empty line, and a fault spec that does not parse")
    func otherRefusals() {
        for line in ["", " ", "     "] {
            #expect(throws: ControlRequest.ParseError.empty) { try ControlRequest(parsing: line) }
        }
        for spec in ["nonsense", "extend:EWHAT", "extend@", "outblob:0"] {
            #expect(throws: ControlRequest.ParseError.notAFault(spec)) { try ControlRequest(parsing: "fault \(spec)") }
        }
    }

    @Test("the refusals read as the socket has always answered them")
    func messages() {
        #expect(
            ControlRequest.ParseError.empty.description == "empty request; commands: set, extend, reboot, faults, fault"
        )
        #expect(
            ControlRequest.ParseError.unknown("x y").description
                == """
                unknown request 'x y'; commands: set PROVIDER/REGISTER HEX, extend PROVIDER/REGISTER HEX [EVENT], \
                reboot, faults [clear], fault SPEC
                """
        )
        #expect(
            ControlRequest.ParseError.notAFault("z").description
                == """
                not a fault: z (KIND[@REGISTER][:ERRNO][:COUNT|all][:+SKIP], KIND outblob, generation, extend, \
                mkdir or empty)
                """
        )
    }

    @Test("replies: information lines, then one status line")
    func replies() {
        #expect(ControlReply.ok().text == "ok\n")
        #expect(ControlReply.ok(detail: "3 armed").text == "ok: 3 armed\n")
        #expect(ControlReply.ok(lines: ["a", "b"], detail: "2 armed").text == "a\nb\nok: 2 armed\n")
        #expect(ControlReply.error("no").text == "error: no\n")
        #expect(ControlReply.ok().isOK && !ControlReply.error("no").isOK)
    }
}

@Suite("Control requests: extend")
struct ControlExtendRequestTests {
    @Test("extend takes the register, the digest and the rest of the line as the event, spaces kept")
    func extend() throws {
        #expect(
            try ControlRequest(parsing: "extend tdx/rtmr2 00ff")
                == .extend(register: "tdx/rtmr2", hex: "00ff", event: ""))
        #expect(
            try ControlRequest(parsing: "extend tdx/rtmr2 00ff my app  v1")
                == .extend(register: "tdx/rtmr2", hex: "00ff", event: "my app  v1"))
        #expect(throws: ControlRequest.ParseError.unknown("extend tdx/rtmr2")) {
            try ControlRequest(parsing: "extend tdx/rtmr2")
        }
    }
}
