import Crypto
import Foundation
import Testing
import TSMBackends
import TSMModel
import TestSupport
import TSMGuest
import TSMGuests

/// The fuzz budget: `TSMFS_FUZZ_SCALE=N` multiplies it for a longer run.
let fuzzScale: Int = ProcessInfo.processInfo.environment["TSMFS_FUZZ_SCALE"].flatMap { Int($0) }.map { max($0, 1) } ?? 1

@Suite("Fuzz: config parser and register write path")
struct FuzzTests {
    /// Every built-in provider as its own config (small inputs mutate faster), all of them as
    /// one, and a hand-written config with every field form.
    static let seedConfigs: [[UInt8]] =
        Guests.catalogue.providerCatalogue.map { Array(ProviderConfig.encode([$0]).utf8) } + [
            Array(ProviderConfig.encode(Guests.catalogue.providerCatalogue).utf8),
            Array(
                #"""
                {"providers": [{"name": "demo", "registers": [
                  {"name": "a", "hash": "sha384", "flags": "RWXL"},
                  {"name": "b", "hash": "sha256", "flags": ["R", "W"], "initial": "00ff"},
                  {"name": "c", "hash": "sha512", "flags": 13},
                  {"name": "d", "size": 48, "flags": "RLF", "derive": {"layout": [{"offset": 0, "hex": "aa"}, \#
                {"offset": 8, "register": "b"}]}},
                  {"name": "e", "hash": "sha256", "flags": "RL", "derive": {"digest": {"hash": "sha256", "of": ["a", \#
                "b", "d"]}}}
                ]}]}
                """#.utf8),
        ]

    @Test("random and mutated configs: accepted tables validate and serve, refusals name the file and say why")
    func configParser() throws {
        var mutator = ConfigMutator(random: SeededGenerator(seed: 0x7357_C0F1), seeds: Self.seedConfigs)
        let budget = 4000 * fuzzScale
        var accepted = 0, refusedAsJSON = 0, refusedBySchema = 0, refusedByRule = 0, registersServed = 0
        let clock = ContinuousClock()
        let started = clock.now
        for iteration in 0..<budget {
            let input = mutator.next()
            do {
                let descriptors = try ProviderConfig.decode(input, file: "fuzz.json")
                accepted += 1
                for descriptor in descriptors {
                    let provider = try MeasurementProvider(descriptor, backend: SoftwareBackend())
                    for (index, register) in descriptor.registers.enumerated() where register.flags.contains(.readable)
                    {
                        #expect(
                            try provider.read(index, offset: 0, count: 4096).count == register.size,
                            "input \(iteration)")
                        registersServed += 1
                    }
                }
                // What was accepted is written back as a config that reads the same.
                #expect(
                    try ProviderConfig.decode(Array(ProviderConfig.encode(descriptors).utf8), file: "again.json")
                        == descriptors,
                    "input \(iteration) does not round-trip")
            } catch let error as ConfigError {
                #expect(!error.message.isEmpty, "input \(iteration): empty message")
                #expect(
                    error.file == "fuzz.json" && error.description.hasPrefix("fuzz.json: "),
                    "input \(iteration): \(error)")
                // The syntax check must find every error Foundation's parser finds, with a position.
                #expect(!error.message.contains("was not valid JSON"), "input \(iteration): no position: \(error)")
                if error.message.hasPrefix("not valid JSON at line ") {
                    refusedAsJSON += 1
                } else if !error.message.hasPrefix("not a valid provider config") {
                    refusedByRule += 1
                } else if error.message.contains(" at .") || error.message.contains("missing key") {
                    refusedBySchema += 1
                } else {
                    refusedAsJSON += 1
                }
            }
        }
        print(
            "fuzz: \(budget) configs: \(accepted) accepted (\(registersServed) registers read), "
                + """
                \(refusedByRule) refused by a rule, \(refusedBySchema) by the schema, \(refusedAsJSON) as JSON, \
                in \(clock.now - started)
                """
        )
        // The mutations reach every outcome, or the fuzzer only tests the JSON parser.
        #expect(accepted > budget / 50)
        #expect(refusedByRule > budget / 20)
        #expect(refusedBySchema > budget / 20)
        #expect(refusedAsJSON > budget / 20)
    }

    /// Found by ``configParser()``: `offset + length` overflowed in validation and trapped, so
    /// `tsmfs mount --config` died with SIGILL instead of naming the field.
    @Test("a layout offset near Int.max is refused, not an overflow trap")
    func layoutOffsetOverflow() {
        let text =
            #"{"providers":[{"name":"p","registers":[{"name":"d","size":8,"flags":"RLF","derive":"#
            + #"{"layout":[{"offset":9223372036854775807,"hex":"aa"}]}}]}]}"#
        #expect(throws: ConfigError.self) { try ProviderConfig.decode(Array(text.utf8), file: "overflow.json") }
        do {
            _ = try ProviderConfig.decode(Array(text.utf8), file: "overflow.json")
        } catch {
            #expect(
                error.description.contains(
                    "layout field at offset 9223372036854775807 of 1 bytes does not fit in 8 bytes"), "\(error)")
        }
    }

    @Test("random reads, writes and extends against a reference model of ABI.md 1, 2.5 and 2.6")
    func registerWritePath() throws {
        var random = SeededGenerator(seed: 0xD1CE_5EED)
        var descriptors = Guests.catalogue.providerCatalogue
        // Plus random tables: every flag combination the rules allow, derived registers included.
        for number in 0..<(30 * fuzzScale) {
            if let descriptor = randomProvider(&random, name: "random\(number)") { descriptors.append(descriptor) }
        }
        var operations = 0, valid = 0, refreshes = 0
        for descriptor in descriptors {
            let provider = try MeasurementProvider(descriptor, backend: SoftwareBackend())
            var model = ReferenceProvider(descriptor)
            for step in 0..<(1000 * fuzzScale) {
                operations += 1
                let index = random.below(descriptor.registers.count)
                let size = descriptor.registers[index].size
                let offset: Int64 = random.pick([
                    0, 0, 0, 1, Int64(size - 1), Int64(size), Int64(size + 1), Int64(random.below(2 * size)),
                    -1, Int64.min, Int64.max, 1 << 40,
                ])
                let label = "\(descriptor.name) step \(step): register \(descriptor.registers[index].name)"
                switch random.below(10) {
                case 0...3:
                    let count = random.pick([
                        0, 1, size - 1, size, size, size, size + 1, 4096, 4097, 65536, random.below(5000),
                    ])
                    let data = random.bytes(count)
                    let extend = random.chance(20)
                    let result = data.withUnsafeBytes { buffer -> Result<Int, MRError> in
                        do throws(MRError) {
                            return .success(
                                extend
                                    ? try provider.extend(index, offset: offset, data: buffer)
                                    : try provider.write(index, offset: offset, data: buffer))
                        } catch {
                            return .failure(error)
                        }
                    }
                    let expected = model.write(index, offset: offset, data: data, extendAlways: extend)
                    if result != expected {
                        Issue.record(
                            """
                            \(label): \(extend ? "extend" : "write") \(count) at \(offset): \(result), want \
                            \(expected)
                            """
                        )
                    }
                    if case .success(let n) = expected, n > 0 { valid += 1 }
                default:
                    let count = random.pick([0, 1, size - 1, size, size + 1, 4096, 65536, -1, random.below(2 * size)])
                    let result = Result { () throws(MRError) -> [UInt8] in
                        try provider.read(index, offset: offset, count: count)
                    }
                    let expected = model.read(index, offset: offset, count: count)
                    if result != expected {
                        Issue.record("\(label): read \(count) at \(offset): \(result), want \(expected)")
                    }
                }
                if provider.refreshCount != model.refreshCount || provider.inSync != model.inSync {
                    Issue.record(
                        """
                        \(label): refresh timing: \(provider.refreshCount) refreshes, in sync \(provider.inSync); \
                        want \(model.refreshCount), \(model.inSync)
                        """
                    )
                }
                if step % 50 == 0 {
                    #expect(provider.snapshot().values == model.values, "\(label): values")
                }
            }
            refreshes += model.refreshCount
        }
        print(
            """
            fuzz: \(operations) register operations on \(descriptors.count) providers: \(valid) valid writes, \
            \(refreshes) refreshes
            """
        )
        #expect(valid > operations / 50)
        #expect(refreshes > descriptors.count)
    }

    /// A random provider table, or nil when the rules refuse it (the reference does not judge
    /// validity: that is the validation tests' job).
    func randomProvider(_ random: inout SeededGenerator, name: String) -> ProviderDescriptor? {
        var registers: [RegisterDescriptor] = []
        for number in 0..<(1 + random.below(7)) {
            let hash: HashAlgorithm? = random.chance(80) ? random.pick(HashAlgorithm.allCases) : nil
            var flags = RegisterFlags(rawValue: UInt32(random.below(32)))
            if hash == nil { flags.insert(.file); flags.remove(.extensible) }
            let size = hash?.digestSize ?? (1 + random.below(300))
            var derivation: Derivation?
            if !registers.isEmpty, random.chance(30) {
                flags.insert(.live)
                let inputs = registers.map(\.name).filter { _ in random.chance(60) }
                if let hash, random.chance(50) {
                    derivation = .digest(hash, of: inputs)
                } else {
                    var offset = 0
                    var fields: [LayoutField] = []
                    for input in inputs {
                        guard let inputSize = registers.first(where: { $0.name == input })?.size,
                            offset + inputSize <= size
                        else { break }
                        fields.append(.register(input, at: offset))
                        offset += inputSize
                    }
                    if offset < size {
                        let constant = random.bytes(min(4, size - offset))
                        fields.append(.bytes(constant, at: offset))
                        offset += constant.count
                    }
                    // A hash or MAC (32 bytes each) of everything laid before it.
                    if offset + 32 <= size, random.chance(50) {
                        fields.append(
                            random.chance(50)
                                ? .mac(of: 0..<offset, at: offset) : .digest(.sha256, of: 0..<offset, at: offset))
                    }
                    derivation = .layout(fields)
                }
            }
            registers.append(
                RegisterDescriptor(
                    name: "r\(number)", hash: hash, size: size, flags: flags,
                    initial: random.bytes(random.below(size + 1)), derivation: derivation))
        }
        let descriptor = ProviderDescriptor(name: name, registers: registers)
        return (try? RegisterTable(validating: descriptor)) == nil ? nil : descriptor
    }
}
