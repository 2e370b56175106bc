import SystemPackage
import Testing
import TSMBackends
import TSMModel
import TSMGuest
import TSMGuests

@Suite("Fault specs (--inject-fault, tsmfs ctl fault)")
struct FaultSpecTests {
    @Test("well-formed specs")
    func parses() throws {
        let spec = try #require(FaultSpec(parsing: "extend@rtmr2:EBUSY:all:+1"))
        #expect(spec.kind == .extend && spec.register == "rtmr2" && spec.errno == .resourceBusy)
        #expect(spec.count == Int.max && spec.skip == 1)
        #expect(FaultSpec(parsing: "mkdir:ENXIO")?.errno == .noSuchAddressOrDevice)
        #expect(FaultSpec(parsing: "empty")?.count == 1)
    }

    @Test(
        "hostile input is refused, never a crash",
        arguments: [
            "", ":", "@", "@rtmr0", "extend@", "extend@:EIO", "nope", "extend:EWHAT", "extend:0", "extend:-1",
            "extend:1:2:3:4", "outblob:+x", "::::", "extend@a@b",
        ])
    func refuses(text: String) {
        let spec = FaultSpec(parsing: text)
        if text == "extend@a@b" {
            #expect(spec?.register == "a@b")  // the register part is taken whole
        } else {
            #expect(spec == nil, "\(text)")
        }
    }

    static func tdxTable() throws -> RegisterTable { try RegisterTable(validating: TDXGuest.provider) }

    @Test("a register-bound fault fires only for that register, and all means all")
    func targeting() throws {
        let table = try Self.tdxTable()
        let rtmr1 = try #require(table.indexByName["rtmr1"]), rtmr2 = try #require(table.indexByName["rtmr2"])
        let injector = FaultInjector(measured: table) { _ in }
        try injector.add(FaultSpec(kind: .extend, errno: .ioError, count: Int.max, register: "rtmr2"))
        #expect(injector.take(.extend, register: rtmr1, at: "tdx/rtmr1") == nil)
        for _ in 0..<5 { #expect(injector.take(.extend, register: rtmr2, at: "tdx/rtmr2")?.errno == .ioError) }
        injector.clear()
        #expect(injector.take(.extend, register: rtmr2, at: "tdx/rtmr2") == nil)
    }

    @Test(
        """
        a register target is refused where it means nothing: another kind, a missing or non-extending register, a \
        guest without extends
        """
    )
    func refusedTargets() throws {
        let injector = FaultInjector(measured: try Self.tdxTable()) { _ in }
        #expect(throws: FaultError.registerOnKind(.outblob, register: "rtmr2")) {
            try injector.add(FaultSpec(kind: .outblob, register: "rtmr2"))
        }
        #expect(throws: FaultError.unknownRegister("rtmr9", known: ["rtmr0", "rtmr1", "rtmr2", "rtmr3"])) {
            try injector.add(FaultSpec(kind: .extend, register: "rtmr9"))
        }
        #expect(throws: FaultError.unknownRegister("mrtd", known: ["rtmr0", "rtmr1", "rtmr2", "rtmr3"])) {
            try injector.add(FaultSpec(kind: .extend, register: "mrtd"))
        }
        #expect(throws: FaultError.nothingToExtend) {
            try FaultInjector(measured: nil) { _ in }.add(FaultSpec(kind: .extend))
        }
        #expect(injector.isEmpty)
    }
}
