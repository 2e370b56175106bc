import Crypto
import Foundation
import Testing
import TSMBackends
import TSMModel

/// A small seeded generator (SplitMix64): a failing run repeats with the same seed.
struct SeededGenerator: RandomNumberGenerator {
    private var state: UInt64
    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    mutating func below(_ bound: Int) -> Int { bound <= 0 ? 0 : Int(next() % UInt64(bound)) }
    mutating func chance(_ percent: Int) -> Bool { below(100) < percent }
    mutating func pick<T>(_ items: [T]) -> T { items[below(items.count)] }
    mutating func bytes(_ count: Int) -> [UInt8] {
        var result = [UInt8]()
        result.reserveCapacity(count + 8)
        while result.count < count {
            withUnsafeBytes(of: next()) { result.append(contentsOf: $0) }
        }
        return Array(result.prefix(count))
    }
}

/// The fuzz budget: `TSMFS_FUZZ_SCALE=N` multiplies it for a longer run.
let fuzzScale: Int = ProcessInfo.processInfo.environment["TSMFS_FUZZ_SCALE"].flatMap { Int($0) }.map { max($0, 1) } ?? 1

// MARK: - The config parser

/// Mutations of valid configs, from bytes up to the JSON structure, and plain random bytes.
struct ConfigMutator {
    var random: SeededGenerator
    let seeds: [[UInt8]]

    static let edgeNumbers = ["0", "-1", "1", "31", "32", "48", "64", "4095", "4096", "4097", "65536", "2147483648",
                              "9223372036854775807", "-9223372036854775808", "18446744073709551616", "1e400", "1.5", "-0", "013"]
    static let edgeStrings = ["", ".", "..", "a/b", "\\u0000", "sha256", "sha384", "sha512", "sha3-256", "RWXLF", "RWX", "F", "Q",
                              "00", "0", "zz", "abc", "\\ud800", String(repeating: "ab", count: 5000), "rtmr0", "static_mr", "reportdata"]
    static let keys = ["providers", "name", "registers", "hash", "size", "flags", "initial", "derive", "digest", "layout",
                       "offset", "register", "hex", "of"]

    mutating func next() -> [UInt8] {
        if random.chance(5) { return random.bytes(random.below(300)) }
        var input = random.pick(seeds)
        // Mostly changes that keep the JSON well-formed, so that the rules behind the parser run.
        for _ in 0...random.below(3) {
            switch random.below(10) {
            case 0...4: input = structural(input)
            case 5...7: input = token(input)
            default: input = bytewise(input)
            }
        }
        return input
    }

    /// Flip, set, insert, delete, duplicate or cut bytes.
    mutating func bytewise(_ input: [UInt8]) -> [UInt8] {
        var bytes = input
        guard !bytes.isEmpty else { return random.bytes(8) }
        let at = random.below(bytes.count)
        switch random.below(6) {
        case 0: bytes[at] ^= UInt8(1) << UInt8(random.below(8))
        case 1: bytes[at] = random.pick(Array("{}[]\",:-0123456789eE.\\ ntrufals".utf8) + [0, 0xFF])
        case 2: bytes.insert(contentsOf: random.bytes(1 + random.below(4)), at: at)
        case 3: bytes.removeSubrange(at..<min(bytes.count, at + 1 + random.below(16)))
        case 4:
            let end = min(bytes.count, at + 1 + random.below(64))
            bytes.insert(contentsOf: bytes[at..<end], at: random.below(bytes.count))
        default: bytes.removeSubrange(at...)
        }
        return bytes
    }

    /// Replace one number or one string literal with an edge value.
    mutating func token(_ input: [UInt8]) -> [UInt8] {
        let text = String(decoding: input, as: UTF8.self)
        let numbers = text.ranges(of: /-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?/)
        let strings = text.ranges(of: /"(?:[^"\\]|\\.)*"/)
        var result = text
        if random.chance(50), !numbers.isEmpty {
            result.replaceSubrange(random.pick(numbers), with: random.pick(Self.edgeNumbers))
        } else if !strings.isEmpty {
            result.replaceSubrange(random.pick(strings), with: "\"" + random.pick(Self.edgeStrings) + "\"")
        }
        return Array(result.utf8)
    }

    /// Parse, change one node of the tree (drop a key, swap a type, duplicate or drop an array
    /// element, add a key), and write it back.
    mutating func structural(_ input: [UInt8]) -> [UInt8] {
        guard var object = try? JSONSerialization.jsonObject(with: Data(input), options: [.fragmentsAllowed]) else {
            return bytewise(input)
        }
        var depth = 0
        object = mutate(object, depth: &depth)
        guard let data = try? JSONSerialization.data(withJSONObject: object, options: [.fragmentsAllowed]) else { return input }
        return Array(data)
    }

    mutating func randomValue() -> Any {
        switch random.below(8) {
        case 0: return NSNull()
        case 1: return Int(truncatingIfNeeded: Int64(bitPattern: random.next())) >> random.below(64)
        case 2: return random.pick([0, -1, 1, 32, 48, 64, 4096, 4097, Int.max, Int.min])
        case 3: return random.pick(Self.edgeStrings.filter { !$0.hasPrefix("\\") })
        case 4: return [random.pick(["R", "W", "X", "L", "F", "Z"])]
        case 5: return [String: Any]()
        case 6: return [Any]()
        default: return random.chance(50)
        }
    }

    mutating func mutate(_ node: Any, depth: inout Int) -> Any {
        depth += 1
        let descend = depth < 8 && random.chance(75)
        if var dictionary = node as? [String: Any], !dictionary.isEmpty {
            let key = random.pick(dictionary.keys.sorted())
            if descend, let child = dictionary[key] {
                dictionary[key] = mutate(child, depth: &depth)
            } else {
                switch random.below(3) {
                case 0: dictionary[key] = nil
                case 1: dictionary[key] = randomValue()
                default: dictionary[random.pick(Self.keys)] = randomValue()
                }
            }
            return dictionary
        }
        if var array = node as? [Any], !array.isEmpty {
            let index = random.below(array.count)
            if descend {
                array[index] = mutate(array[index], depth: &depth)
            } else {
                switch random.below(3) {
                case 0: array.remove(at: index)
                case 1: array.append(array[index])
                default: array.swapAt(index, random.below(array.count))
                }
            }
            return array
        }
        return randomValue()
    }
}

@Suite("Fuzz: config parser and register write path")
struct FuzzTests {
    /// Every built-in provider as its own config (small inputs mutate faster), all of them as
    /// one, and a hand-written config with every field form.
    static let seedConfigs: [[UInt8]] = BuiltinProviders.catalogue.map { Array(ProviderConfig.encode([$0]).utf8) } + [
        Array(ProviderConfig.encode(BuiltinProviders.catalogue).utf8),
        Array(#"""
            {"providers": [{"name": "demo", "registers": [
              {"name": "a", "hash": "sha384", "flags": "RWXL"},
              {"name": "b", "hash": "sha256", "flags": ["R", "W"], "initial": "00ff"},
              {"name": "c", "hash": "sha512", "flags": 13},
              {"name": "d", "size": 48, "flags": "RLF", "derive": {"layout": [{"offset": 0, "hex": "aa"}, {"offset": 8, "register": "b"}]}},
              {"name": "e", "hash": "sha256", "flags": "RL", "derive": {"digest": {"hash": "sha256", "of": ["a", "b", "d"]}}}
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
                    for (index, register) in descriptor.registers.enumerated() where register.flags.contains(.readable) {
                        #expect(try provider.read(index, offset: 0, count: 4096).count == register.size, "input \(iteration)")
                        registersServed += 1
                    }
                }
                // What was accepted is written back as a config that reads the same.
                #expect(try ProviderConfig.decode(Array(ProviderConfig.encode(descriptors).utf8), file: "again.json") == descriptors,
                        "input \(iteration) does not round-trip")
            } catch let error as ConfigError {
                #expect(!error.message.isEmpty, "input \(iteration): empty message")
                #expect(error.file == "fuzz.json" && error.description.hasPrefix("fuzz.json: "), "input \(iteration): \(error)")
                if !error.message.hasPrefix("not a valid provider config") {
                    refusedByRule += 1
                } else if error.message.contains(" at .") || error.message.contains("missing key") {
                    refusedBySchema += 1
                } else {
                    refusedAsJSON += 1
                }
            }
        }
        print("fuzz: \(budget) configs: \(accepted) accepted (\(registersServed) registers read), "
              + "\(refusedByRule) refused by a rule, \(refusedBySchema) by the schema, \(refusedAsJSON) as JSON, in \(clock.now - started)")
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
        let text = #"{"providers":[{"name":"p","registers":[{"name":"d","size":8,"flags":"RLF","derive":{"layout":[{"offset":9223372036854775807,"hex":"aa"}]}}]}]}"#
        #expect(throws: ConfigError.self) { try ProviderConfig.decode(Array(text.utf8), file: "overflow.json") }
        do {
            _ = try ProviderConfig.decode(Array(text.utf8), file: "overflow.json")
        } catch {
            #expect(error.description.contains("layout field at offset 9223372036854775807 of 1 bytes does not fit in 8 bytes"), "\(error)")
        }
    }

    @Test("random reads, writes and extends against a reference model of ABI.md 1, 2.5 and 2.6")
    func registerWritePath() throws {
        var random = SeededGenerator(seed: 0xD1CE_5EED)
        var descriptors = BuiltinProviders.catalogue
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
                let offset: Int64 = random.pick([0, 0, 0, 1, Int64(size - 1), Int64(size), Int64(size + 1), Int64(random.below(2 * size)),
                                                 -1, Int64.min, Int64.max, 1 << 40])
                let label = "\(descriptor.name) step \(step): register \(descriptor.registers[index].name)"
                switch random.below(10) {
                case 0...3:
                    let count = random.pick([0, 1, size - 1, size, size, size, size + 1, 4096, 4097, 65536, random.below(5000)])
                    let data = random.bytes(count)
                    let extend = random.chance(20)
                    let result = data.withUnsafeBytes { buffer -> Result<Int, MRError> in
                        do throws(MRError) {
                            return .success(extend ? try provider.extend(index, offset: offset, data: buffer)
                                                   : try provider.write(index, offset: offset, data: buffer))
                        } catch {
                            return .failure(error)
                        }
                    }
                    let expected = model.write(index, offset: offset, data: data, extendAlways: extend)
                    if result != expected { Issue.record("\(label): \(extend ? "extend" : "write") \(count) at \(offset): \(result), want \(expected)") }
                    if case .success(let n) = expected, n > 0 { valid += 1 }
                default:
                    let count = random.pick([0, 1, size - 1, size, size + 1, 4096, 65536, -1, random.below(2 * size)])
                    let result = Result { () throws(MRError) -> [UInt8] in try provider.read(index, offset: offset, count: count) }
                    let expected = model.read(index, offset: offset, count: count)
                    if result != expected { Issue.record("\(label): read \(count) at \(offset): \(result), want \(expected)") }
                }
                if provider.refreshCount != model.refreshCount || provider.inSync != model.inSync {
                    Issue.record("\(label): refresh timing: \(provider.refreshCount) refreshes, in sync \(provider.inSync); want \(model.refreshCount), \(model.inSync)")
                }
                if step % 50 == 0 {
                    #expect(provider.snapshot().values == model.values, "\(label): values")
                }
            }
            refreshes += model.refreshCount
        }
        print("fuzz: \(operations) register operations on \(descriptors.count) providers: \(valid) valid writes, \(refreshes) refreshes")
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
                        guard let inputSize = registers.first(where: { $0.name == input })?.size, offset + inputSize <= size else { break }
                        fields.append(.register(input, at: offset))
                        offset += inputSize
                    }
                    if offset < size { fields.append(.bytes(random.bytes(min(4, size - offset)), at: offset)) }
                    derivation = .layout(fields)
                }
            }
            registers.append(RegisterDescriptor(name: "r\(number)", hash: hash, size: size, flags: flags,
                                                initial: random.bytes(random.below(size + 1)), derivation: derivation))
        }
        let descriptor = ProviderDescriptor(name: name, registers: registers)
        return (try? RegisterTable(validating: descriptor)) == nil ? nil : descriptor
    }
}

/// The register model of ABI.md, written from its text: the kernfs write clamp and the tsm-mr
/// size check (1, 2.5), `new = H(old ‖ data)` for X, overwrite otherwise, one in-sync flag per
/// provider cleared by every successful write, a refresh before a live read while out of sync,
/// and no refresh for a read that returns nothing (2.6).
struct ReferenceProvider {
    let registers: [RegisterDescriptor]
    var values: [[UInt8]]
    var inSync = false
    var refreshCount = 0

    init(_ descriptor: ProviderDescriptor) {
        registers = descriptor.registers
        values = descriptor.registers.map { register in
            Array((register.initial + [UInt8](repeating: 0, count: register.size)).prefix(register.size))
        }
    }

    static func hash(_ algorithm: HashAlgorithm, _ bytes: [UInt8]) -> [UInt8] {
        switch algorithm {
        case .sha256: return Array(SHA256.hash(data: bytes))
        case .sha384: return Array(SHA384.hash(data: bytes))
        case .sha512: return Array(SHA512.hash(data: bytes))
        }
    }

    /// `extendAlways`: the merged ABI's write callback, which extends whatever the flags say.
    mutating func write(_ index: Int, offset: Int64, data: [UInt8], extendAlways: Bool) -> Result<Int, MRError> {
        let register = registers[index]
        if extendAlways {
            guard register.hash != nil else { return .failure(.accessDenied) }
        } else {
            guard register.flags.contains(.writable) else { return .failure(.accessDenied) }
        }
        // A negative position never reaches a filesystem (the VFS refuses it): EINVAL.
        guard offset >= 0 else { return .failure(.invalidWrite) }
        guard offset < Int64(register.size) else { return .failure(.writePastEnd) }
        let accepted = min(data.count, 4096, register.size - Int(offset))
        if accepted == 0 { return .success(0) }
        guard offset == 0, accepted == register.size else { return .failure(.invalidWrite) }
        let used = Array(data.prefix(accepted))
        if let hash = register.hash, extendAlways || register.flags.contains(.extensible) {
            values[index] = Self.hash(hash, values[index] + used)
        } else {
            values[index] = used
        }
        inSync = false
        return .success(accepted)
    }

    mutating func read(_ index: Int, offset: Int64, count: Int) -> Result<[UInt8], MRError> {
        let register = registers[index]
        guard register.flags.contains(.readable) else { return .failure(.accessDenied) }
        guard count > 0, offset >= 0, offset < Int64(register.size) else { return .success([]) }
        if register.flags.contains(.live) && !inSync { refresh() }
        let start = Int(offset)
        return .success(Array(values[index][start..<min(register.size, start + min(count, 4096))]))
    }

    /// Every derived register from the current values, inputs first (evaluated on demand).
    mutating func refresh() {
        refreshCount += 1
        var done = Set<Int>()
        func evaluate(_ index: Int) {
            guard !done.contains(index) else { return }
            done.insert(index)
            guard let derivation = registers[index].derivation else { return }
            func value(_ name: String) -> [UInt8] {
                guard let input = registers.firstIndex(where: { $0.name == name }) else { return [] }
                evaluate(input)
                return values[input]
            }
            switch derivation {
            case .digest(let hash, let names):
                values[index] = Self.hash(hash, names.flatMap(value))
            case .layout(let fields):
                var buffer = [UInt8](repeating: 0, count: registers[index].size)
                for field in fields {
                    let bytes: [UInt8]
                    switch field.source {
                    case .register(let name): bytes = value(name)
                    case .bytes(let constant): bytes = constant
                    }
                    buffer.replaceSubrange(field.offset..<(field.offset + bytes.count), with: bytes)
                }
                values[index] = buffer
            }
        }
        for index in registers.indices { evaluate(index) }
        inSync = true
    }
}
