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

    /// The value `derivation` gives from the current registers.
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
                }
                buffer.replaceSubrange(field.offset..<(field.offset + bytes.count), with: bytes)
            }
            return buffer
        }
    }
}
