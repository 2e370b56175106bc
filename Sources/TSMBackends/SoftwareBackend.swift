import TSMModel

/// The software model: registers live in memory, extends are computed, and a refresh recomputes
/// every derived register from the others, inputs first.
///
/// Errors: none of its own. Extends of registers with no hash cannot happen: validation refuses X
/// without a hash.
public struct SoftwareBackend: MeasurementBackend {
    public init() {}

    public func refresh(_ registers: inout RegisterValues) throws(MRError) {
        for index in registers.table.refreshOrder {
            let register = registers.table.registers[index]
            guard let derivation = register.derivation else { continue }
            registers.values[index] = Self.evaluate(derivation, size: register.size, in: registers)
        }
    }

    public func extend(_ index: Int, with data: [UInt8], in registers: inout RegisterValues) throws(MRError) {
        guard let hash = registers.table.registers[index].hash else { throw .accessDenied }
        registers.values[index] = hash.extend(registers.values[index], with: data)
    }

    /// The value `derivation` gives from the current registers. A layout places its register and
    /// constant fields, then computes its digests and MACs in order (``LayoutField``).
    public static func evaluate(_ derivation: Derivation, size: Int, in registers: RegisterValues) -> [UInt8] {
        switch derivation {
        case .digest(let hash, let names):
            return hash.digest(of: names.compactMap { registers[$0] })
        case .layout(let fields):
            var buffer = [UInt8](repeating: 0, count: size)
            for field in fields {
                let bytes: [UInt8]
                switch field.source {
                case .register(let name): bytes = registers[name] ?? []
                case .bytes(let constant): bytes = constant
                case .digest, .mac: continue
                }
                buffer.replaceSubrange(field.offset..<(field.offset + bytes.count), with: bytes)
            }
            for field in fields {
                guard let bytes = computed(field.source, over: buffer) else { continue }
                buffer.replaceSubrange(field.offset..<(field.offset + bytes.count), with: bytes)
            }
            return buffer
        }
    }

    /// The first computed field of `fields` (a digest or MAC) that `bytes` does not carry: its
    /// offset, or nil when every one checks (or there is none). What a verifier of the layout
    /// (the TD quoting enclave for a TDREPORT) does: recompute each over the bytes given, the MAC
    /// under the daemon's key. `bytes` of another size than the layout's fail at the first field.
    public static func firstFailingField(_ fields: [LayoutField], in bytes: [UInt8]) -> Int? {
        for field in fields where field.source.isComputed {
            guard let range = field.source.covered, range.upperBound <= bytes.count else { return field.offset }
            let stored: ArraySlice<UInt8>
            switch field.source {
            case .mac:
                let end = field.offset + LayoutField.Source.macSize
                guard end <= bytes.count, LayoutKey.isValid(bytes[field.offset..<end], for: bytes[range]) else {
                    return field.offset
                }
                continue
            case .digest(let hash, _):
                let end = field.offset + hash.digestSize
                guard end <= bytes.count else { return field.offset }
                stored = bytes[field.offset..<end]
            case .register, .bytes:
                continue
            }
            guard computed(field.source, over: bytes).map({ $0[...] == stored }) == true else { return field.offset }
        }
        return nil
    }

    /// A computed field's bytes over `buffer`; nil for a placed field.
    private static func computed(_ source: LayoutField.Source, over buffer: [UInt8]) -> [UInt8]? {
        switch source {
        case .register, .bytes: return nil
        case .digest(let hash, let range): return hash.digest(of: [Array(buffer[range])])
        case .mac(let range): return LayoutKey.mac(buffer[range])
        }
    }
}
