import TSMBytes

/// User-given CCA platform token values (`--cca-platform-config`, `--cca-sw-component`) and the
/// reference values `tsmfs verify` compares them with: the grammars, limits and messages.
extension CCASoftwareComponent {
    /// The measurement's hash algorithm (label 6) by its digest size.
    public static let algorithms = [32: "sha-256", 48: "sha-384", 64: "sha-512"]
    /// At most this many components in the platform token.
    public static let maxCount = 32
    /// At most this many bytes in a component's name (label 1) or version (label 4).
    public static let maxTextLength = 64

    /// One `NAME:HEX[:VERSION[:SIGNER]]` entry: a name of 1 to ``maxTextLength`` bytes without `:` or
    /// `,`, a measurement of 32, 48 or 64 bytes (its size names the hash algorithm), a version and a
    /// signer ID (32, 48 or 64 bytes) when given.
    public struct Entry: Sendable, Equatable {
        /// NAME: the component's type (label 1).
        public let type: String
        /// HEX: its measurement (label 2).
        public let measurement: [UInt8]
        /// VERSION (label 4), if given.
        public let version: String?
        /// SIGNER: its signer ID (label 5), if given.
        public let signerID: [UInt8]?
    }

    /// The entries of `text`, comma-separated; the message names `option`, the entry and the rule.
    public static func entries(_ text: String, option: String) -> Result<[Entry], PolicyFieldError> {
        var entries: [Entry] = []
        for part in text.split(separator: ",", omittingEmptySubsequences: false) {
            let rule = "\(option) \(part): NAME:HEX[:VERSION[:SIGNER]]"
            let fields = part.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
            guard (2...4).contains(fields.count), (1...maxTextLength).contains(fields[0].utf8.count) else {
                return .failure(PolicyFieldError("\(rule), NAME 1 to \(maxTextLength) bytes"))
            }
            guard let measurement = Hex.decode(fields[1]), algorithms[measurement.count] != nil else {
                return .failure(PolicyFieldError("\(rule): the measurement is 32, 48 or 64 bytes of hex"))
            }
            let version = fields.count > 2 ? fields[2] : nil
            if let version, version.utf8.count > maxTextLength {
                return .failure(PolicyFieldError("\(rule): the version is at most \(maxTextLength) bytes"))
            }
            var signer: [UInt8]?
            if fields.count > 3 {
                guard let bytes = Hex.decode(fields[3]), algorithms[bytes.count] != nil else {
                    return .failure(PolicyFieldError("\(rule): the signer ID is 32, 48 or 64 bytes of hex"))
                }
                signer = bytes
            }
            entries.append(Entry(type: fields[0], measurement: measurement, version: version, signerID: signer))
        }
        guard entries.count <= maxCount else {
            return .failure(PolicyFieldError("\(option): \(entries.count) components, more than \(maxCount)"))
        }
        return .success(entries)
    }

    /// `components` with `entries` applied: an entry naming a component's type replaces its
    /// measurement and hash algorithm, and its version and signer ID where given; another is
    /// appended (version 1.0.0 and the first component's signer ID unless given).
    public static func applying(_ entries: [Entry], to components: [CCASoftwareComponent]) -> [CCASoftwareComponent] {
        var result = components
        for entry in entries {
            let algorithm = algorithms[entry.measurement.count] ?? "sha-256"
            if let index = result.firstIndex(where: { $0.type == entry.type }) {
                result[index].measurement = entry.measurement
                result[index].hashAlgorithm = algorithm
                if let version = entry.version { result[index].version = version }
                if let signer = entry.signerID { result[index].signerID = signer }
            } else {
                result.append(
                    CCASoftwareComponent(
                        type: entry.type, measurement: entry.measurement, version: entry.version ?? "1.0.0",
                        signerID: entry.signerID ?? components.first?.signerID ?? entry.measurement,
                        hashAlgorithm: algorithm))
            }
        }
        return result
    }
}

extension CCAPlatformClaims {
    /// At most this many bytes of platform configuration (claim 2401).
    public static let maxConfigSize = 256

    /// `--cca-platform-config`'s value: 1 to ``maxConfigSize`` bytes as hex.
    public static func parseConfig(_ text: String, option: String) -> Result<[UInt8], PolicyFieldError> {
        guard let bytes = Hex.decode(text), (1...maxConfigSize).contains(bytes.count) else {
            return .failure(PolicyFieldError("\(option) takes 1 to \(maxConfigSize) bytes as hex"))
        }
        return .success(bytes)
    }
}
