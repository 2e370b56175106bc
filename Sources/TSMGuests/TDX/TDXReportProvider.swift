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

    /// What the TD quoting enclave (through QGS) makes of `tdReport` for Intel's `GET_QUOTE`: the
    /// quote over its REPORTDATA and the registers, as configfs-tsm gives it for the same report
    /// data. Nil (logged) when it is not the TDREPORT this TD gives now: a real QE checks the
    /// report's MAC, which a tsmfs TDREPORT does not carry, so a report made before a later
    /// extend is refused too (docs/DECISIONS.md, issue 25).
    public func quote(tdReport: [UInt8], source: TDReportSource) -> [UInt8]? {
        guard tdReport.count == TDReport.size else { return nil }
        let values = registers.provider.snapshot()
        let reportData = Array(tdReport[TDReport.Offset.reportData..<TDReport.Offset.reportData + 64])
        guard source.make(reportData: reportData, in: values) == tdReport else {
            log("\(name): GET_QUOTE: the TDREPORT is not this TD's current one (forged, or made before an extend)")
            return nil
        }
        do {
            let body = try registers.quoteBody(reportData: reportData, in: values)
            return try authority.quote(td15 ? body.td15() : body)
        } catch {
            log("\(name): GET_QUOTE: cannot make a quote: \(error)")
            return nil
        }
    }
}
