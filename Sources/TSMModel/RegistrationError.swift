/// Why a register table was refused at registration, naming the provider, the register and the rule.
public struct RegistrationError: Error, Equatable, Sendable, CustomStringConvertible {
    public enum Rule: Equatable, Sendable {
        case emptyProviderName
        case badProviderName
        case duplicateProvider
        case noRegisters
        case emptyRegisterName
        case badRegisterName
        case duplicateRegister
        case missingHash
        case extensibleWithoutHash
        case sizeMismatch(HashAlgorithm, size: Int)
        case badSize(Int)
        case initialTooLong(bytes: Int, size: Int)
        case derivationNeedsLive
        case unknownInput(String)
        case fieldOutOfRange(offset: Int, length: Int, size: Int)
        case derivationCycle([String])
        /// A computed layout field covers bytes outside the register.
        case coverOutOfRange(Range<Int>, size: Int)
        /// A computed layout field writes into bytes that it or an earlier computed field covers.
        case coveredLater(offset: Int, covered: Range<Int>)
        case nameTooLong(bytes: Int)
    }

    public var provider: String
    public var register: String?
    public var rule: Rule

    public init(provider: String, register: String? = nil, rule: Rule) {
        self.provider = provider
        self.register = register
        self.rule = rule
    }

    public var ruleDescription: String {
        switch rule {
        case .emptyProviderName: return "a provider name must not be empty"
        case .badProviderName: return "a provider name must not contain '/' or NUL, nor be '.' or '..'"
        case .duplicateProvider: return "a provider of this name is already registered"
        case .noRegisters: return "a provider needs at least one register"
        case .emptyRegisterName: return "a register name must not be empty"
        case .badRegisterName: return "a register name must not contain '/' or NUL, nor be '.' or '..'"
        case .duplicateRegister: return "a register of this name already exists in the provider"
        case .missingHash:
            return "a register shown as a directory needs a hash (its hash_algo file names it); set one or add flag F"
        case .extensibleWithoutHash: return "an extensible register (flag X) needs a hash to extend with"
        case .sizeMismatch(let hash, let size):
            return "size \(size) does not match \(hash.rawValue) (\(hash.digestSize) bytes)"
        case .badSize(let size): return "size \(size) is outside 1...\(RegisterTable.maximumSize) bytes"
        case .initialTooLong(let bytes, let size):
            return "initial value has \(bytes) bytes, more than the register's \(size)"
        case .derivationNeedsLive: return "a derived register must be live (flag L): it is recomputed on refresh"
        case .unknownInput(let name): return "derivation reads register '\(name)', which the provider does not have"
        case .fieldOutOfRange(let offset, let length, let size):
            return "layout field at offset \(offset) of \(length) bytes does not fit in \(size) bytes"
        case .coverOutOfRange(let range, let size):
            return "computed layout field covers bytes \(range.lowerBound)..<\(range.upperBound), outside 0..<\(size)"
        case .coveredLater(let offset, let covered):
            return
                """
                computed layout field at offset \(offset) writes into bytes \(covered.lowerBound)..<\
                \(covered.upperBound), which it or an earlier computed field covers (computed fields run in order)
                """
        case .derivationCycle(let names):
            return "derivations depend on each other in a cycle: \(names.joined(separator: " -> "))"
        case .nameTooLong(let bytes):
            return
                """
                a name has \(bytes) bytes; at most \(RegisterTable.maximumNameLength) (NAME_MAX, less room for a \
                6.16 ':sha512' suffix)
                """
        }
    }

    public var description: String {
        var text = "provider '\(provider.prefix(64))\(provider.count > 64 ? "..." : "")'"
        if let register { text += ", register '\(register.prefix(64))\(register.count > 64 ? "..." : "")'" }
        return text + ": " + ruleDescription
    }
}
