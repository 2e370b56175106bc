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

    /// `report0`'s layout, a TDREPORT as TDG.MR.REPORT makes it: REPORTTYPE, CPUSVN, REPORTDATA,
    /// the mock module's TEE_TCB_INFO, TDATTRIBUTES, XFAM and the registers; then SHA-384 of
    /// TEE_TCB_INFO and of TDINFO, and the MAC over REPORTMACSTRUCT under the daemon's key.
    static let tdReportFields: [LayoutField] =
        [
            .bytes(TDReport.reportType, at: TDReport.Offset.reportType),
            .bytes(TEETCBInfo.mockCPUSVN(), at: TDReport.Offset.cpuSVN),
            .register(reportData.name, at: TDReport.Offset.reportData),
            .bytes(TEETCBInfo.mock.encoded(), at: TDReport.Offset.teeTCBInfo),
            .bytes(TDReport.tdAttributes, at: TDReport.Offset.tdAttributes),
            .bytes(TDReport.xfam, at: TDReport.Offset.xfam),
        ]
        + tdReportRegisters.map { .register($0.register.name, at: $0.offset) } + [
            .digest(.sha384, of: TDReport.teeTCBInfoBytes, at: TDReport.Offset.teeTCBInfoHash),
            .digest(.sha384, of: TDReport.tdInfoBytes, at: TDReport.Offset.teeInfoHash),
            .mac(of: TDReport.macCovered, at: TDReport.Offset.mac),
        ]

    /// `table` with `report0`'s constant fields replaced: TDATTRIBUTES and XFAM (little-endian
    /// u64s, TDREPORT's TDINFO), the module's TEE_TCB_INFO and the platform's CPUSVN; a table
    /// without `report0` (a `--config`) as it is.
    public static func withTDInfo(
        _ table: ProviderDescriptor, tdAttributes: UInt64, xfam: UInt64, teeTCBInfo: TEETCBInfo = .mock,
        cpuSVN: [UInt8] = TEETCBInfo.mockCPUSVN()
    ) -> ProviderDescriptor {
        let constants: [Int: [UInt8]] = [
            TDReport.Offset.tdAttributes: tdAttributes.littleEndianBytes, TDReport.Offset.xfam: xfam.littleEndianBytes,
            TDReport.Offset.teeTCBInfo: teeTCBInfo.encoded(), TDReport.Offset.cpuSVN: cpuSVN,
        ]
        var table = table
        for index in table.registers.indices where table.registers[index].name == report0.name {
            guard case .layout(var fields) = table.registers[index].derivation else { continue }
            for field in fields.indices {
                guard case .bytes = fields[field].source, let bytes = constants[fields[field].offset] else { continue }
                fields[field].source = .bytes(bytes)
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

    /// Why the TD quoting enclave refuses `tdReport`, nil when it takes it. With a MAC in
    /// `report0`'s layout (the built-in table): the QE's report verification, every digest and
    /// MAC of the layout recomputed over the bytes given (``SoftwareBackend/firstFailingField(_:in:)``),
    /// so a TDREPORT this daemon made at any time passes and one changed byte in what they cover
    /// fails. A layout without a MAC (a `--config` table) cannot tell a forged TDREPORT: then only
    /// the one this TD gives now for its REPORTDATA passes.
    public func refusal(of tdReport: [UInt8]) -> String? {
        guard tdReport.count == report0.descriptor.size else {
            return "\(tdReport.count) bytes, not \(report0.descriptor.size)"
        }
        if case .layout(let fields) = report0.descriptor.derivation,
            fields.contains(where: { if case .mac = $0.source { return true } else { return false } })
        {
            guard let offset = SoftwareBackend.firstFailingField(fields, in: tdReport) else { return nil }
            return "the field at offset \(offset) (a hash or the MAC) does not match the bytes it covers"
        }
        let at = TDReport.Offset.reportData
        guard tdReport.count >= at + TDReport.reportDataSize,
            make(reportData: Array(tdReport[at..<at + TDReport.reportDataSize])) == tdReport
        else { return "not this TD's current TDREPORT, and report0's layout has no MAC to check" }
        return nil
    }
}
