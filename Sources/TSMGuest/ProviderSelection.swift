import TSMBytes
import SystemPackage
import TSMBackends
import TSMModel

/// Which provider tables a command serves: the built-in ones, replaced or joined by those of a
/// config file, narrowed by `--provider`.
public enum ProviderSelection {
    public enum Failure: Error, CustomStringConvertible {
        case unreadable(file: String, Errno)
        case config(ConfigError)
        case unknownProvider(String, known: [String])

        public var description: String {
            switch self {
            case .unreadable(let file, let errno): return "\(file): cannot read: \(errno)"
            case .config(let error): return error.description
            case .unknownProvider(let name, let known):
                return "unknown provider '\(name)'; known: \(known.joined(separator: ", "))"
            }
        }
    }

    /// The providers to serve: `defaults` (with config providers replacing or joining them), or
    /// those `--provider` names, looked up among every built-in and configured provider.
    /// `catalogue` is every built-in table `--provider` may name.
    public static func descriptors(
        named names: [String], config: String?, defaults: [ProviderDescriptor],
        catalogue builtin: [ProviderDescriptor]
    ) throws(Failure) -> [ProviderDescriptor] {
        var available = defaults
        var catalogue = builtin
        if let file = config {
            let bytes = try readFile(file)
            let configured: [ProviderDescriptor]
            do throws(ConfigError) {
                configured = try ProviderConfig.decode(bytes, file: file)
            } catch {
                throw .config(error)
            }
            for provider in configured {
                available.replaceOrAppend(provider)
                catalogue.replaceOrAppend(provider)
            }
        }
        guard !names.isEmpty else { return available }
        var selected: [ProviderDescriptor] = []
        for name in names where !selected.contains(where: { $0.name == name }) {
            guard let provider = catalogue.first(where: { $0.name == name }) else {
                throw .unknownProvider(name, known: catalogue.map(\.name))
            }
            selected.append(provider)
        }
        return selected
    }

    /// A whole input file, at most ``FileBytes/defaultLimit`` bytes (EFBIG past it).
    public static func readFile(_ path: String) throws(Failure) -> [UInt8] {
        do {
            return try FileBytes.read(path: path)
        } catch {
            throw .unreadable(file: path, Errno(rawValue: error.errno))
        }
    }
}

extension Array where Element == ProviderDescriptor {
    /// Replaces the provider of the same name, or appends.
    public mutating func replaceOrAppend(_ provider: ProviderDescriptor) {
        if let index = firstIndex(where: { $0.name == provider.name }) {
            self[index] = provider
        } else {
            append(provider)
        }
    }
}
