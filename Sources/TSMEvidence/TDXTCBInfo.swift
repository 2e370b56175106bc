import FoundationEssentials
import TSMBytes

/// The mock TDX TCB info v3 and TD_QE identity v2, as compact JSON in Intel's key order: the
/// exact text the TCB Signing key signs and a verifier checks.
///
/// The TCB info lists one level per `TCBStatus`, newest first: the SGX components fall by one per
/// level (`TDXPlatform.sgxComponents(level:)`), PCESVN and the TDX components (the quote's
/// TEE_TCB_SVN) are the same at every level. A platform built for status S matches S's level and
/// no level above it, so one TCB info serves every `--tcb-status`.
enum TDXTCBInfo {
    /// The dates Intel's levels carry, newest first, one per status.
    static let tcbDates = [
        "2025-11-12", "2025-08-13", "2025-05-14", "2025-02-11", "2024-11-13", "2024-08-14", "2024-05-15",
    ]

    static func json(platform: TDXPlatform, issued: Date, next: Date) -> String {
        let zeros48 = String(repeating: "0", count: 96)
        let module =
            "\"mrsigner\":\"\(zeros48)\",\"attributes\":\"0000000000000000\",\"attributesMask\":\"FFFFFFFFFFFFFFFF\""
        let moduleIdentity =
            "{\"id\":\"TDX_01\",\(module),\"tcbLevels\":[{\"tcb\":{\"isvsvn\":\(TDXQuoteBody.mockTEETCBSVN[0])},"
            + "\"tcbDate\":\"\(tcbDates[0])T00:00:00Z\",\"tcbStatus\":\"UpToDate\"}]}"
        let levels = TCBStatus.allCases.enumerated().map { index, status in
            level(
                sgx: TDXPlatform.sgxComponents(level: index), tdx: TDXQuoteBody.mockTEETCBSVN, date: tcbDates[index],
                status: status)
        }
        return
            "{\"id\":\"TDX\",\"version\":3,\"issueDate\":\"\(UTCDate(issued).iso8601)\","
            + "\"nextUpdate\":\"\(UTCDate(next).iso8601)\","
            + "\"fmspc\":\"\(Hex.encode(platform.fmspc).uppercased())\","
            + "\"pceId\":\"\(Hex.encode(platform.pceID).uppercased())\","
            + "\"tcbType\":0,\"tcbEvaluationDataNumber\":\(TDXAuthority.tcbEvaluationDataNumber),"
            + "\"tdxModule\":{\(module)},\"tdxModuleIdentities\":[\(moduleIdentity)],"
            + "\"tcbLevels\":[\(levels.joined(separator: ","))]}"
    }

    private static func level(sgx: [UInt8], tdx: [UInt8], date: String, status: TCBStatus) -> String {
        let components = { (svns: [UInt8]) in svns.map { "{\"svn\":\($0)}" }.joined(separator: ",") }
        let advisories = status == .upToDate ? "" : ",\"advisoryIDs\":[\"TSMFS-MOCK-SA-\(status.levelIndex)\"]"
        return "{\"tcb\":{\"sgxtcbcomponents\":[\(components(sgx))],\"pcesvn\":\(TDXPlatform.mockPCESVN),"
            + "\"tdxtcbcomponents\":[\(components(tdx))]},\"tcbDate\":\"\(date)T00:00:00Z\","
            + "\"tcbStatus\":\"\(status.rawValue)\"\(advisories)}"
    }

    /// The TD_QE identity of the mock quoting enclave: its MRSIGNER and ISVPRODID, MISCSELECT
    /// and ATTRIBUTES under Intel's masks, one UpToDate level at its ISVSVN.
    static func qeIdentityJSON(qeReport: SGXReportBody, issued: Date, next: Date) -> String {
        "{\"id\":\"TD_QE\",\"version\":2,\"issueDate\":\"\(UTCDate(issued).iso8601)\","
            + "\"nextUpdate\":\"\(UTCDate(next).iso8601)\","
            + "\"tcbEvaluationDataNumber\":\(TDXAuthority.tcbEvaluationDataNumber),"
            + "\"miscselect\":\"\(Hex.encode(qeReport.miscSelect.littleEndianBytes).uppercased())\","
            + "\"miscselectMask\":\"FFFFFFFF\","
            + "\"attributes\":\""
            + "\(Hex.encode(qeReport.attributes.prefix(8) + [UInt8](repeating: 0, count: 8)).uppercased())\","
            + "\"attributesMask\":\"FBFFFFFFFFFFFFFF0000000000000000\","
            + "\"mrsigner\":\"\(Hex.encode(qeReport.mrSigner).uppercased())\","
            + "\"isvprodid\":\(qeReport.isvProdID),\"tcbLevels\":[{\"tcb\":{\"isvsvn\":\(qeReport.isvSVN)},"
            + "\"tcbDate\":\"\(tcbDates[0])T00:00:00Z\",\"tcbStatus\":\"UpToDate\"}]}"
    }
}
