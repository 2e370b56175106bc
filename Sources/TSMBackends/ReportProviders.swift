import Crypto
import SystemPackage
import TSMEvidence
import TSMModel

/// The TDX guest driver's configfs-tsm face (`tdx_guest`): a DCAP Quote v4 over the `tdx`
/// provider's current registers, REPORTDATA = the 64-byte inblob, signed by the mock authority.
public struct TDXReportProvider: ReportProvider {
    public let name = "tdx_guest"
    public let privlevelFloor: UInt32 = 0
    let registers: MeasurementProvider
    let authority: MockAuthority

    public init(registers: MeasurementProvider, authority: MockAuthority) {
        self.registers = registers
        self.authority = authority
    }

    /// `tdx_report_attr_visible` / `tdx_report_bin_attr_visible`.
    public func isVisible(_ attribute: ReportAttribute) -> Bool {
        [.generation, .provider, .inblob, .outblob].contains(attribute)
    }

    /// EINVAL unless the inblob is exactly 64 bytes; EIO if the quote cannot be made.
    public func makeReport(_ request: ReportRequest) throws(Errno) -> ReportBlobs {
        guard request.inblob.count == 64 else { throw .invalidArgument }
        let values = registers.snapshot()
        func value(_ name: String) -> [UInt8] { values[name] ?? [UInt8](repeating: 0, count: 48) }
        do {
            let body = try TDXQuoteBody(
                mrTD: value("mrtd"), mrConfigID: value("mrconfigid"), mrOwner: value("mrowner"),
                mrOwnerConfig: value("mrownerconfig"), rtmrs: (0..<4).map { value("rtmr\($0)") },
                reportData: request.inblob)
            return ReportBlobs(outblob: try authority.quote(body))
        } catch {
            throw .ioError
        }
    }
}

/// The SEV-SNP guest driver's configfs-tsm face (`sev_guest`): an ATTESTATION_REPORT of the
/// `sev-snp` provider's launch values, REPORT_DATA = the inblob, VMPL = `privlevel`, signed by
/// the mock VCEK; the auxblob is the certificate table (VCEK, ASK, ARK).
public struct SNPReportProvider: ReportProvider {
    public let name = "sev_guest"
    /// The VMPCK the driver uses (its `vmpck_id`): requests below it are refused.
    public let privlevelFloor: UInt32
    let registers: MeasurementProvider
    let authority: MockAuthority

    public init(registers: MeasurementProvider, authority: MockAuthority, privlevelFloor: UInt32 = 0) {
        self.registers = registers
        self.authority = authority
        self.privlevelFloor = privlevelFloor
    }

    /// Without an SVSM (VMPL 0) the service attributes and manifestblob are hidden.
    public func isVisible(_ attribute: ReportAttribute) -> Bool {
        [.generation, .provider, .privlevel, .privlevelFloor, .inblob, .outblob, .auxblob].contains(attribute)
    }

    /// EINVAL unless the inblob is exactly 64 bytes, or when a service provider other than
    /// `svsm` was named; EIO if the report cannot be signed.
    public func makeReport(_ request: ReportRequest) throws(Errno) -> ReportBlobs {
        guard request.inblob.count == 64 else { throw .invalidArgument }
        if let service = request.serviceProvider, service != "svsm" { throw .invalidArgument }
        let values = registers.snapshot()
        func value(_ name: String, _ size: Int) -> [UInt8] { values[name] ?? [UInt8](repeating: 0, count: size) }
        do {
            let report = try SNPReport(
                reportData: request.inblob, vmpl: request.privlevel,
                measurement: value("measurement", 48), hostData: value("host_data", 32),
                platform: authority.snpPlatform,
                policy: Self.littleEndian(value("policy", 8)), guestSVN: UInt32(truncatingIfNeeded: Self.littleEndian(value("guest_svn", 4))),
                familyID: value("family_id", 16), imageID: value("image_id", 16),
                idKeyDigest: value("id_key_digest", 48), authorKeyDigest: value("author_key_digest", 48),
                reportID: Array(SHA256.hash(data: Array("tsmfs report id \(authority.seed)".utf8))))
            let evidence = try authority.sign(report)
            return ReportBlobs(outblob: evidence.report, auxblob: evidence.auxblob)
        } catch {
            throw .ioError
        }
    }

    static func littleEndian(_ bytes: [UInt8]) -> UInt64 {
        bytes.prefix(8).enumerated().reduce(0) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
    }
}
