import TSMBytes
import TSMEvidence
import TSMModel

/// A TDX guest's registers, resolved once from the measured provider: what the quote, the
/// TDREPORT of `/dev/tdx_guest`, the 6.16 files and the event log read and extend. Every face
/// takes this, never register names.
public struct TDXRegisters: Sendable {
    /// The needs, as the `tdx` provider has them.
    public static let launchNeeds: [RegisterNeed] = ["mrtd", "mrconfigid", "mrowner", "mrownerconfig"].map { .digest($0, .sha384) }
    public static let rtmrNeeds: [RegisterNeed] = (0..<4).map { .digest("rtmr\($0)", .sha384) }
    public static let reportDataNeed = RegisterNeed.file("reportdata", size: TDReport.reportDataSize)
    public static let report0Need = RegisterNeed.file("report0", size: TDReport.size)

    public let provider: MeasurementProvider
    /// MRTD, MRCONFIGID, MROWNER, MROWNERCONFIG.
    public let launch: [RegisterHandle]
    /// RTMR0...RTMR3.
    public let rtmrs: [RegisterHandle]

    /// Resolves the registers a TDX quote needs (48-byte SHA-384 launch registers and RTMRs);
    /// `face` names the face in the error.
    public init(_ provider: MeasurementProvider, for face: String) throws(RegisterBindingError) {
        self.provider = provider
        var launch: [RegisterHandle] = []
        for need in Self.launchNeeds { launch.append(try provider.handle(need, for: face)) }
        var rtmrs: [RegisterHandle] = []
        for need in Self.rtmrNeeds { rtmrs.append(try provider.handle(need, for: face)) }
        self.launch = launch
        self.rtmrs = rtmrs
    }

    /// A quote body over the registers' current values and `reportData`.
    public func quoteBody(reportData: [UInt8]) throws(EvidenceError) -> TDXQuoteBody {
        let values = provider.snapshot()
        let launch = self.launch.map { $0.value(in: values) }
        return try TDXQuoteBody(mrTD: launch[0], mrConfigID: launch[1], mrOwner: launch[2], mrOwnerConfig: launch[3],
                                rtmrs: rtmrs.map { $0.value(in: values) }, reportData: reportData)
    }
}

/// The `report0` register and its `reportdata` input, resolved once: `/dev/tdx_guest`'s
/// TDREPORT is `report0`'s layout with the request's report data in place of the register's.
public struct TDReportSource: Sendable {
    public let report0: RegisterHandle
    public let reportData: RegisterHandle

    public init(_ provider: MeasurementProvider, for face: String) throws(RegisterBindingError) {
        report0 = try provider.handle(TDXRegisters.report0Need, for: face)
        reportData = try provider.handle(TDXRegisters.reportDataNeed, for: face)
    }

    /// A TDREPORT over `reportData` (64 bytes) and the current registers: what TDG.MR.REPORT
    /// returns for a request.
    public func make(reportData: [UInt8]) -> [UInt8] {
        var values = report0.provider.snapshot()
        values.values[self.reportData.index] = reportData
        guard let derivation = report0.descriptor.derivation else { return values.values[report0.index] }
        return SoftwareBackend.evaluate(derivation, size: report0.descriptor.size, in: values)
    }
}

/// A SEV-SNP guest's launch values, resolved once from the `sev-snp` provider: what every
/// ATTESTATION_REPORT signs.
public struct SNPRegisters: Sendable {
    public static let needs: [RegisterNeed] = [
        .digest("measurement", .sha384), .file("host_data", size: 32), .file("id_key_digest", size: 48),
        .file("author_key_digest", size: 48), .file("family_id", size: 16), .file("image_id", size: 16),
        .file("policy", size: 8), .file("guest_svn", size: 4),
    ]

    public let provider: MeasurementProvider
    let handles: [RegisterHandle]

    public init(_ provider: MeasurementProvider, for face: String) throws(RegisterBindingError) {
        self.provider = provider
        var handles: [RegisterHandle] = []
        for need in Self.needs { handles.append(try provider.handle(need, for: face)) }
        self.handles = handles
    }

    /// The launch values now, in the order of ``needs``.
    public struct Values: Sendable {
        public let measurement, hostData, idKeyDigest, authorKeyDigest, familyID, imageID: [UInt8]
        public let policy: UInt64
        public let guestSVN: UInt32
    }

    public func values() -> Values {
        let snapshot = provider.snapshot()
        let bytes = handles.map { $0.value(in: snapshot) }
        return Values(measurement: bytes[0], hostData: bytes[1], idKeyDigest: bytes[2], authorKeyDigest: bytes[3],
                      familyID: bytes[4], imageID: bytes[5], policy: UInt64(littleEndianBytes: bytes[6]),
                      guestSVN: UInt32(littleEndianBytes: bytes[7]))
    }
}
