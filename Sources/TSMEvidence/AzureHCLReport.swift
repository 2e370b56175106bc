import Crypto
import TSMBytes

/// The attestation report Azure's paravisor (the HCL) leaves in the vTPM's NV index 0x01400001
/// (Microsoft, "Confidential VM guest attestation design detail", Attestation Report Format; as
/// kinvolk/azure-cvm-tooling's az-cvm-vtpm `hcl` module reads it): a 32-byte header (`HCLA`,
/// version, payload size, request type 2), a 1,184-byte slot holding the hardware report (an
/// SEV-SNP ATTESTATION_REPORT, or a TDREPORT in its first 1,024 bytes), then the runtime data: its
/// u32 size (20 + claims), version 1, report type (2 SNP, 4 TDX), hash type (1 SHA-256, 2 SHA-384,
/// 3 SHA-512), u32 claims size, and the runtime claims (JSON). The hardware report's REPORT_DATA
/// holds the hash of the claims (the claims are what the hardware vouches for); the header and the
/// runtime data's own fields are not covered. All integers little-endian.
public struct AzureHCLReport: Sendable, Equatable {
    /// `HCLA` read as a little-endian u32.
    public static let signature: UInt32 = 0x414C_4348
    /// Where Azure's vTPM keeps it, and where writing 64 bytes asks for a fresh one.
    public static let nvIndex: UInt32 = 0x0140_0001
    public static let userDataNVIndex: UInt32 = 0x0140_0002
    /// The NV index's size on Azure (the design-detail page's table); the report is zero-padded.
    public static let nvSize = 2600
    static let headerSize = 32
    /// The hardware-report slot: an ATTESTATION_REPORT's size, the larger of the two.
    public static let hardwareSlotSize = 1184
    static let runtimeHeaderSize = 20
    /// Where the claims start.
    public static let claimsOffset = headerSize + hardwareSlotSize + runtimeHeaderSize
    /// The most claims bytes an NV index of ``nvSize`` holds.
    public static let maximumClaimsSize = nvSize - claimsOffset

    /// The runtime data's report type.
    public enum ReportType: UInt32, Sendable {
        case snp = 2
        case tdx = 4

        /// The hardware report's size inside the slot.
        public var size: Int { self == .snp ? 1184 : 1024 }
    }

    /// The runtime data's hash type: the hash of the claims in REPORT_DATA.
    public enum HashType: UInt32, Sendable {
        case sha256 = 1
        case sha384 = 2
        case sha512 = 3

        func digest(_ bytes: [UInt8]) -> [UInt8] {
            switch self {
            case .sha256: Array(SHA256.hash(data: bytes))
            case .sha384: Array(SHA384.hash(data: bytes))
            case .sha512: Array(SHA512.hash(data: bytes))
            }
        }
    }

    /// Header version: 2 in Microsoft's published format (reports from 2023 carry 1).
    public var version: UInt32 = 2
    public var reportType: ReportType
    public var hashType: HashType = .sha256
    /// The hardware report, ``ReportType/size`` bytes.
    public var hardwareReport: [UInt8]
    /// The runtime claims exactly as carried (their hash is in the hardware report).
    public var claims: [UInt8]

    public init(reportType: ReportType, hardwareReport: [UInt8], claims: [UInt8], hashType: HashType = .sha256) {
        self.reportType = reportType
        self.hardwareReport = hardwareReport
        self.claims = claims
        self.hashType = hashType
    }

    /// The 64-byte REPORT_DATA a hardware report over `claims` carries: the claims' hash,
    /// zero-padded (SHA-256: 32 hash bytes then 32 zero bytes).
    public static func reportData(claims: [UInt8], hashType: HashType = .sha256) -> [UInt8] {
        let digest = hashType.digest(claims)
        return digest + [UInt8](repeating: 0, count: 64 - digest.count)
    }

    /// This report's expected REPORT_DATA (see ``reportData(claims:hashType:)``).
    public var expectedReportData: [UInt8] { Self.reportData(claims: claims, hashType: hashType) }

    /// The NV index's contents: header, slot, runtime data, zero-padded to `paddedTo` bytes when
    /// given (Azure's index is ``nvSize``). Throws `invalidInput` for a hardware report of the
    /// wrong size or claims larger than ``maximumClaimsSize``.
    public func encoded(paddedTo: Int? = nvSize) throws(EvidenceError) -> [UInt8] {
        guard hardwareReport.count == reportType.size else {
            throw .invalidInput(
                field: "hardware report",
                reason: "\(hardwareReport.count) bytes, a \(reportType) one has \(reportType.size)")
        }
        guard claims.count <= Self.maximumClaimsSize else {
            throw .invalidInput(
                field: "runtime claims", reason: "\(claims.count) bytes, at most \(Self.maximumClaimsSize) fit")
        }
        var writer = ByteWriter()
        writer.u32(Self.signature)
        writer.u32(version)
        writer.u32(UInt32(Self.hardwareSlotSize))
        writer.u32(2)  // request type
        writer.zeros(16)  // status, reserved
        writer.append(hardwareReport)
        writer.zeros(Self.hardwareSlotSize - hardwareReport.count)
        writer.u32(UInt32(Self.runtimeHeaderSize + claims.count))
        writer.u32(1)  // runtime data version
        writer.u32(reportType.rawValue)
        writer.u32(hashType.rawValue)
        writer.u32(UInt32(claims.count))
        writer.append(claims)
        if let paddedTo, writer.bytes.count < paddedTo { writer.zeros(paddedTo - writer.bytes.count) }
        return writer.bytes
    }

    /// Reads an NV index's contents (trailing padding ignored). Refuses, naming the field: a
    /// wrong signature, a header version other than 1 or 2, a request type other than 2, a runtime
    /// data version other than 1, an unknown report or hash type, sizes that disagree or overrun.
    public init(parsing bytes: [UInt8]) throws(EvidenceError) {
        let name = "Azure HCL report"
        guard bytes.count >= Self.claimsOffset else {
            throw .truncated(
                structure: name, field: "runtime data", offset: Self.headerSize + Self.hardwareSlotSize,
                needed: Self.runtimeHeaderSize, available: bytes.count - Self.headerSize - Self.hardwareSlotSize)
        }
        func u32(_ offset: Int) -> UInt32 { UInt32(littleEndianBytes: bytes[offset..<offset + 4]) }
        guard u32(0) == Self.signature else {
            throw .malformed(structure: name, reason: "signature 0x\(Hex.encode(u32(0).littleEndianBytes)), not HCLA")
        }
        guard [1, 2].contains(u32(4)) else { throw .malformed(structure: name, reason: "header version \(u32(4))") }
        guard u32(12) == 2 else { throw .malformed(structure: name, reason: "request type \(u32(12)), not 2") }
        let runtime = Self.headerSize + Self.hardwareSlotSize
        guard u32(runtime + 4) == 1 else {
            throw .malformed(structure: name, reason: "runtime data version \(u32(runtime + 4)), not 1")
        }
        guard let type = ReportType(rawValue: u32(runtime + 8)) else {
            throw .malformed(structure: name, reason: "report type \(u32(runtime + 8)) (2 is SEV-SNP, 4 TDX)")
        }
        guard let hash = HashType(rawValue: u32(runtime + 12)) else {
            throw .malformed(structure: name, reason: "hash type \(u32(runtime + 12)) (1 to 3)")
        }
        let claimsSize = Int(u32(runtime + 16))
        guard claimsSize <= bytes.count - Self.claimsOffset else {
            throw .truncated(
                structure: name, field: "runtime claims", offset: Self.claimsOffset, needed: claimsSize,
                available: bytes.count - Self.claimsOffset)
        }
        guard Int(u32(runtime)) == Self.runtimeHeaderSize + claimsSize else {
            throw .malformed(
                structure: name, reason: "runtime data size \(u32(runtime)) for \(claimsSize) bytes of claims")
        }
        self.version = u32(4)
        self.reportType = type
        self.hashType = hash
        self.hardwareReport = Array(bytes[Self.headerSize..<Self.headerSize + type.size])
        self.claims = Array(bytes[Self.claimsOffset..<Self.claimsOffset + claimsSize])
    }
}
