/// The TDREPORT_STRUCT (1024 bytes, ABI.md 3.6) that TDG.MR.REPORT returns and the
/// `/dev/tdx_guest` `TDX_CMD_GET_REPORT0` ioctl hands back: the one home of its layout, of the
/// ioctl, and of the TD attributes a tsmfs TD has. A quote body (``TDXQuoteBody``) copies its
/// TEE_TCB_INFO and TDINFO fields.
///
/// ```text
/// REPORTMACSTRUCT 0: REPORTTYPE 0 (4) | reserved 4 (12) | CPUSVN 16 | TEE_TCB_INFO_HASH 32 (48) |
///   TEE_INFO_HASH 80 (48) | REPORTDATA 128 (64) | reserved 192 (32) | MAC 224 (32)
/// TEE_TCB_INFO 256 (239, ``TEETCBInfo``) | reserved 495 (17) | TDINFO 512 (512)
/// ```
///
/// TEE_TCB_INFO_HASH = SHA-384(bytes 256..<495), TEE_INFO_HASH = SHA-384(bytes 512..<1024) and
/// the MAC covers bytes 0..<224, as DCAP's `sgx_report2_t` and the TD quoting enclave's checks
/// (`sgx_verify_report2`, then both hashes) have them. The reserved 17 bytes at 495 are covered
/// by nothing, on hardware too.
public enum TDReport {
    /// Bytes in a TDREPORT.
    public static let size = 1024
    /// Bytes of report data a request carries.
    public static let reportDataSize = 64

    /// `TDX_CMD_GET_REPORT0` = `_IOWR('T', 1, struct tdx_report_req)`: 64 bytes of report data
    /// in, followed by the 1024-byte TDREPORT out.
    public static let getReport0Command: UInt32 = 0xC440_5401
    /// `sizeof(struct tdx_report_req)`.
    public static let requestSize = reportDataSize + size

    /// Byte offsets inside the TDREPORT.
    public enum Offset {
        public static let reportType = 0, cpuSVN = 16, teeTCBInfoHash = 32, teeInfoHash = 80, reportData = 128
        public static let mac = 224, teeTCBInfo = 256, tdInfo = 512
        /// TEE_TCB_INFO's fields.
        public static let teeTCBSVN = 264, mrSEAM = 280, mrSignerSEAM = 328, seamAttributes = 376
        /// TDINFO's fields.
        public static let tdAttributes = 512, xfam = 520, mrTD = 528, mrConfigID = 576, mrOwner = 624
        public static let mrOwnerConfig = 672, rtmr0 = 720, servtdHash = 912
        /// RTMR `index` (0...3).
        public static func rtmr(_ index: Int) -> Int { rtmr0 + 48 * index }
    }

    /// The bytes the MAC covers: REPORTMACSTRUCT before the MAC.
    public static let macCovered = 0..<Offset.mac
    /// TEE_TCB_INFO's bytes, which TEE_TCB_INFO_HASH hashes.
    public static let teeTCBInfoBytes = Offset.teeTCBInfo..<Offset.teeTCBInfo + TEETCBInfo.size
    /// TDINFO's bytes, which TEE_INFO_HASH hashes.
    public static let tdInfoBytes = Offset.tdInfo..<size

    /// REPORTTYPE: type 0x81 (TDX), subtype 0, version 0.
    public static let reportType: [UInt8] = [0x81, 0x00, 0x00, 0x00]
    /// TDATTRIBUTES with SEPT_VE_DISABLE (bit 28) set, as a common production TD has it.
    public static let tdAttributes: [UInt8] = [0x00, 0x00, 0x00, 0x10, 0x00, 0x00, 0x00, 0x00]
    /// XFAM 0x61ae7 (x87, SSE, AVX, AVX-512, PKRU, ...), little-endian.
    public static let xfam: [UInt8] = [0xe7, 0x1a, 0x06, 0x00, 0x00, 0x00, 0x00, 0x00]
}
