/// What a face (a quote, a TDREPORT, a 6.16 file, an event log) needs of one register: its name,
/// its size, its hash algorithm where it has one, and whether writes must extend it.
public struct RegisterNeed: Sendable, Equatable {
    public var name: String
    public var size: Int
    /// The algorithm the register must be hashed with; nil for a register without a hash.
    public var hash: HashAlgorithm?
    /// Whether the register must be extensible (X).
    public var extensible: Bool

    public init(_ name: String, size: Int, hash: HashAlgorithm? = nil, extensible: Bool = false) {
        self.name = name
        self.size = size
        self.hash = hash
        self.extensible = extensible
    }

    /// A register holding a digest of `hash`.
    public static func digest(_ name: String, _ hash: HashAlgorithm, extensible: Bool = false) -> RegisterNeed {
        RegisterNeed(name, size: hash.digestSize, hash: hash, extensible: extensible)
    }

    /// A plain file register (F) of `size` bytes.
    public static func file(_ name: String, size: Int) -> RegisterNeed {
        RegisterNeed(name, size: size)
    }

    /// The table row that meets this need, with `flags` (X added where the need extends): a
    /// built-in table is written from the needs its faces resolve, so a name is written once.
    public func row(_ flags: RegisterFlags, initial: [UInt8] = [], derivation: Derivation? = nil) -> RegisterDescriptor
    {
        RegisterDescriptor(
            name: name, hash: hash, size: size, flags: extensible ? flags.union(.extensible) : flags,
            initial: initial, derivation: derivation)
    }
}

/// Why a face cannot be served from the providers at hand: a register it needs is missing or has
/// another shape. Found once, at start, so that no face ever works from a missing value.
public struct RegisterBindingError: Error, Equatable, Sendable, CustomStringConvertible {
    public enum Problem: Equatable, Sendable {
        case missingProvider
        case missingRegister
        case size(actual: Int)
        case hash(actual: HashAlgorithm?)
        case notExtensible
    }

    /// The face that needs the register, e.g. "the tdx_guest quote".
    public var face: String
    public var provider: String
    public var need: RegisterNeed?
    public var problem: Problem

    public init(face: String, provider: String, need: RegisterNeed?, problem: Problem) {
        self.face = face
        self.provider = provider
        self.need = need
        self.problem = problem
    }

    public var description: String {
        guard let need else { return "\(face) needs the '\(provider)' provider, which is not served" }
        let register = "\(provider)/\(need.name)"
        switch problem {
        case .missingProvider: return "\(face) needs the '\(provider)' provider, which is not served"
        case .missingRegister: return "\(face) needs register \(register), which provider '\(provider)' does not have"
        case .size(let actual): return "\(face) needs register \(register) of \(need.size) bytes; it has \(actual)"
        case .hash(let actual):
            return
                """
                \(face) needs register \(register) hashed with \(need.hash?.rawValue ?? "no hash"); it has \
                \(actual?.rawValue ?? "no hash")
                """
        case .notExtensible: return "\(face) needs register \(register) to be extensible (X)"
        }
    }
}

extension RegisterTable {
    /// The index of the register `need` names, checked to be of the size, hash and flags `face`
    /// needs.
    public func index(of need: RegisterNeed, for face: String) throws(RegisterBindingError) -> Int {
        func fail(_ problem: RegisterBindingError.Problem) -> RegisterBindingError {
            RegisterBindingError(face: face, provider: name, need: need, problem: problem)
        }
        guard let index = indexByName[need.name] else { throw fail(.missingRegister) }
        let register = registers[index]
        guard register.size == need.size else { throw fail(.size(actual: register.size)) }
        guard register.hash == need.hash else { throw fail(.hash(actual: register.hash)) }
        guard !need.extensible || register.flags.contains(.extensible) else { throw fail(.notExtensible) }
        return index
    }
}

/// A register resolved once, at start, for a face: the provider that holds it and its index,
/// checked to be what the face needs. Faces read through handles, never by name.
public struct RegisterHandle: Sendable {
    public let provider: MeasurementProvider
    public let index: Int

    public init(provider: MeasurementProvider, index: Int) {
        self.provider = provider
        self.index = index
    }

    public var descriptor: RegisterDescriptor { provider.table.registers[index] }
    public var name: String { descriptor.name }
    /// `PROVIDER/REGISTER`.
    public var path: String { "\(provider.name)/\(name)" }

    /// This register's bytes in `values`, a snapshot of the same provider.
    public func value(in values: RegisterValues) -> [UInt8] { values.values[index] }
}

extension MeasurementProvider {
    /// The handle of the register `need` names, checked for `face`.
    public func handle(_ need: RegisterNeed, for face: String) throws(RegisterBindingError) -> RegisterHandle {
        RegisterHandle(provider: self, index: try table.index(of: need, for: face))
    }
}
