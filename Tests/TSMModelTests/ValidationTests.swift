import Testing
import TSMModel

@Suite("Register table validation (registration rules)")
struct ValidationTests {
    static func provider(_ registers: [RegisterDescriptor], name: String = "p") -> ProviderDescriptor {
        ProviderDescriptor(name: name, registers: registers)
    }

    static let ok = RegisterDescriptor(name: "ok", hash: .sha256, flags: [.readable])

    static let cases: [(String, ProviderDescriptor, RegistrationError.Rule)] = [
        ("empty provider name", provider([ok], name: ""), .emptyProviderName),
        ("slash in provider name", provider([ok], name: "a/b"), .badProviderName),
        ("dot provider name", provider([ok], name: ".."), .badProviderName),
        ("no registers", provider([]), .noRegisters),
        (
            "empty register name", provider([RegisterDescriptor(name: "", hash: .sha256, flags: [.readable])]),
            .emptyRegisterName
        ),
        (
            "slash in register name", provider([RegisterDescriptor(name: "a/b", hash: .sha256, flags: [.readable])]),
            .badRegisterName
        ),
        (
            "dot register name", provider([RegisterDescriptor(name: ".", hash: .sha256, flags: [.readable])]),
            .badRegisterName
        ),
        ("duplicate register", provider([ok, ok]), .duplicateRegister),
        (
            "directory without hash", provider([RegisterDescriptor(name: "r", hash: nil, size: 8, flags: [.readable])]),
            .missingHash
        ),
        (
            "X without hash",
            provider([RegisterDescriptor(name: "r", hash: nil, size: 8, flags: [.readable, .file, .extensible])]),
            .extensibleWithoutHash
        ),
        (
            "size not matching hash",
            provider([RegisterDescriptor(name: "r", hash: .sha384, size: 47, flags: [.readable])]),
            .sizeMismatch(.sha384, size: 47)
        ),
        (
            "zero size", provider([RegisterDescriptor(name: "r", hash: nil, size: 0, flags: [.readable, .file])]),
            .badSize(0)
        ),
        (
            "size over a page",
            provider([RegisterDescriptor(name: "r", hash: nil, size: 4097, flags: [.readable, .file])]), .badSize(4097)
        ),
        (
            "initial too long",
            provider([
                RegisterDescriptor(
                    name: "r", hash: .sha256, flags: [.readable], initial: [UInt8](repeating: 1, count: 33))
            ]), .initialTooLong(bytes: 33, size: 32)
        ),
        (
            "derived but not live",
            provider([
                ok,
                RegisterDescriptor(
                    name: "d", hash: .sha256, flags: [.readable], derivation: .digest(.sha256, of: ["ok"])),
            ]), .derivationNeedsLive
        ),
        (
            "unknown input",
            provider([
                RegisterDescriptor(
                    name: "d", hash: .sha256, flags: .liveReadable, derivation: .digest(.sha256, of: ["nope"]))
            ]), .unknownInput("nope")
        ),
        (
            "digest size mismatch",
            provider([
                ok,
                RegisterDescriptor(
                    name: "d", hash: .sha256, flags: .liveReadable, derivation: .digest(.sha512, of: ["ok"])),
            ]), .sizeMismatch(.sha512, size: 32)
        ),
        (
            "layout field out of range",
            provider([
                ok,
                RegisterDescriptor(
                    name: "d", hash: nil, size: 40, flags: [.readable, .live, .file],
                    derivation: .layout([.register("ok", at: 16)])),
            ]), .fieldOutOfRange(offset: 16, length: 32, size: 40)
        ),
        (
            "negative layout offset",
            provider([
                RegisterDescriptor(
                    name: "d", hash: nil, size: 40, flags: [.readable, .live, .file],
                    derivation: .layout([.bytes([1], at: -1)]))
            ]), .fieldOutOfRange(offset: -1, length: 1, size: 40)
        ),
        (
            "cycle",
            provider([
                RegisterDescriptor(
                    name: "a", hash: .sha256, flags: .liveReadable, derivation: .digest(.sha256, of: ["b"])),
                RegisterDescriptor(
                    name: "b", hash: .sha256, flags: .liveReadable, derivation: .digest(.sha256, of: ["a"])),
            ]), .derivationCycle(["a", "b", "a"])
        ),
        (
            "self reference",
            provider([
                RegisterDescriptor(
                    name: "a", hash: .sha256, flags: .liveReadable, derivation: .digest(.sha256, of: ["a"]))
            ]), .derivationCycle(["a", "a"])
        ),
    ]

    @Test("each rule refuses its table", arguments: cases.indices)
    func refuses(index: Int) {
        let (label, descriptor, rule) = Self.cases[index]
        #expect(throws: RegistrationError.self, "\(label)") { try RegisterTable(validating: descriptor) }
        do {
            _ = try RegisterTable(validating: descriptor)
        } catch {
            #expect(error.rule == rule, "\(label)")
            #expect(error.provider == descriptor.name)
            #expect(error.description.contains("provider '\(descriptor.name)'"))
        }
    }
}
