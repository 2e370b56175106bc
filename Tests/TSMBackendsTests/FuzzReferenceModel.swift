import Crypto
import TSMBackends
import TSMModel

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
                // Placed fields first, then the computed ones in order over what is laid.
                for computed in [false, true] {
                    for field in fields where field.source.isComputed == computed {
                        let bytes: [UInt8]
                        switch field.source {
                        case .register(let name): bytes = value(name)
                        case .bytes(let constant): bytes = constant
                        case .digest(let hash, let range): bytes = Self.hash(hash, Array(buffer[range]))
                        case .mac(let range): bytes = LayoutKey.mac(buffer[range])
                        }
                        buffer.replaceSubrange(field.offset..<(field.offset + bytes.count), with: bytes)
                    }
                }
                values[index] = buffer
            }
        }
        for index in registers.indices { evaluate(index) }
        inSync = true
    }
}
