import SystemPackage
import Testing
import TSMBackends

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

    @Test("hostile input is refused, never a crash", arguments: [
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

    @Test("a register-bound fault fires only for that register, and all means all")
    func targeting() {
        let injector = FaultInjector([FaultSpec(kind: .extend, errno: .ioError, count: Int.max, register: "rtmr2")]) { _ in }
        #expect(injector.take(.extend, at: "tdx/rtmr1") == nil)
        for _ in 0..<5 { #expect(injector.take(.extend, at: "tdx/rtmr2")?.errno == .ioError) }
        injector.clear()
        #expect(injector.take(.extend, at: "tdx/rtmr2") == nil)
    }
}
