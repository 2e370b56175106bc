/// The TDREPORT_STRUCT (1024 bytes, ABI.md 3.6) that TDG.MR.REPORT returns and the
/// `/dev/tdx_guest` `TDX_CMD_GET_REPORT0` ioctl hands back: the one home of its layout, of the
/// ioctl, and of the TD attributes a tsmfs TD has. A quote body (``TDXQuoteBody``) copies its
/// TEE_TCB_INFO and TDINFO fields.
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
        public static let reportType = 0, reportData = 128
        /// TEE_TCB_INFO's fields.
        public static let teeTCBSVN = 264, mrSEAM = 280, mrSignerSEAM = 328, seamAttributes = 376
        /// TDINFO's fields.
        public static let tdAttributes = 512, xfam = 520, mrTD = 528, mrConfigID = 576, mrOwner = 624
        public static let mrOwnerConfig = 672, rtmr0 = 720, servtdHash = 912
        /// RTMR `index` (0...3).
        public static func rtmr(_ index: Int) -> Int { rtmr0 + 48 * index }
    }

    /// REPORTTYPE: type 0x81 (TDX), subtype 0, version 0.
    public static let reportType: [UInt8] = [0x81, 0x00, 0x00, 0x00]
    /// TDATTRIBUTES with SEPT_VE_DISABLE (bit 28) set, as a common production TD has it.
    public static let tdAttributes: [UInt8] = [0x00, 0x00, 0x00, 0x10, 0x00, 0x00, 0x00, 0x00]
    /// XFAM 0x61ae7 (x87, SSE, AVX, AVX-512, PKRU, ...), little-endian.
    public static let xfam: [UInt8] = [0xe7, 0x1a, 0x06, 0x00, 0x00, 0x00, 0x00, 0x00]
}
