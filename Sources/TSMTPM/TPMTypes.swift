import TSMBytes

/// A TPM_ALG_ID of a hash (TPM 2.0 Part 2, 6.3), the banks PCRs come in.
public enum TPMAlgorithm: UInt16, Sendable, CaseIterable, CustomStringConvertible {
    case sha1 = 0x0004
    case sha256 = 0x000B
    case sha384 = 0x000C
    case sha512 = 0x000D

    /// The digest size in bytes.
    public var digestSize: Int {
        switch self {
        case .sha1: return 20
        case .sha256: return 32
        case .sha384: return 48
        case .sha512: return 64
        }
    }

    /// "sha256", as swtpm_setup and tpm2-tools name banks.
    public var description: String {
        switch self {
        case .sha1: return "sha1"
        case .sha256: return "sha256"
        case .sha384: return "sha384"
        case .sha512: return "sha512"
        }
    }
}

/// A TPM_RC (TPM 2.0 Part 2, 6.6): format-zero and format-one codes, with their names.
public struct TPMResponseCode: Sendable, Equatable, CustomStringConvertible {
    /// The code as the response header carries it.
    public let rawValue: UInt32
    /// The code `rawValue`.
    public init(_ rawValue: UInt32) { self.rawValue = rawValue }

    /// TPM_RC_SUCCESS.
    public static let success = TPMResponseCode(0)
    /// TPM_RC_HANDLE (format one, no parameter/handle/session number).
    public static let handle = TPMResponseCode(0x08B)
    /// TPM_RC_VALUE.
    public static let value = TPMResponseCode(0x084)
    /// TPM_RC_SIZE.
    public static let size = TPMResponseCode(0x095)
    /// TPM_RC_COMMAND_CODE.
    public static let commandCode = TPMResponseCode(0x143)
    /// TPM_RC_COMMAND_SIZE.
    public static let commandSize = TPMResponseCode(0x142)
    /// TPM_RC_NV_DEFINED.
    public static let nvDefined = TPMResponseCode(0x14C)
    /// TPM_RC_OBJECT_MEMORY (a warning: out of object slots).
    public static let objectMemory = TPMResponseCode(0x902)
    /// TPM_RC_SESSION_MEMORY.
    public static let sessionMemory = TPMResponseCode(0x903)
    /// TPM_RC_LOCALITY: the command (an extend of PCRs 17-22) is not allowed at this locality.
    public static let locality = TPMResponseCode(0x907)
    /// TPM_RC_INITIALIZE: TPM2_Startup when the TPM has already started.
    public static let initialize = TPMResponseCode(0x100)
    /// TPM_RC_INTEGRITY (format one): a context blob fails its integrity check (one saved before a
    /// TPM Reset: its integrity covers totalResetCount).
    public static let integrity = TPMResponseCode(0x09F)
    /// TPM_RC_REFERENCE_H0: a handle in the command names nothing loaded.
    public static let referenceH0 = TPMResponseCode(0x910)

    /// Whether the code is format one (bit 7), whose low 6 bits are the error.
    public var isFormatOne: Bool { rawValue & 0x80 != 0 }

    /// The code without the parameter, handle or session number of a format-one code.
    public var base: UInt32 { isFormatOne ? (rawValue & 0x3F) | 0x80 : rawValue }

    /// "TPM_RC_HANDLE (0x0000018b)": the name of its base code where known, and the code.
    public var description: String {
        let hex = "0x" + Hex.digits(of: rawValue)
        guard let name = Self.names[base] else { return "TPM_RC \(hex)" }
        return "\(name) (\(hex))"
    }

    static let names: [UInt32: String] = [
        0: "TPM_RC_SUCCESS", 0x084: "TPM_RC_VALUE", 0x08B: "TPM_RC_HANDLE", 0x095: "TPM_RC_SIZE",
        0x08E: "TPM_RC_AUTH_FAIL", 0x09F: "TPM_RC_INTEGRITY", 0x100: "TPM_RC_INITIALIZE", 0x09D: "TPM_RC_POLICY_FAIL",
        0x101: "TPM_RC_FAILURE",
        0x143: "TPM_RC_COMMAND_CODE", 0x142: "TPM_RC_COMMAND_SIZE", 0x14C: "TPM_RC_NV_DEFINED",
        0x14B: "TPM_RC_NV_UNINITIALIZED", 0x148: "TPM_RC_NV_LOCKED", 0x902: "TPM_RC_OBJECT_MEMORY",
        0x903: "TPM_RC_SESSION_MEMORY", 0x910: "TPM_RC_REFERENCE_H0", 0x120: "TPM_RC_AUTH_MISSING",
        0x12F: "TPM_RC_AUTH_UNAVAILABLE", 0x149: "TPM_RC_NV_AUTHORIZATION", 0x922: "TPM_RC_RETRY",
        0x907: "TPM_RC_LOCALITY",
    ]
}

/// A parsed TPM response: tag, response code and what follows the 10-byte header.
public struct TPMResponse: Sendable, Equatable {
    /// TPM_ST_NO_SESSIONS or TPM_ST_SESSIONS.
    public let tag: UInt16
    /// The response code.
    public let code: TPMResponseCode
    /// The bytes after the header (handles, parameter size when tagged with sessions, parameters,
    /// session area).
    public let body: [UInt8]

    /// Parses `bytes`, which must be exactly as long as the header says.
    public init(_ bytes: [UInt8]) throws(VTPMError) {
        var reader = ByteReader<VTPMError>(bytes, structure: "TPM response")
        tag = try reader.u16BigEndian("tag")
        let size = try reader.u32BigEndian("responseSize")
        code = TPMResponseCode(try reader.u32BigEndian("responseCode"))
        guard size == bytes.count else {
            throw .responseMalformed(reason: "header says \(size) bytes, \(bytes.count) received")
        }
        body = Array(bytes[10...])
    }

    /// The parameters of a successful response to a command with `handles` response handles:
    /// after them and, when tagged TPM_ST_SESSIONS, after the parameterSize field, and without
    /// the session area.
    public func parameters(handles: Int = 0) throws(VTPMError) -> [UInt8] {
        var reader = ByteReader<VTPMError>(body, structure: "TPM response")
        _ = try reader.read(4 * handles, "handles")
        guard tag == TPM2Commands.tagSessions else { return Array(body[reader.offset...]) }
        let size = Int(try reader.u32BigEndian("parameterSize"))
        return try reader.read(size, "parameters")
    }
}

extension VTPMError: TruncationReporting {
    /// A truncated response: ``VTPMError/responseMalformed(reason:)`` naming the field.
    public static func truncated(_ truncation: Truncation) -> VTPMError {
        .responseMalformed(
            reason: "\(truncation.structure) \(truncation.field) at offset \(truncation.offset) needs "
                + "\(truncation.needed) bytes, \(truncation.available) left")
    }
}
