import TSMBackends
import TSMBytes
import TSMEvidence
import TSMModel

/// A TDX guest's registers: each named once, as a need its faces resolve, and the built-in
/// `tdx` table written from those needs. An instance holds them resolved once from the measured
/// provider: what the quote, the TDREPORT of `/dev/tdx_guest`, the 6.16 files and the event log
/// read and extend. Every face takes this, never register names.
public struct TDXRegisters: Sendable {
    public static let mrtd = RegisterNeed.digest("mrtd", .sha384)
    public static let mrconfigid = RegisterNeed.digest("mrconfigid", .sha384)
    public static let mrowner = RegisterNeed.digest("mrowner", .sha384)
    public static let mrownerconfig = RegisterNeed.digest("mrownerconfig", .sha384)
    public static let servtdHash = RegisterNeed.digest("servtd_hash", .sha384)
    /// RTMR0...RTMR3, extended as TDG.MR.RTMR.EXTEND.
    public static let rtmrs: [RegisterNeed] = (0..<4).map { .digest("rtmr\($0)", .sha384, extensible: true) }
    public static let reportData = RegisterNeed.file("reportdata", size: TDReport.reportDataSize)
    public static let report0 = RegisterNeed.file("report0", size: TDReport.size)

    /// A TDX guest in RFC v2 shape: launch registers, four RTMRs, `reportdata` and a `report0`
    /// TDREPORT rebuilt from them (ABI.md 3.2, 3.6 offsets).
    public static let table: ProviderDescriptor = {
        let launch = [mrtd, mrconfigid, mrowner, mrownerconfig, servtdHash].map { need in
            need.row([.readable], initial: BuiltinProviders.launchValue("tdx \(need.name)", .sha384))
        }
        return ProviderDescriptor(
            name: "tdx",
            registers: launch + rtmrs.map { $0.row(RegisterFlags.rtmr.union(.writable)) } + [
                reportData.row([.readable, .writable, .file]),
                report0.row([.live, .readable, .file], derivation: .layout(tdReportFields)),
            ])
    }()

    /// The registers a TDREPORT (TSMEvidence's ``TDReport``) shows, with their offsets.
    static let tdReportRegisters: [(register: RegisterNeed, offset: Int)] =
        [
            (mrtd, TDReport.Offset.mrTD), (mrconfigid, TDReport.Offset.mrConfigID), (mrowner, TDReport.Offset.mrOwner),
            (mrownerconfig, TDReport.Offset.mrOwnerConfig),
        ] + rtmrs.enumerated().map { ($0.element, TDReport.Offset.rtmr($0.offset)) } + [
            (servtdHash, TDReport.Offset.servtdHash)
        ]

    /// `report0`'s layout: REPORTTYPE, REPORTDATA, TDATTRIBUTES, XFAM and the registers.
    static let tdReportFields: [LayoutField] =
        [
            .bytes(TDReport.reportType, at: TDReport.Offset.reportType),
            .register(reportData.name, at: TDReport.Offset.reportData),
            .bytes(TDReport.tdAttributes, at: TDReport.Offset.tdAttributes),
            .bytes(TDReport.xfam, at: TDReport.Offset.xfam),
        ]
        + tdReportRegisters.map { .register($0.register.name, at: $0.offset) }

    /// `table` with `report0`'s TDATTRIBUTES and XFAM (little-endian u64s, TDREPORT's TDINFO)
    /// replaced by `tdAttributes` and `xfam`; a table without `report0` (a `--config`) as it is.
    public static func withTDInfo(_ table: ProviderDescriptor, tdAttributes: UInt64, xfam: UInt64)
        -> ProviderDescriptor
    {
        var table = table
        for index in table.registers.indices where table.registers[index].name == report0.name {
            guard case .layout(var fields) = table.registers[index].derivation else { continue }
            for field in fields.indices {
                if fields[field].offset == TDReport.Offset.tdAttributes {
                    fields[field].source = .bytes(tdAttributes.littleEndianBytes)
                } else if fields[field].offset == TDReport.Offset.xfam {
                    fields[field].source = .bytes(xfam.littleEndianBytes)
                }
            }
            table.registers[index].derivation = .layout(fields)
        }
        return table
    }

    public let provider: MeasurementProvider
    /// TDATTRIBUTES and XFAM (little-endian u64s) every quote body carries.
    public var tdAttributes = TDReport.tdAttributes, xfam = TDReport.xfam
    public let mrTD, mrConfigID, mrOwner, mrOwnerConfig: RegisterHandle
    /// RTMR0...RTMR3.
    public let rtmrHandles: [RegisterHandle]

    /// Resolves the registers a TDX quote needs; `face` names the face in the error.
    public init(_ provider: MeasurementProvider, for face: String) throws(RegisterBindingError) {
        self.provider = provider
        mrTD = try provider.handle(Self.mrtd, for: face)
        mrConfigID = try provider.handle(Self.mrconfigid, for: face)
        mrOwner = try provider.handle(Self.mrowner, for: face)
        mrOwnerConfig = try provider.handle(Self.mrownerconfig, for: face)
        var rtmrs: [RegisterHandle] = []
        for need in Self.rtmrs { rtmrs.append(try provider.handle(need, for: face)) }
        rtmrHandles = rtmrs
    }

    /// A quote body over the registers' current values and `reportData`.
    public func quoteBody(reportData: [UInt8]) throws(EvidenceError) -> TDXQuoteBody {
        try quoteBody(reportData: reportData, in: provider.snapshot())
    }

    /// A quote body over `values` (a snapshot of the provider) and `reportData`.
    public func quoteBody(reportData: [UInt8], in values: RegisterValues) throws(EvidenceError) -> TDXQuoteBody {
        try TDXQuoteBody(
            mrTD: mrTD.value(in: values), mrConfigID: mrConfigID.value(in: values),
            mrOwner: mrOwner.value(in: values), mrOwnerConfig: mrOwnerConfig.value(in: values),
            rtmrs: rtmrHandles.map { $0.value(in: values) }, reportData: reportData, tdAttributes: tdAttributes,
            xfam: xfam)
    }
}

/// The `report0` register and its `reportdata` input, resolved once: `/dev/tdx_guest`'s
/// TDREPORT is `report0`'s layout with the request's report data in place of the register's.
public struct TDReportSource: Sendable {
    public let report0: RegisterHandle
    public let reportData: RegisterHandle

    public init(_ provider: MeasurementProvider, for face: String) throws(RegisterBindingError) {
        report0 = try provider.handle(TDXRegisters.report0, for: face)
        reportData = try provider.handle(TDXRegisters.reportData, for: face)
    }

    /// A TDREPORT over `reportData` (64 bytes) and the current registers: what TDG.MR.REPORT
    /// returns for a request.
    public func make(reportData: [UInt8]) -> [UInt8] {
        make(reportData: reportData, in: report0.provider.snapshot())
    }

    /// A TDREPORT over `reportData` and `values` (a snapshot of the provider).
    public func make(reportData: [UInt8], in values: RegisterValues) -> [UInt8] {
        var values = values
        values.values[self.reportData.index] = reportData
        guard let derivation = report0.descriptor.derivation else { return values.values[report0.index] }
        return SoftwareBackend.evaluate(derivation, size: report0.descriptor.size, in: values)
    }
}
