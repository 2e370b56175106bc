import Synchronization
import SystemPackage
import Testing
import TSMBackends
import TSMControl
import TSMModel
import TSMGuest
import TSMGuests

@Suite("Control dispatch against a running model")
struct ControlDispatcherTests {
    let tdx: MeasurementProvider
    let recorder = Recorder()

    /// What the dispatcher called back.
    final class Recorder: Sendable {
        let reboots = Mutex(0)
        let logged = Mutex<[String]>([])
    }

    init() throws {
        tdx = try MeasurementProvider(TDXGuest.provider, backend: SoftwareBackend())
    }

    func dispatcher(faults: FaultInjector? = nil, dropped: Int = 0) -> ControlDispatcher {
        let recorder = self.recorder
        return ControlDispatcher(
            operations: Operations(providers: [tdx], faults: faults),
            onReboot: {
                recorder.reboots.withLock { $0 += 1 }
                return dropped
            }, log: { line in recorder.logged.withLock { $0.append(line) } })
    }

    func value(_ name: String) throws -> [UInt8] {
        let index = try #require(tdx.table.indexByName[name])
        return try tdx.read(index, offset: 0, count: 4096)
    }

    @Test("set changes the value and logs it")
    func set() throws {
        let value = (0..<48).map { UInt8($0) }
        let hex = value.map { String($0, radix: 16) }.map { $0.count == 1 ? "0" + $0 : $0 }.joined()
        #expect(dispatcher().reply(to: "set tdx/mrconfigid \(hex)") == .ok())
        #expect(try self.value("mrconfigid") == value)
        #expect(recorder.logged.withLock { $0 } == ["ctl: set tdx/mrconfigid"])
    }

    @Test(
        "a missing register, bad hex or a wrong size is an error reply, and nothing changes",
        arguments: [
            ("set tdx/nope 00", "error: no register tdx/nope (give PROVIDER/REGISTER, e.g. tdx/mrconfigid)\n"),
            (
                "set nope/mrconfigid 00",
                "error: no register nope/mrconfigid (give PROVIDER/REGISTER, e.g. tdx/mrconfigid)\n"
            ),
            (
                "set tdxmrconfigid 00",
                "error: no register tdxmrconfigid (give PROVIDER/REGISTER, e.g. tdx/mrconfigid)\n"
            ),
            ("set tdx/mrconfigid zz", "error: zz is not hex\n"),
            ("set tdx/mrconfigid 0", "error: 0 is not hex\n"),
            ("set tdx/mrconfigid 00", "error: tdx/mrconfigid holds 48 bytes, not 1\n"),
        ])
    func badSet(line: String, reply: String) throws {
        let before = try value("mrconfigid")
        #expect(dispatcher().reply(to: line).text == reply)
        #expect(try value("mrconfigid") == before)
        #expect(recorder.logged.withLock { $0 } == [])
    }

    @Test("reboot resets an extended RTMR, keeps launch values, and calls onReboot once")
    func reboot() throws {
        let boot = try value("rtmr2"), mrtd = try value("mrtd")
        let index = try #require(tdx.table.indexByName["rtmr2"])
        let data = [UInt8](repeating: 1, count: 48)
        #expect(try data.withUnsafeBytes { try tdx.write(index, offset: 0, data: $0) } == 48)
        #expect(try value("rtmr2") != boot)
        #expect(dispatcher(dropped: 3).reply(to: "reboot").text == "ok: rebooted; 3 report entries removed\n")
        #expect(try value("rtmr2") == boot)
        #expect(try value("mrtd") == mrtd)
        #expect(recorder.reboots.withLock { $0 } == 1)
        #expect(recorder.logged.withLock { $0 } == ["ctl: reboot (3 report entries removed)"])
    }

    @Test("what reboots beside the registers runs after them, each once; a failure is the reply, entries dropped")
    func alongside() throws {
        let calls = Mutex<[String]>([])
        let index = try #require(tdx.table.indexByName["rtmr2"])
        let boot = try value("rtmr2")
        let operations = Operations(
            providers: [tdx],
            alongside: [
                { calls.withLock { $0.append("vtpm") } },
                {
                    calls.withLock { $0.append("broken") }
                    throw RebootFailure("the vTPM did not reboot: swtpm died (exit status 137)")
                },
                { calls.withLock { $0.append("third") } },
            ])
        let recorder = self.recorder
        let control = ControlDispatcher(
            operations: operations,
            onReboot: {
                recorder.reboots.withLock { $0 += 1 }
                return 2
            }, log: { line in recorder.logged.withLock { $0.append(line) } })
        let data = [UInt8](repeating: 1, count: 48)
        #expect(try data.withUnsafeBytes { try tdx.write(index, offset: 0, data: $0) } == 48)
        #expect(
            control.reply(to: "reboot").text
                == "error: rebooted; 2 report entries removed; but the vTPM did not reboot: "
                + "swtpm died (exit status 137)\n"
        )
        #expect(try value("rtmr2") == boot, "the registers rebooted first")
        #expect(calls.withLock { $0 } == ["vtpm", "broken", "third"])
        #expect(recorder.reboots.withLock { $0 } == 1)
        // A recorded reboot replayed at start reboots the registers only.
        try operations.reboot(record: false, alongside: false)
        #expect(calls.withLock { $0 }.count == 3)
    }

    @Test("faults: listed one a line with count and skip, `all` for every one; cleared")
    func faults() throws {
        let injector = FaultInjector(measured: try RegisterTable(validating: TDXGuest.provider)) { _ in }
        let control = dispatcher(faults: injector)
        #expect(control.reply(to: "faults").text == "ok: 0 armed\n")
        #expect(control.reply(to: "fault extend@rtmr2:EBUSY:all") == .ok())
        #expect(control.reply(to: "fault outblob:2:+1") == .ok())
        #expect(injector.armed.count == 2)
        #expect(
            control.reply(to: "faults").text == """
                extend@rtmr2 \(Errno.resourceBusy) count all skip 0
                outblob \(Errno.ioError) count 2 skip 1
                ok: 2 armed

                """)
        #expect(control.reply(to: "faults clear") == .ok())
        #expect(injector.armed.isEmpty)
        #expect(recorder.logged.withLock { $0 } == ["ctl: faults cleared"])
        #expect(control.reply(to: "fault nonsense").text.hasPrefix("error: not a fault: nonsense ("))
        #expect(
            control.reply(to: "fault extend@rtmr9").text.hasPrefix("error: extend@rtmr9: no such extensible register"))
        #expect(
            control.reply(to: "fault outblob@rtmr2").text
                == "error: outblob@rtmr2: only extend faults take a register\n")
        #expect(injector.armed.isEmpty)
    }

    @Test(
        "without a fault injector every fault request says it needs a sysroot",
        arguments: [
            "faults", "faults clear", "fault extend", "fault nonsense",
        ])
    func noFaults(line: String) {
        #expect(dispatcher().reply(to: line).text == "error: fault injection needs a --sysroot mount\n")
    }

    @Test("parse errors become error replies; reboot is not called", arguments: ["", "bogus", "reboot now"])
    func parseErrors(line: String) {
        let reply = dispatcher().reply(to: line)
        #expect(!reply.isOK)
        #expect(reply.text.hasPrefix("error: ") && reply.text.hasSuffix("\n"))
        #expect(recorder.reboots.withLock { $0 } == 0)
    }
}
