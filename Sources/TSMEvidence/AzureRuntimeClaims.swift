import FoundationEssentials
import TSMBytes

/// The runtime claims of an ``AzureHCLReport`` (Microsoft's "Runtime Claims" table): `keys`, JWKs
/// (RFC 7517) of the vTPM's attestation key `HCLAkPub` (`key_ops` sign) and endorsement key
/// `HCLEkPub` (encrypt); `vm-configuration`, a few of the VM's settings; `user-data`, the 64 bytes
/// last written to NV 0x01400002, as hex.
public struct AzureRuntimeClaims: Sendable, Equatable, Codable {
    /// An RSA public key as a JWK: modulus and exponent big-endian, base64url without padding.
    public struct Key: Sendable, Equatable, Codable {
        public var kid: String
        public var keyOps: [String]
        public var kty: String
        public var e: String
        public var n: String

        enum CodingKeys: String, CodingKey {
            case kid
            case keyOps = "key_ops"
            case kty, e, n
        }

        public init(kid: String, operation: String, modulus: [UInt8], exponent: [UInt8]) {
            self.kid = kid
            self.keyOps = [operation]
            self.kty = "RSA"
            self.e = Base64URL.encode(exponent)
            self.n = Base64URL.encode(modulus)
        }

        /// The modulus without leading zero bytes, nil if `n` is not base64url.
        public var modulus: [UInt8]? { Base64URL.decode(n).map { Array($0.drop(while: { $0 == 0 })) } }
        public var exponent: [UInt8]? { Base64URL.decode(e).map { Array($0.drop(while: { $0 == 0 })) } }
    }

    /// The `vm-configuration` object, as the design-detail page's example has it (ours writes
    /// every field; real ones from 2023 lack `root-cert-thumbprint` and `tpm-persisted`).
    public struct VMConfiguration: Sendable, Equatable, Codable {
        public var rootCertThumbprint: String? = ""
        public var consoleEnabled: Bool? = true
        public var secureBoot: Bool? = true
        public var tpmEnabled: Bool? = true
        public var tpmPersisted: Bool? = true
        public var vmUniqueID: String?

        enum CodingKeys: String, CodingKey {
            case rootCertThumbprint = "root-cert-thumbprint"
            case consoleEnabled = "console-enabled"
            case secureBoot = "secure-boot"
            case tpmEnabled = "tpm-enabled"
            case tpmPersisted = "tpm-persisted"
            case vmUniqueID = "vmUniqueId"
        }

        public init(vmUniqueID: String) { self.vmUniqueID = vmUniqueID }
    }

    public static let attestationKeyID = "HCLAkPub"
    public static let endorsementKeyID = "HCLEkPub"

    public var keys: [Key]
    public var vmConfiguration: VMConfiguration
    /// Hex of the 64 user-data bytes; upper case (Microsoft's example is all zeros, so the case is
    /// a choice, recorded in DECISIONS.md; readers should compare without case).
    public var userData: String?

    enum CodingKeys: String, CodingKey {
        case keys
        case vmConfiguration = "vm-configuration"
        case userData = "user-data"
    }

    public init(keys: [Key], vmConfiguration: VMConfiguration, userData: [UInt8]) {
        self.keys = keys
        self.vmConfiguration = vmConfiguration
        self.userData = Hex.encode(userData).uppercased()
    }

    /// The key named `kid`, nil if the claims carry none.
    public func key(_ kid: String) -> Key? { keys.first { $0.kid == kid } }

    /// The claims as the paravisor writes them: compact JSON in a fixed key order, so equal
    /// claims give equal bytes (and an equal REPORT_DATA).
    public func encoded() -> [UInt8] {
        func key(_ key: Key) -> String {
            let ops = key.keyOps.map(JSONText.quoted).joined(separator: ",")
            return """
                {"kid":\(JSONText.quoted(key.kid)),"key_ops":[\(ops)],"kty":\(JSONText.quoted(key.kty)),\
                "e":\(JSONText.quoted(key.e)),"n":\(JSONText.quoted(key.n))}
                """
        }
        let vm = vmConfiguration
        let fields: [(String, String?)] = [
            ("root-cert-thumbprint", vm.rootCertThumbprint.map(JSONText.quoted)),
            ("console-enabled", vm.consoleEnabled.map(String.init)), ("secure-boot", vm.secureBoot.map(String.init)),
            ("tpm-enabled", vm.tpmEnabled.map(String.init)), ("tpm-persisted", vm.tpmPersisted.map(String.init)),
            ("vmUniqueId", vm.vmUniqueID.map(JSONText.quoted)),
        ]
        let configuration =
            "{" + fields.compactMap { name, value in value.map { "\"\(name)\":\($0)" } }.joined(separator: ",") + "}"
        var text = #"{"keys":["# + keys.map(key).joined(separator: ",") + #"],"vm-configuration":"# + configuration
        if let userData { text += #","user-data":"# + JSONText.quoted(userData) }
        return Array((text + "}").utf8)
    }

    /// Reads claims; refuses text that is not JSON (naming line and column), repeats a key, or
    /// lacks `keys` or `vm-configuration`.
    public init(parsing bytes: [UInt8]) throws(EvidenceError) {
        if let problem = JSONSyntax.firstProblem(in: bytes) {
            throw .malformed(structure: "Azure runtime claims", reason: "not JSON: \(problem)")
        }
        do {
            self = try JSONDecoder().decode(AzureRuntimeClaims.self, from: Data(bytes))
        } catch {
            throw .malformed(structure: "Azure runtime claims", reason: "\(error)")
        }
    }
}

/// Base64url without padding (RFC 4648 §5; RFC 7515 §2's "Base64url Encoding"), what JWKs use.
public enum Base64URL {
    public static func encode(_ bytes: [UInt8]) -> String {
        Data(bytes).base64EncodedString().replacing("+", with: "-").replacing("/", with: "_")
            .replacing("=", with: "")
    }

    /// Nil for text with characters outside the base64url alphabet.
    public static func decode(_ text: String) -> [UInt8]? {
        var standard = text.replacing("-", with: "+").replacing("_", with: "/")
        guard !text.contains("+"), !text.contains("/"), !text.contains("=") else { return nil }
        standard += String(repeating: "=", count: (4 - standard.count % 4) % 4)
        return Data(base64Encoded: standard).map { [UInt8]($0) }
    }
}
