import FoundationEssentials
import TSMBytes

/// The JSON form of provider tables: what `--config FILE` reads and `tsmfs providers --json`
/// prints. The built-in providers are written in the same form.
///
/// ```json
/// {"providers": [{"name": "demo", "registers": [
///   {"name": "rtmr0", "hash": "sha384", "flags": ["R", "W", "X", "L"]},
///   {"name": "digest", "hash": "sha512", "flags": ["R", "L"],
///    "derive": {"digest": {"hash": "sha512", "of": ["rtmr0"]}}}]}]}
/// ```
public enum ProviderConfig {
    /// Decodes and validates provider tables. `file` names the source in error messages.
    public static func decode(_ bytes: [UInt8], file: String) throws(ConfigError) -> [ProviderDescriptor] {
        let document: Document
        if let problem = JSONSyntax.firstProblem(in: bytes) {
            throw ConfigError(
                file: file,
                message:
                    "not valid JSON at \(problem)")
        }
        do {
            document = try JSONDecoder().decode(Document.self, from: Data(bytes))
        } catch DecodingError.dataCorrupted(let context)
            where context.codingPath.isEmpty && context.underlyingError == nil
        {
            // The text is valid JSON (checked above): the decoder refused a number for its field.
            throw ConfigError(
                file: file,
                message: "not a valid provider config: a number does not fit its field (a whole number is expected for "
                    + "sizes, offsets and flags)")
        } catch {
            throw ConfigError(file: file, message: "not a valid provider config: \(DecodingErrorText.describe(error))")
        }
        var seen = Set<String>()
        var descriptors: [ProviderDescriptor] = []
        for provider in document.providers {
            let descriptor = try provider.descriptor(file: file)
            do throws(RegistrationError) {
                _ = try RegisterTable(validating: descriptor)
                guard seen.insert(descriptor.name).inserted else {
                    throw RegistrationError(provider: descriptor.name, rule: .duplicateProvider)
                }
            } catch {
                throw ConfigError(
                    file: file, provider: error.provider, register: error.register, message: error.ruleDescription)
            }
            descriptors.append(descriptor)
        }
        return descriptors
    }

    /// The JSON text of `providers`, which ``decode(_:file:)`` reads back to the same tables.
    public static func encode(_ providers: [ProviderDescriptor]) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        let document = Document(providers: providers.map(ProviderEntry.init))
        guard let data = try? encoder.encode(document) else { return "{}" }
        return String(decoding: data, as: UTF8.self) + "\n"
    }
}

/// A refused config file: which file, provider and register, and the rule broken.
public struct ConfigError: Error, Equatable, Sendable, CustomStringConvertible {
    public var file: String
    public var provider: String?
    public var register: String?
    public var message: String

    public init(file: String, provider: String? = nil, register: String? = nil, message: String) {
        self.file = file
        self.provider = provider
        self.register = register
        self.message = message
    }

    public var description: String {
        var text = file
        if let provider { text += ": provider '\(provider)'" }
        if let register { text += ", register '\(register)'" }
        return text + ": " + message
    }
}

// MARK: - The file format

private struct Document: Codable {
    var providers: [ProviderEntry]

    init(providers: [ProviderEntry]) { self.providers = providers }

    init(from decoder: any Decoder) throws {
        try decoder.refuseUnknownKeys(["providers"])
        providers = try decoder.container(keyedBy: CodingKeys.self).decode([ProviderEntry].self, forKey: .providers)
    }
}

private struct ProviderEntry: Codable {
    var name: String
    var registers: [RegisterEntry]

    init(_ descriptor: ProviderDescriptor) {
        name = descriptor.name
        registers = descriptor.registers.map(RegisterEntry.init)
    }

    init(from decoder: any Decoder) throws {
        try decoder.refuseUnknownKeys(["name", "registers"])
        let container = try decoder.container(keyedBy: CodingKeys.self)
        name = try container.decode(String.self, forKey: .name)
        registers = try container.decode([RegisterEntry].self, forKey: .registers)
    }

    func descriptor(file: String) throws(ConfigError) -> ProviderDescriptor {
        var descriptors: [RegisterDescriptor] = []
        for register in registers {
            do {
                descriptors.append(try register.descriptor())
            } catch {
                throw ConfigError(file: file, provider: name, register: register.name, message: error.message)
            }
        }
        return ProviderDescriptor(name: name, registers: descriptors)
    }
}

/// A register entry refused, with the message the ``ConfigError`` carries.
struct EntryError: Error {
    var message: String
}

private struct RegisterEntry: Codable {
    var name: String
    var hash: String?
    var size: Int?
    var flags: FlagsField
    var initial: String?
    var derive: DeriveEntry?

    init(_ register: RegisterDescriptor) {
        name = register.name
        hash = register.hash?.rawValue
        size = register.size
        flags = FlagsField(register.flags)
        initial = register.initial.isEmpty ? nil : Hex.encode(register.initial)
        derive = register.derivation.map(DeriveEntry.init)
    }

    init(from decoder: any Decoder) throws {
        try decoder.refuseUnknownKeys(["name", "hash", "size", "flags", "initial", "derive"])
        let container = try decoder.container(keyedBy: CodingKeys.self)
        name = try container.decode(String.self, forKey: .name)
        hash = try container.decodeIfPresent(String.self, forKey: .hash)
        // As a number first: 1.5 or 2^64 get a message that says so, not "not valid JSON".
        if let number = try container.decodeIfPresent(Double.self, forKey: .size) {
            guard number.rounded() == number, number >= 0, number <= Double(RegisterTable.maximumSize) else {
                throw DecodingError.dataCorruptedError(
                    forKey: .size, in: container,
                    debugDescription: "size \(abs(number) < 1e15 ? "\(number)" : "out of range") "
                        + "is not a whole number of bytes from 1 to \(RegisterTable.maximumSize)")
            }
            size = Int(number)
        }
        flags = try container.decode(FlagsField.self, forKey: .flags)
        initial = try container.decodeIfPresent(String.self, forKey: .initial)
        derive = try container.decodeIfPresent(DeriveEntry.self, forKey: .derive)
    }

    func descriptor() throws(EntryError) -> RegisterDescriptor {
        let algorithm = try hash.map { (name) throws(EntryError) in try HashAlgorithm.named(name) }
        guard let registerFlags = flags.flags else {
            throw EntryError(
                message: "unknown flags \(flags.text); flags are letters of R, W, X, L, F (e.g. \"RWXL\") "
                    + "or the kernel's mr_flags value")
        }
        guard let resolvedSize = size ?? algorithm?.digestSize else {
            throw EntryError(message: "a register without a hash needs a size")
        }
        let bytes = try initial.map { (text) throws(EntryError) in try EntryError.hex(text, field: "initial") } ?? []
        return RegisterDescriptor(
            name: name, hash: algorithm, size: resolvedSize, flags: registerFlags,
            initial: bytes, derivation: try derive?.derivation()
        )
    }
}

/// `"flags"`: letters as a string (`"RWXL"`) or an array (`["R", "W"]`), or the kernel's
/// `mr_flags` number (15). Written as a string.
private struct FlagsField: Codable {
    var flags: RegisterFlags?
    var text: String

    init(_ flags: RegisterFlags) {
        self.flags = flags
        self.text = flags.letterList.joined()
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let value = try? container.decode(UInt32.self) {
            text = String(value)
            let known = RegisterFlags(rawValue: 31)
            flags = RegisterFlags(rawValue: value).isSubset(of: known) ? RegisterFlags(rawValue: value) : nil
        } else if let letters = try? container.decode(String.self) {
            text = "\"\(letters)\""
            flags = RegisterFlags(letters: letters.map { String($0) })
        } else {
            let letters = try container.decode([String].self)
            text = "\(letters)"
            flags = RegisterFlags(letters: letters)
        }
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(text)
    }
}
