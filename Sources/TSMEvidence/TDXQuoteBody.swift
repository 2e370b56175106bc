/// The 584-byte TD quote body of a DCAP Quote v4 (ABI.md 4.6, quote offsets 48..<632): the
/// TDREPORT's TEE_TCB_INFO and TDINFO fields and its REPORTDATA, in quote order.
public struct TDXQuoteBody: Sendable, Equatable {
    /// Bytes in the body.
    public static let size = 584
    /// Where each field starts inside the body (add `TDXQuote.bodyOffset` for the quote offset).
    public enum Offset {
        public static let teeTCBSVN = 0, mrSEAM = 16, mrSignerSEAM = 64, seamAttributes = 112
        public static let tdAttributes = 120, xfam = 128, mrTD = 136, mrConfigID = 184
        public static let mrOwner = 232, mrOwnerConfig = 280, rtmr0 = 328, reportData = 520
    }

    /// TEE_TCB_SVN (16): the TDX module's security version numbers.
    public var teeTCBSVN: [UInt8]
    /// MRSEAM (48): the TDX module's measurement.
    public var mrSEAM: [UInt8]
    /// MRSIGNERSEAM (48): the TDX module signer's measurement; zero for Intel's module.
    public var mrSignerSEAM: [UInt8]
    /// SEAMATTRIBUTES (8).
    public var seamAttributes: [UInt8]
    /// TDATTRIBUTES (8): DEBUG, SEPT_VE_DISABLE, ... as the TD was built.
    public var tdAttributes: [UInt8]
    /// XFAM (8): the extended features the TD may use.
    public var xfam: [UInt8]
    /// MRTD (48): the build-time measurement of the TD.
    public var mrTD: [UInt8]
    /// MRCONFIGID (48): owner-defined configuration ID.
    public var mrConfigID: [UInt8]
    /// MROWNER (48): the TD owner's identity.
    public var mrOwner: [UInt8]
    /// MROWNERCONFIG (48): owner-defined configuration.
    public var mrOwnerConfig: [UInt8]
    /// RTMR0...RTMR3 (48 each), the run-time measurement registers.
    public var rtmrs: [[UInt8]]
    /// REPORTDATA (64): the configfs-tsm inblob.
    public var reportData: [UInt8]
    /// TD 1.5 only (Quote v5 body type 3): TEE_TCB_SVN2 (16), the module's SVNs for a TD that
    /// survived a module update; nil for a TD 1.0 body.
    public var teeTCBSVN2: [UInt8]?
    /// TD 1.5 only: MRSERVICETD (48), the service TDs bound to this TD (zero for none).
    public var mrServiceTD: [UInt8]?

    /// Bytes of a TD 1.5 body: TD 1.0's, then TEE_TCB_SVN2 and MRSERVICETD.
    public static let td15Size = size + 16 + 48
    /// Whether this is a TD 1.5 body (Quote v5, body type 3).
    public var isTD15: Bool { teeTCBSVN2 != nil || mrServiceTD != nil }

    /// This body as TD 1.5 reports it: TEE_TCB_SVN2 = TEE_TCB_SVN (no module update since the TD
    /// started), MRSERVICETD zero (no service TD bound; verifiers refuse a non-zero one unless told).
    public func td15() -> TDXQuoteBody {
        var body = self
        body.teeTCBSVN2 = teeTCBSVN
        body.mrServiceTD = Self.zeros(48)
        return body
    }

    /// TEE_TCB_SVN of the mock TDX module (``TEETCBInfo/mockTEETCBSVN``, its one home).
    public static var mockTEETCBSVN: [UInt8] { TEETCBInfo.mockTEETCBSVN }
    /// MRSEAM of the mock TDX module (``TEETCBInfo/mockMRSEAM``).
    public static var mockMRSEAM: [UInt8] { TEETCBInfo.mockMRSEAM }

    private static func zeros(_ count: Int) -> [UInt8] { [UInt8](repeating: 0, count: count) }

    /// A body from the guest's registers; the TDX-module fields default to the mock module's
    /// (``TEETCBInfo/mock``, which a tsmfs TDREPORT's TEE_TCB_INFO carries too).
    /// Throws `invalidInput` naming the first field of the wrong size.
    public init(
        mrTD: [UInt8], mrConfigID: [UInt8], mrOwner: [UInt8], mrOwnerConfig: [UInt8],
        rtmrs: [[UInt8]], reportData: [UInt8],
        tdAttributes: [UInt8] = TDReport.tdAttributes, xfam: [UInt8] = TDReport.xfam,
        teeTCBSVN: [UInt8] = TEETCBInfo.mock.teeTCBSVN, mrSEAM: [UInt8] = TEETCBInfo.mock.mrSEAM,
        mrSignerSEAM: [UInt8] = TEETCBInfo.mock.mrSignerSEAM, seamAttributes: [UInt8] = TEETCBInfo.mock.attributes
    ) throws(EvidenceError) {
        self.init(
            teeTCBSVN: teeTCBSVN, mrSEAM: mrSEAM, mrSignerSEAM: mrSignerSEAM, seamAttributes: seamAttributes,
            tdAttributes: tdAttributes, xfam: xfam, mrTD: mrTD, mrConfigID: mrConfigID, mrOwner: mrOwner,
            mrOwnerConfig: mrOwnerConfig, rtmrs: rtmrs, reportData: reportData)
        try validate()
    }

    /// A body copied from a 1024-byte TDREPORT_STRUCT (ABI.md 3.6): REPORTDATA at 128;
    /// TEE_TCB_INFO at 256 (TEE_TCB_SVN 264, MRSEAM 280, MRSIGNERSEAM 328, ATTRIBUTES 376);
    /// TDINFO at 512 (ATTRIBUTES, XFAM, MRTD, MRCONFIGID, MROWNER, MROWNERCONFIG, RTMR0-3).
    public init(tdReport: [UInt8]) throws(EvidenceError) {
        guard tdReport.count == TDReport.size else {
            throw .invalidInput(field: "TDREPORT", reason: "\(tdReport.count) bytes, expected \(TDReport.size)")
        }
        typealias At = TDReport.Offset
        func slice(_ offset: Int, _ count: Int) -> [UInt8] { Array(tdReport[offset..<offset + count]) }
        try self.init(
            mrTD: slice(At.mrTD, 48), mrConfigID: slice(At.mrConfigID, 48), mrOwner: slice(At.mrOwner, 48),
            mrOwnerConfig: slice(At.mrOwnerConfig, 48), rtmrs: (0..<4).map { slice(At.rtmr($0), 48) },
            reportData: slice(At.reportData, TDReport.reportDataSize),
            tdAttributes: slice(At.tdAttributes, 8), xfam: slice(At.xfam, 8), teeTCBSVN: slice(At.teeTCBSVN, 16),
            mrSEAM: slice(At.mrSEAM, 48), mrSignerSEAM: slice(At.mrSignerSEAM, 48),
            seamAttributes: slice(At.seamAttributes, 8))
    }

    func validate() throws(EvidenceError) {
        try requireSize(teeTCBSVN, 16, "TEE_TCB_SVN")
        try requireSize(mrSEAM, 48, "MRSEAM")
        try requireSize(mrSignerSEAM, 48, "MRSIGNERSEAM")
        try requireSize(seamAttributes, 8, "SEAMATTRIBUTES")
        try requireSize(tdAttributes, 8, "TDATTRIBUTES")
        try requireSize(xfam, 8, "XFAM")
        try requireSize(mrTD, 48, "MRTD")
        try requireSize(mrConfigID, 48, "MRCONFIGID")
        try requireSize(mrOwner, 48, "MROWNER")
        try requireSize(mrOwnerConfig, 48, "MROWNERCONFIG")
        guard rtmrs.count == 4 else {
            throw .invalidInput(field: "RTMRs", reason: "\(rtmrs.count) registers, expected 4")
        }
        for (index, rtmr) in rtmrs.enumerated() { try requireSize(rtmr, 48, "RTMR\(index)") }
        try requireSize(reportData, 64, "REPORTDATA")
        if isTD15 {
            try requireSize(teeTCBSVN2 ?? [], 16, "TEE_TCB_SVN2")
            try requireSize(mrServiceTD ?? [], 48, "MRSERVICETD")
        }
    }

    /// The 584 body bytes.
    public func encoded() throws(EvidenceError) -> [UInt8] {
        try validate()
        return teeTCBSVN + mrSEAM + mrSignerSEAM + seamAttributes + tdAttributes + xfam
            + mrTD + mrConfigID + mrOwner + mrOwnerConfig + rtmrs.flatMap { $0 } + reportData
            + (isTD15 ? (teeTCBSVN2 ?? []) + (mrServiceTD ?? []) : [])
    }

    static func parse(_ reader: inout ByteReader, td15: Bool = false) throws(EvidenceError) -> TDXQuoteBody {
        var body = try TDXQuoteBody(
            teeTCBSVN: reader.read(16, "TEE_TCB_SVN"), mrSEAM: reader.read(48, "MRSEAM"),
            mrSignerSEAM: reader.read(48, "MRSIGNERSEAM"), seamAttributes: reader.read(8, "SEAMATTRIBUTES"),
            tdAttributes: reader.read(8, "TDATTRIBUTES"), xfam: reader.read(8, "XFAM"),
            mrTD: reader.read(48, "MRTD"), mrConfigID: reader.read(48, "MRCONFIGID"),
            mrOwner: reader.read(48, "MROWNER"), mrOwnerConfig: reader.read(48, "MROWNERCONFIG"),
            rtmrs: [
                reader.read(48, "RTMR0"), reader.read(48, "RTMR1"), reader.read(48, "RTMR2"), reader.read(48, "RTMR3"),
            ],
            reportData: reader.read(64, "REPORTDATA"))
        if td15 {
            body.teeTCBSVN2 = try reader.read(16, "TEE_TCB_SVN2")
            body.mrServiceTD = try reader.read(48, "MRSERVICETD")
        }
        return body
    }

    /// Field order as parsed, sizes already checked by the reader.
    private init(
        teeTCBSVN: [UInt8], mrSEAM: [UInt8], mrSignerSEAM: [UInt8], seamAttributes: [UInt8],
        tdAttributes: [UInt8], xfam: [UInt8], mrTD: [UInt8], mrConfigID: [UInt8], mrOwner: [UInt8],
        mrOwnerConfig: [UInt8], rtmrs: [[UInt8]], reportData: [UInt8]
    ) {
        self.teeTCBSVN = teeTCBSVN
        self.mrSEAM = mrSEAM
        self.mrSignerSEAM = mrSignerSEAM
        self.seamAttributes = seamAttributes
        self.tdAttributes = tdAttributes
        self.xfam = xfam
        self.mrTD = mrTD
        self.mrConfigID = mrConfigID
        self.mrOwner = mrOwner
        self.mrOwnerConfig = mrOwnerConfig
        self.rtmrs = rtmrs
        self.reportData = reportData
    }
}
