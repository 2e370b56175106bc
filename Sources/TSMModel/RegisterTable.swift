/// A provider's register table after validation, as `tsm_register_measurement` checks it once at
/// registration: everything at run time trusts it.
public struct RegisterTable: Sendable, Equatable {
    /// One sysfs page: kernfs caps every write there, so no larger register could be written.
    public static let maximumSize = 4096
    /// The longest provider or register name: NAME_MAX (255) less the longest `:HASH` suffix a
    /// 6.16 `measurements/` file adds, so that every face can list it.
    public static let maximumNameLength = 248

    public let provider: ProviderDescriptor
    /// Register index by name.
    public let indexByName: [String: Int]
    /// The derived registers in the order a refresh computes them: every input before its users.
    public let refreshOrder: [Int]

    public var name: String { provider.name }
    public var registers: [RegisterDescriptor] { provider.registers }

    public init(validating provider: ProviderDescriptor) throws(RegistrationError) {
        try Self.checkName(provider.name, provider: provider.name, register: nil)
        guard !provider.registers.isEmpty else { throw RegistrationError(provider: provider.name, rule: .noRegisters) }
        var indexByName: [String: Int] = [:]
        for (index, register) in provider.registers.enumerated() {
            try Self.check(register, provider: provider.name)
            guard indexByName.updateValue(index, forKey: register.name) == nil else {
                throw RegistrationError(provider: provider.name, register: register.name, rule: .duplicateRegister)
            }
        }
        for register in provider.registers {
            try Self.checkDerivation(
                of: register, provider: provider.name, indexByName: indexByName, registers: provider.registers)
        }
        self.provider = provider
        self.indexByName = indexByName
        self.refreshOrder = try Self.order(provider, indexByName: indexByName)
    }

    private static func checkName(_ name: String, provider: String, register: String?) throws(RegistrationError) {
        let isRegister = register != nil
        guard !name.isEmpty else {
            throw RegistrationError(
                provider: provider, register: register, rule: isRegister ? .emptyRegisterName : .emptyProviderName)
        }
        guard name.utf8.count <= maximumNameLength else {
            throw RegistrationError(provider: provider, register: register, rule: .nameTooLong(bytes: name.utf8.count))
        }
        if name.contains("/") || name.contains("\0") || name == "." || name == ".." {
            throw RegistrationError(
                provider: provider, register: register, rule: isRegister ? .badRegisterName : .badProviderName)
        }
    }

    private static func check(_ register: RegisterDescriptor, provider: String) throws(RegistrationError) {
        let fail = { (rule: RegistrationError.Rule) in
            RegistrationError(provider: provider, register: register.name, rule: rule)
        }
        try checkName(register.name, provider: provider, register: register.name)
        if let hash = register.hash {
            guard register.size == hash.digestSize else { throw fail(.sizeMismatch(hash, size: register.size)) }
        } else {
            if register.flags.contains(.extensible) { throw fail(.extensibleWithoutHash) }
            if !register.flags.contains(.file) { throw fail(.missingHash) }
        }
        guard (1...maximumSize).contains(register.size) else { throw fail(.badSize(register.size)) }
        guard register.initial.count <= register.size else {
            throw fail(.initialTooLong(bytes: register.initial.count, size: register.size))
        }
    }

    private static func checkDerivation(
        of register: RegisterDescriptor, provider: String, indexByName: [String: Int], registers: [RegisterDescriptor]
    ) throws(RegistrationError) {
        guard let derivation = register.derivation else { return }
        let fail = { (rule: RegistrationError.Rule) in
            RegistrationError(provider: provider, register: register.name, rule: rule)
        }
        guard register.flags.contains(.live) else { throw fail(.derivationNeedsLive) }
        for input in derivation.inputs where indexByName[input] == nil { throw fail(.unknownInput(input)) }
        switch derivation {
        case .digest(let hash, _):
            guard hash.digestSize == register.size else { throw fail(.sizeMismatch(hash, size: register.size)) }
        case .layout(let fields):
            var covered: [Range<Int>] = []
            for field in fields {
                let length: Int
                switch field.source {
                case .bytes(let bytes): length = bytes.count
                case .register(let name): length = indexByName[name].map { registers[$0].size } ?? 0
                case .digest(let hash, _): length = hash.digestSize
                case .mac: length = LayoutField.Source.macSize
                }
                guard field.offset >= 0, field.offset <= register.size - length else {
                    throw fail(.fieldOutOfRange(offset: field.offset, length: length, size: register.size))
                }
                guard let range = field.source.covered else { continue }
                guard range.lowerBound >= 0, range.upperBound <= register.size else {
                    throw fail(.coverOutOfRange(range, size: register.size))
                }
                // Computed fields run in order over the bytes laid so far: one that wrote into
                // bytes an earlier one (or itself) covers would leave that one stale.
                let output = field.offset..<field.offset + length
                if let stale = (covered + [range]).first(where: { $0.overlaps(output) }) {
                    throw fail(.coveredLater(offset: field.offset, covered: stale))
                }
                covered.append(range)
            }
        }
    }

    /// Depth-first topological order of the derived registers; a cycle is refused.
    private static func order(_ provider: ProviderDescriptor, indexByName: [String: Int]) throws(RegistrationError)
        -> [Int]
    {
        var order: [Int] = []
        var state = [UInt8](repeating: 0, count: provider.registers.count)  // 0 new, 1 on path, 2 done
        var path: [Int] = []

        func visit(_ index: Int) throws(RegistrationError) {
            if state[index] == 2 { return }
            if state[index] == 1 {
                let start = path.firstIndex(of: index) ?? 0
                let names = (path[start...] + [index]).map { provider.registers[$0].name }
                throw RegistrationError(
                    provider: provider.name, register: provider.registers[index].name, rule: .derivationCycle(names))
            }
            guard let derivation = provider.registers[index].derivation else {
                state[index] = 2
                return
            }
            state[index] = 1
            path.append(index)
            for input in derivation.inputs {
                if let inputIndex = indexByName[input] { try visit(inputIndex) }
            }
            path.removeLast()
            state[index] = 2
            order.append(index)
        }

        for index in provider.registers.indices { try visit(index) }
        return order
    }
}
