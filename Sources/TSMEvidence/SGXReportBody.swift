import Crypto
import TSMBytes

/// The 384-byte SGX REPORT body (sgx_report_body_t) a DCAP quote carries as its QE report: the
/// quoting enclave's identity plus REPORTDATA, which binds the attestation key.
public struct SGXReportBody: Sendable, Equatable {
    /// sizeof(sgx_report_body_t).
    public static let size = 384
    /// Where REPORTDATA starts inside the 384 bytes.
    public static let reportDataOffset = 320

    /// CPUSVN (16 bytes at 0).
    public var cpuSVN: [UInt8]
    /// MISCSELECT (u32 at 16); 28 reserved bytes follow.
    public var miscSelect: UInt32
    /// ATTRIBUTES (16 bytes at 48): flags then XFRM.
    public var attributes: [UInt8]
    /// MRENCLAVE (32 bytes at 64); 32 reserved bytes follow.
    public var mrEnclave: [UInt8]
    /// MRSIGNER (32 bytes at 128); 96 reserved bytes follow.
    public var mrSigner: [UInt8]
    /// ISVPRODID (u16 at 256).
    public var isvProdID: UInt16
    /// ISVSVN (u16 at 258); 60 reserved bytes follow.
    public var isvSVN: UInt16
    /// REPORTDATA (64 bytes at 320).
    public var reportData: [UInt8]

    /// A mock quoting enclave's report: the identity fields are fixed stand-ins (ISVPRODID 1 as
    /// Intel's QE3, MRENCLAVE and MRSIGNER hashes of labels), REPORTDATA as given.
    public static func mockQuotingEnclave(reportData: [UInt8]) -> SGXReportBody {
        SGXReportBody(
            cpuSVN: [0x0b, 0x0b, 0x02, 0x02, 0xff, 0x01, 0x80, 0x00] + [UInt8](repeating: 0, count: 8),
            miscSelect: 0,
            attributes: [0x11, 0, 0, 0, 0, 0, 0, 0, 0xe7, 0, 0, 0, 0, 0, 0, 0],
            mrEnclave: Array(SHA256.hash(data: Array("tsmfs mock quoting enclave".utf8))),
            mrSigner: Array(SHA256.hash(data: Array("tsmfs mock quoting enclave signer".utf8))),
            isvProdID: 1, isvSVN: 8, reportData: reportData)
    }

    /// A report body from its fields; `encoded()` checks their sizes.
    public init(
        cpuSVN: [UInt8], miscSelect: UInt32, attributes: [UInt8], mrEnclave: [UInt8], mrSigner: [UInt8],
        isvProdID: UInt16, isvSVN: UInt16, reportData: [UInt8]
    ) {
        self.cpuSVN = cpuSVN
        self.miscSelect = miscSelect
        self.attributes = attributes
        self.mrEnclave = mrEnclave
        self.mrSigner = mrSigner
        self.isvProdID = isvProdID
        self.isvSVN = isvSVN
        self.reportData = reportData
    }

    /// The fields of 384 raw bytes; reserved bytes are not kept.
    public init(_ bytes: [UInt8]) throws(EvidenceError) {
        var reader = ByteReader(bytes, structure: "QE report")
        cpuSVN = try reader.read(16, "CPUSVN")
        miscSelect = try reader.u32("MISCSELECT")
        _ = try reader.read(28, "reserved")
        attributes = try reader.read(16, "ATTRIBUTES")
        mrEnclave = try reader.read(32, "MRENCLAVE")
        _ = try reader.read(32, "reserved")
        mrSigner = try reader.read(32, "MRSIGNER")
        _ = try reader.read(96, "reserved")
        isvProdID = try reader.u16("ISVPRODID")
        isvSVN = try reader.u16("ISVSVN")
        _ = try reader.read(60, "reserved")
        reportData = try reader.read(64, "REPORTDATA")
    }

    /// The 384 bytes, reserved bytes zero; `invalidInput` names a field of the wrong size.
    public func encoded() throws(EvidenceError) -> [UInt8] {
        try requireSize(cpuSVN, 16, "QE report CPUSVN")
        try requireSize(attributes, 16, "QE report ATTRIBUTES")
        try requireSize(mrEnclave, 32, "QE report MRENCLAVE")
        try requireSize(mrSigner, 32, "QE report MRSIGNER")
        try requireSize(reportData, 64, "QE report REPORTDATA")
        var writer = ByteWriter()
        writer.append(cpuSVN)
        writer.u32(miscSelect)
        writer.zeros(28)
        writer.append(attributes)
        writer.append(mrEnclave)
        writer.zeros(32)
        writer.append(mrSigner)
        writer.zeros(96)
        writer.u16(isvProdID)
        writer.u16(isvSVN)
        writer.zeros(60)
        writer.append(reportData)
        return writer.bytes
    }

    /// What DCAP requires of the QE report's REPORTDATA: SHA-256(attestation key ‖ QE auth
    /// data) followed by 32 zero bytes.
    public static func bindingReportData(attestationKey: [UInt8], qeAuthData: [UInt8]) -> [UInt8] {
        Array(SHA256.hash(data: attestationKey + qeAuthData)) + [UInt8](repeating: 0, count: 32)
    }
}
