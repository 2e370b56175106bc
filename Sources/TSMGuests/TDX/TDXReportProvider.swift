import Crypto
import SystemPackage
import TSMBackends
import TSMEvidence
import TSMModel

/// The TDX guest driver's configfs-tsm face (`tdx_guest`): a DCAP Quote v4 over the `tdx`
/// provider's current registers, REPORTDATA = the 64-byte inblob, signed by the mock authority.
public struct TDXReportProvider: ReportProvider {
    public let name = "tdx_guest"
    public let privlevelFloor: UInt32 = 0
    let registers: TDXRegisters
    let authority: TDXAuthority
    let log: EvidenceLog
    /// TDX module 1.5: Quote v5 with a TD 1.5 body (TEE_TCB_SVN2, MRSERVICETD zero).
    let td15: Bool

    /// - Parameter log: where a quote that cannot be made is logged with its cause.
    /// - Parameter td15: make Quote v5 with TD 1.5 bodies instead of Quote v4.
    public init(registers: TDXRegisters, authority: TDXAuthority, td15: Bool = false, log: @escaping EvidenceLog) {
        self.registers = registers
        self.authority = authority
        self.td15 = td15
        self.log = log
    }

    /// `tdx_report_attr_visible` / `tdx_report_bin_attr_visible`.
    public func isVisible(_ attribute: ReportAttribute) -> Bool {
        [.generation, .provider, .inblob, .outblob].contains(attribute)
    }

    /// EINVAL unless the inblob is exactly 64 bytes; EIO if the quote cannot be made.
    public func makeReport(_ request: ReportRequest) throws(Errno) -> ReportBlobs {
        guard request.inblob.count == 64 else { throw .invalidArgument }
        do {
            let body = try registers.quoteBody(reportData: request.inblob)
            return ReportBlobs(outblob: try authority.quote(td15 ? body.td15() : body))
        } catch {
            log("\(name): cannot make a quote: \(error)")
            throw .ioError
        }
    }

    /// What the TD quoting enclave (through QGS) makes of `tdReport` for Intel's `GET_QUOTE`: it
    /// verifies the report (its MAC and both hashes, ``TDReportSource/refusal(of:)``) and quotes
    /// the TDREPORT given, with the registers it carries, not the TD's current ones: a TDREPORT
    /// made before a later extend is quoted with its old RTMRs, as on hardware. For the same
    /// registers and report data the quote is configfs-tsm's, byte for byte. Nil (logged) for a
    /// report the QE refuses (docs/DECISIONS.md, "TDREPORT as the TDX module makes it").
    public func quote(tdReport: [UInt8], source: TDReportSource) -> [UInt8]? {
        if let refusal = source.refusal(of: tdReport) {
            log("\(name): GET_QUOTE: the quoting enclave refuses the TDREPORT: \(refusal)")
            return nil
        }
        do {
            let body = try TDXQuoteBody(tdReport: tdReport)
            return try authority.quote(td15 ? body.td15() : body)
        } catch {
            log("\(name): GET_QUOTE: cannot make a quote: \(error)")
            return nil
        }
    }
}
