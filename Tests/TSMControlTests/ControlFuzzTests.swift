import Glibc
import TSMBackends
import TSMControl
import TSMGuests
import TSMModel
import TestSupport
import Testing

/// Control lines a client of the socket may send, mutated: words swapped, dropped, repeated,
/// replaced by junk (hex of odd lengths, huge numbers, control characters, non-UTF-8 bytes read
/// as text). Every line gets one reply (information lines, then one status line: ok or error) and
/// a refused request changes no register. Seeded; `TSMFS_FUZZ_SCALE=N` multiplies the budget.
@Suite("control lines, fuzzed")
struct ControlFuzzTests {
    static let seeds: [String] = [
        "set tdx/rtmr2 " + String(repeating: "ab", count: 48),
        "extend tdx/rtmr3 " + String(repeating: "01", count: 48) + " an event",
        "reboot", "faults", "faults clear", "fault extend@rtmr2:EIO:all", "fault outblob:EBUSY:2:+1",
        "set tdx/mrtd 00", "extend tdx/report0 00",
    ]
    static let junk: [String] = [
        "", " ", "\t", "set", "extend", "tdx/", "/", "tdx/rtmr9", "../tdx/rtmr2", "0", "0x", "zz",
        String(repeating: "f", count: 97), String(repeating: "00", count: 4096), "\u{0}", "\u{7f}", "é",
        "\u{FFFD}", "18446744073709551616", "-1", "extend@", ":", "::", "+", "all", "EIO:", "fault",
    ]

    @Test("every mutated line gets one reply ending in its status; a refused one changes no register")
    func lines() throws {
        let scale = Int(getenv("TSMFS_FUZZ_SCALE").map { String(cString: $0) } ?? "") ?? 1
        let tdx = try MeasurementProvider(TDXGuest.provider, backend: SoftwareBackend())
        let dispatcher = ControlDispatcher(
            operations: Operations(providers: [tdx], faults: FaultInjector(measured: tdx.table, log: { _ in })),
            onReboot: { 0 }, log: { _ in })
        var random = SeededGenerator(seed: 2026)
        var accepted = 0
        for _ in 0..<(2000 * scale) {
            var words = random.pick(Self.seeds).split(separator: " ").map(String.init)
            for _ in 0...random.below(3) {
                switch random.below(5) {
                case 0 where !words.isEmpty: words.remove(at: random.below(words.count))
                case 1: words.insert(random.pick(Self.junk), at: random.below(words.count + 1))
                case 2 where !words.isEmpty: words[random.below(words.count)] = random.pick(Self.junk)
                case 3 where !words.isEmpty: words.append(words[random.below(words.count)])
                default: words.shuffle(using: &random)
                }
            }
            let line = words.joined(separator: random.chance(20) ? "  " : " ")
            let before = tdx.snapshot().values
            let reply = dispatcher.reply(to: line)
            let text = reply.text
            // Information lines (a fault list), then one status line, every line ended.
            let status = text.split(separator: "\n", omittingEmptySubsequences: false).dropLast().last ?? ""
            #expect(text.hasSuffix("\n"), "\(line): \(text)")
            #expect(status == "ok" || status.hasPrefix("ok: ") || status.hasPrefix("error: "), "\(line): \(text)")
            #expect(!reply.isOK || !text.contains("error: "), "\(line): \(text)")
            if !reply.isOK {
                #expect(tdx.snapshot().values == before || line.hasPrefix("reboot"), "refused but changed: \(line)")
            } else {
                accepted += 1
            }
        }
        #expect(accepted > 0)
    }
}
