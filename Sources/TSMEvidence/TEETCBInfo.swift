import Crypto
import TSMBytes

/// TEE_TCB_INFO (239 bytes, TDREPORT offset 256; DCAP's `tee_tcb_info_v1_5_t`, the TDX module
/// ABI's TEE_TCB_INFO): what the TDX module reports of itself. The one home of the mock module's
/// values: a TDREPORT's TEE_TCB_INFO and a quote body's TEE fields (``TDXQuoteBody``) both come
/// from here, so a TDREPORT and the quote of the same report data agree, as on hardware.
///
/// ```text
/// 0 VALID (8) | 8 TEE_TCB_SVN (16) | 24 MRSEAM (48) | 72 MRSIGNERSEAM (48) | 120 ATTRIBUTES (8) |
/// 128 TEE_TCB_SVN2 (16, TDX 1.5) | 144 reserved (95)
/// ```
///
/// VALID: bit i set = the 8 bytes at offset 8*i are populated. 0x1FF (VALID, TEE_TCB_SVN, MRSEAM;
/// Intel's module leaves MRSIGNERSEAM and ATTRIBUTES zero); 0x301FF adds TEE_TCB_SVN2 (a module
/// with TD preserving, SEAMDB_ENABLED). The TD quoting enclave refuses other values.
public struct TEETCBInfo: Sendable, Equatable {
    /// Bytes of TEE_TCB_INFO (`TEE_TCB_INFO_SIZE`).
    public static let size = 239

    /// Field offsets inside TEE_TCB_INFO.
    public enum Offset {
        public static let valid = 0, teeTCBSVN = 8, mrSEAM = 24, mrSignerSEAM = 72, attributes = 120
        public static let teeTCBSVN2 = 128
    }

    public var valid: UInt64
    /// TEE_TCB_SVN (16): the TDX module's security version numbers.
    public var teeTCBSVN: [UInt8]
    /// MRSEAM (48): the TDX module's measurement.
    public var mrSEAM: [UInt8]
    /// MRSIGNERSEAM (48): zero for Intel's module.
    public var mrSignerSEAM: [UInt8]
    /// ATTRIBUTES (8): the quote body's SEAMATTRIBUTES; zero for Intel's module.
    public var attributes: [UInt8]
    /// TEE_TCB_SVN2 (16): the SVNs the TD started under; nil (zero, not VALID) for a TDX 1.0 module.
    public var teeTCBSVN2: [UInt8]?

    /// TEE_TCB_SVN a mock TDX module 1.5 reports: major 1, minor 5, build 3.
    public static let mockTEETCBSVN: [UInt8] = [0x03, 0x00, 0x05, 0x01] + [UInt8](repeating: 0, count: 12)
    /// A stand-in MRSEAM: SHA-384 of "tsmfs tdx mrseam".
    public static let mockMRSEAM: [UInt8] = Array(SHA384.hash(data: Array("tsmfs tdx mrseam".utf8)))
    /// CPUSVN (REPORTMACSTRUCT offset 16) of the mock platform built for `tcbStatus`: the SGX
    /// components of its TCB level, the CPUSVN its PCK certificate carries (``TDXPlatform``).
    public static func mockCPUSVN(_ tcbStatus: TCBStatus = .upToDate) -> [UInt8] {
        TDXPlatform.sgxComponents(level: tcbStatus.levelIndex)
    }

    /// The mock module as `--tdx-module 1.0` reports it: VALID 0x1FF, no TEE_TCB_SVN2.
    public static let mock = TEETCBInfo(
        valid: 0x1FF, teeTCBSVN: mockTEETCBSVN, mrSEAM: mockMRSEAM, mrSignerSEAM: zeros(48), attributes: zeros(8))
    /// The mock module as `--tdx-module 1.5` reports it: VALID 0x301FF, TEE_TCB_SVN2 = TEE_TCB_SVN
    /// (no module update since the TD started).
    public static let mock15: TEETCBInfo = {
        var info = mock
        info.valid = 0x301FF
        info.teeTCBSVN2 = mockTEETCBSVN
        return info
    }()

    public init(
        valid: UInt64, teeTCBSVN: [UInt8], mrSEAM: [UInt8], mrSignerSEAM: [UInt8], attributes: [UInt8],
        teeTCBSVN2: [UInt8]? = nil
    ) {
        self.valid = valid
        self.teeTCBSVN = teeTCBSVN
        self.mrSEAM = mrSEAM
        self.mrSignerSEAM = mrSignerSEAM
        self.attributes = attributes
        self.teeTCBSVN2 = teeTCBSVN2
    }

    /// The 239 bytes; each field cut or zero-padded to its size.
    public func encoded() -> [UInt8] {
        let fields =
            Self.fit(valid.littleEndianBytes, 8) + Self.fit(teeTCBSVN, 16) + Self.fit(mrSEAM, 48)
            + Self.fit(mrSignerSEAM, 48) + Self.fit(attributes, 8) + Self.fit(teeTCBSVN2 ?? [], 16)
        return fields + Self.zeros(Self.size - fields.count)
    }

    static func zeros(_ count: Int) -> [UInt8] { [UInt8](repeating: 0, count: count) }

    private static func fit(_ bytes: [UInt8], _ count: Int) -> [UInt8] {
        Array(bytes.prefix(count)) + zeros(max(0, count - bytes.count))
    }
}
