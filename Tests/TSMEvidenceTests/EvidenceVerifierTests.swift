import TSMBytes
@testable import TSMEvidence
import Testing

/// Sign-verify round trips, and one flipped byte in each signed region failing the right check.
@Suite struct EvidenceVerifierTests {
    let tdx: TDXAuthority
    let snp: SNPAuthority
    let quote: [UInt8]
    let evidence: SNPEvidence

    init() throws {
        tdx = try Authorities.tdx.get()
        snp = try Authorities.snp.get()
        quote = try tdx.quote(try patternedBody())
        evidence = try snp.sign(try patternedReport(platform: snp.snpPlatform))
    }

    @Test func quoteVerifies() throws {
        let parsed = try EvidenceVerifier(trustAnchorDER: tdx.rootCertificateDER).verifyTDXQuote(quote)
        let verified = VerifiedEvidence(quote: parsed, guest: "tdx")
        #expect(verified.reportData == pattern(0x0f, 64))
        #expect(parsed.body.mrTD == pattern(0x07, 48))
        #expect(verified.json.hasPrefix("{\n  \"guest\": \"tdx\",\n  \"version\": 4,"))
        #expect(verified.json.contains("\"rtmr3\": \"\(Hex.encode(pattern(0x0e, 48)))\""))
        #expect(verified.json.contains("\"mrtd\": \"\(Hex.encode(pattern(0x07, 48)))\""))
    }

    @Test func reportVerifies() throws {
        let verified = VerifiedEvidence(
            report: try EvidenceVerifier(trustAnchorDER: snp.rootCertificateDER).verifySNPReport(
                evidence.report, auxblob: evidence.auxblob),
            guest: "sev-snp")
        #expect(verified.reportData == pattern(0x50, 64))
        #expect(verified.json.contains("\"measurement\": \"\(Hex.encode(pattern(0x90, 48)))\""))
        #expect(verified.json.contains("\"vmpl\": 2,"))
        #expect(verified.json.contains("\"policy\": \"0x0000000000030000\""))
    }

    @Test func anchorFromPEM() throws {
        let verifier = try EvidenceVerifier(trustAnchorPEM: tdx.rootCertificatePEM)
        #expect(verifier.anchorDER == tdx.rootCertificateDER)
        #expect(throws: EvidenceError.self) { try EvidenceVerifier(trustAnchorPEM: "not a certificate") }
    }

    /// Quote offsets (ABI.md 4.6 and the DCAP signature-data layout) and the check each fails.
    @Test(arguments: [
        ("header user data", 30, VerificationCheck.attestationKeySignature),
        ("body TEE_TCB_SVN", 48, .attestationKeySignature),
        ("body MRTD", 200, .attestationKeySignature),
        ("body RTMR2", 480, .attestationKeySignature),
        ("report data", 600, .attestationKeySignature),
        ("quote signature", 640, .attestationKeySignature),
        ("attestation key", 710, .qeReportDataBinding),
        ("QE report", 800, .qeReportSignature),
        ("QE report data", 770 + 320, .qeReportSignature),
        ("QE report signature", 1160, .qeReportSignature),
        ("QE auth data", 1225, .qeReportDataBinding),
    ])
    func corruptedQuoteFails(region: String, offset: Int, check: VerificationCheck) {
        var corrupted = quote
        corrupted[offset] ^= 0x01
        expectFailure(check, region) {
            try EvidenceVerifier(trustAnchorDER: tdx.rootCertificateDER).verifyTDXQuote(corrupted)
        }
    }

    /// A changed character inside each PEM certificate's base64 breaks the PCK chain.
    @Test(arguments: [0, 1, 2])
    func corruptedPCKCertificateFails(index: Int) throws {
        let begins = tdx.certificateChainPEM.utf8.indices(of: Array("-----BEGIN CERTIFICATE-----\n".utf8))
        let offset = 1258 + begins[index] + 28 + 120  // well inside the certificate's base64
        var corrupted = quote
        corrupted[offset] = corrupted[offset] == UInt8(ascii: "A") ? UInt8(ascii: "B") : UInt8(ascii: "A")
        expectFailure(.pckChain, "PCK certificate \(index)") {
            try EvidenceVerifier(trustAnchorDER: tdx.rootCertificateDER).verifyTDXQuote(corrupted)
        }
    }

    @Test func quoteUnderAnotherAnchorFails() throws {
        let other = try TDXAuthority(seed: "other")
        expectFailure(.pckChain, "anchor") {
            try EvidenceVerifier(trustAnchorDER: other.rootCertificateDER).verifyTDXQuote(quote)
        }
    }

    @Test(arguments: [
        ("VERSION", 0x00), ("POLICY", 0x08), ("VMPL", 0x30), ("REPORT_DATA", 0x50), ("MEASUREMENT", 0x90),
        ("HOST_DATA", 0xC0), ("CHIP_ID", 0x1A0), ("LAUNCH_TCB", 0x1F0), ("reserved", 0x200), ("signature R", 0x2A0),
        ("signature S", 0x2A0 + 72),
    ])
    func corruptedReportFails(region: String, offset: Int) {
        var corrupted = evidence.report
        corrupted[offset] ^= 0x01
        expectFailure(.reportSignature, region) {
            try EvidenceVerifier(trustAnchorDER: snp.rootCertificateDER).verifySNPReport(
                corrupted, auxblob: evidence.auxblob)
        }
    }

    /// One byte flipped inside each DER certificate's signature breaks the VCEK chain.
    @Test(arguments: [0, 1, 2])
    func corruptedTableCertificateFails(entry: Int) throws {
        let offset = Int(littleEndian(evidence.auxblob, 24 * entry + 16, 4))
        let length = Int(littleEndian(evidence.auxblob, 24 * entry + 20, 4))
        var corrupted = evidence.auxblob
        corrupted[offset + length - 5] ^= 0x01
        expectFailure(.vcekChain, "certificate \(entry)") {
            try EvidenceVerifier(trustAnchorDER: snp.rootCertificateDER).verifySNPReport(
                evidence.report, auxblob: corrupted)
        }
    }

    @Test func reportUnderAnotherAnchorFails() throws {
        let other = try SNPAuthority(seed: "other")
        expectFailure(.vcekChain, "anchor") {
            try EvidenceVerifier(trustAnchorDER: other.rootCertificateDER).verifySNPReport(
                evidence.report, auxblob: evidence.auxblob)
        }
    }

    @Test func reportFromAnotherChipFails() throws {
        var report = try patternedReport(platform: snp.snpPlatform)
        report.chipID = pattern(0x42, 64)
        let signed = try snp.sign(report)
        expectFailure(.vcekBinding, "CHIP_ID") {
            try EvidenceVerifier(trustAnchorDER: snp.rootCertificateDER).verifySNPReport(
                signed.report, auxblob: signed.auxblob)
        }
    }

    @Test func missingCertificateFails() throws {
        let table = SNPCertificateTable(entries: [
            (GUID.vcek, snp.leafCertificateDER), (GUID.ark, snp.rootCertificateDER),
        ])
        expectFailure(.vcekChain, "no ASK") {
            try EvidenceVerifier(trustAnchorDER: snp.rootCertificateDER).verifySNPReport(
                evidence.report, auxblob: try table.encoded())
        }
    }

    @Test func errorMessagesNameTheCheck() {
        #expect(EvidenceError.failed(.qeReportSignature, reason: "x").description == "QE report signature: x")
        #expect(EvidenceError.failed(.pckChain, reason: "y").description == "PCK chain: y")
        #expect(
            EvidenceError.failed(.qeReportDataBinding, reason: "z").description
                == "QE report data does not bind the attestation key: z")
    }

    func expectFailure(
        _ check: VerificationCheck, _ region: String, sourceLocation: SourceLocation = #_sourceLocation,
        _ body: () throws -> Any
    ) {
        do {
            _ = try body()
            Issue.record("corrupting \(region) went unnoticed", sourceLocation: sourceLocation)
        } catch let error as EvidenceError {
            #expect(error.check == check, "corrupting \(region): \(error)", sourceLocation: sourceLocation)
        } catch {
            Issue.record("corrupting \(region) threw an untyped \(error)", sourceLocation: sourceLocation)
        }
    }
}

extension String.UTF8View {
    /// Offsets where `needle` starts.
    func indices(of needle: [UInt8]) -> [Int] {
        let bytes = Array(self)
        guard bytes.count >= needle.count else { return [] }
        return (0...(bytes.count - needle.count)).filter { Array(bytes[$0..<$0 + needle.count]) == needle }
    }
}
