import FoundationEssentials
import TSMBytes
import X509
@testable import TSMEvidence
import Testing

/// The mock collateral: signed over its exact text under the anchor, current for 30 days, and
/// matching each --tcb-status platform at that status's level (tsmfs's own collateral check;
/// dcap-qvl checks the same in DCAPVerifierTests).
@Suite struct CollateralTests {
    let now = Date(timeIntervalSince1970: 1_800_000_000)

    func verdict(_ status: TCBStatus, collateralSeed: String = "collateral", at offset: TimeInterval = 60) throws
        -> TCBVerdict
    {
        let authority = try TDXAuthority(seed: "collateral", tcbStatus: status)
        let body = try TDXQuoteBody(
            mrTD: pattern(0x07, 48), mrConfigID: pattern(0x08, 48), mrOwner: pattern(0x09, 48),
            mrOwnerConfig: pattern(0x0a, 48), rtmrs: (0..<4).map { pattern(UInt8($0), 48) },
            reportData: pattern(0x0f, 64))
        let bytes = try authority.quote(body)
        let verifier = EvidenceVerifier(trustAnchorDER: authority.rootCertificateDER)
        let quote = try verifier.verifyTDXQuote(bytes)
        let collateral = try TDXAuthority(seed: collateralSeed).tdxCollateral(at: now)
        return try verifier.verifyTDXCollateral(collateral, for: quote, at: now.addingTimeInterval(offset))
    }

    @Test(arguments: TCBStatus.allCases.filter { $0 != .revoked })
    func eachStatusMatchesItsLevel(status: TCBStatus) throws {
        let result = try verdict(status)
        #expect(result.status == status)
        #expect(result.advisoryIDs.isEmpty == (status == .upToDate))
    }

    @Test func revokedFails() {
        #expect(throws: EvidenceError.self) { try verdict(.revoked) }
    }

    @Test func expiredOrNotYetIssuedFails() {
        #expect(throws: EvidenceError.self) { try verdict(.upToDate, at: TDXAuthority.collateralLifetime + 1) }
        #expect(throws: EvidenceError.self) { try verdict(.upToDate, at: -1) }
    }

    @Test("served collateral is issued at the start of the previous hour, so 1 to 2 hours old (issue 24)")
    func servedCollateralIsBackdated() throws {
        for served in [now, now.addingTimeInterval(1), now.addingTimeInterval(3599), now.addingTimeInterval(3600)] {
            let issued = TDXAuthority.collateralIssueDate(servedAt: served)
            let age = served.timeIntervalSince(issued)
            #expect(age >= 3600 && age < 7200, "served \(served), issued \(issued)")
            #expect(issued.timeIntervalSince1970.truncatingRemainder(dividingBy: 3600) == 0)
        }
        let collateral = try TDXAuthority(seed: "collateral").currentTDXCollateral(servedAt: now)
        #expect(collateral.tcbInfo.contains("\"issueDate\":\"2027-01-15T07:00:00Z\""))
    }

    @Test func anotherSeedsCollateralFails() {
        #expect(throws: EvidenceError.self) { try verdict(.upToDate, collateralSeed: "other") }
    }

    @Test func jsonRoundTripsAndSignsTheCompactText() throws {
        let collateral = try TDXAuthority(seed: "collateral").tdxCollateral(at: now)
        #expect(try TDXCollateral(json: Array(collateral.json.utf8)) == collateral)
        #expect(!collateral.tcbInfo.contains(" ") && !collateral.tcbInfo.contains("\n"))
        #expect(collateral.tcbInfo.contains("\"issueDate\":\"2027-01-15T08:00:00Z\""))
        #expect(collateral.tcbInfo.contains("\"nextUpdate\":\"2027-02-14T08:00:00Z\""))
        #expect(UTCDate.parse("2027-01-15T08:00:00Z") == now)
    }

    @Test func pckCertificateCarriesTheSGXExtensions() throws {
        let authority = try TDXAuthority(seed: "collateral", tcbStatus: .outOfDate)
        let pck = try PCKExtension(try Certificate(derEncoded: authority.leafCertificateDER))
        #expect(pck.fmspc == authority.tdxPlatform.fmspc)
        #expect(pck.cpuSVN == TDXPlatform.sgxComponents(level: TCBStatus.outOfDate.levelIndex))
        #expect(pck.pceSVN == TDXPlatform.mockPCESVN)
        #expect(pck.pceID == [0, 0])
    }

    @Test func td15QuoteIsV5AndVerifies() throws {
        let authority = try TDXAuthority(seed: "collateral")
        let body = try TDXQuoteBody(
            mrTD: pattern(0x07, 48), mrConfigID: pattern(0x08, 48), mrOwner: pattern(0x09, 48),
            mrOwnerConfig: pattern(0x0a, 48), rtmrs: (0..<4).map { pattern(UInt8($0), 48) },
            reportData: pattern(0x0f, 64))
        var bytes = try authority.quote(body.td15())
        #expect(Array(bytes[0..<2]) == [5, 0])
        let quote = try EvidenceVerifier(trustAnchorDER: authority.rootCertificateDER).verifyTDXQuote(bytes)
        #expect(quote.body.mrServiceTD == [UInt8](repeating: 0, count: 48))
        #expect(try quote.encoded() == bytes)
        bytes[54 + TDXQuoteBody.size + 16] ^= 1  // MRSERVICETD is signed
        #expect(throws: EvidenceError.self) {
            try EvidenceVerifier(trustAnchorDER: authority.rootCertificateDER).verifyTDXQuote(bytes)
        }
    }
}
