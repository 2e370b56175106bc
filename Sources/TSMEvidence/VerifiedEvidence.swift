import TSMBytes

/// What a guest's verifier vouches for once every check has passed: the guest that made the
/// evidence, its report data (the configfs-tsm inblob) and its claims, and a JSON rendering of
/// them. Each evidence format makes its claims (`init(quote:)`, `init(report:)`, `init(token:)`).
public struct VerifiedEvidence: Sendable, Equatable {
    /// The `--guest` name of the guest whose evidence this is.
    public let guest: String
    /// REPORTDATA (TDX), REPORT_DATA (SEV-SNP), the realm challenge (CCA): the inblob.
    public let reportData: [UInt8]
    /// The claims in rendering order, after `guest`.
    public let claims: [Field]

    public init(guest: String, reportData: [UInt8], claims: [Field]) {
        self.guest = guest
        self.reportData = reportData
        self.claims = claims
    }

    /// One named claim.
    public struct Field: Sendable, Equatable {
        public let name: String
        public let value: Value

        public init(_ name: String, _ value: Value) {
            self.name = name
            self.value = value
        }
    }

    /// One value of the JSON rendering.
    public enum Value: Sendable, Equatable {
        case bytes([UInt8])
        case number(UInt64)
        case text(String)
    }

    /// The fields in rendering order, named as the specifications (lowercase) name them.
    public var fields: [(name: String, value: Value)] {
        [("guest", .text(guest))] + claims.map { ($0.name, $0.value) }
    }

    /// A JSON object, one field a line in `fields` order: byte strings as lowercase hex, u64
    /// fields (policy, TCBs, platform info) as "0x"-prefixed 16-digit hex, versions as "a.b.c".
    public var json: String { json(appending: []) }

    /// The JSON object with `extra` fields after the evidence's own.
    public func json(appending extra: [(name: String, value: Value)]) -> String {
        let lines = (fields + extra).map { field in
            let value: String
            switch field.value {
            case .bytes(let bytes): value = "\"\(Hex.encode(bytes))\""
            case .number(let number): value = String(number)
            case .text(let text): value = JSONText.quoted(text)
            }
            return "  \"\(field.name)\": \(value)"
        }
        return "{\n" + lines.joined(separator: ",\n") + "\n}\n"
    }

    static func hex64(_ value: UInt64) -> String {
        "0x" + Hex.digits(of: value)
    }
}
