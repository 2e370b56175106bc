import TSMBytes
@testable import TSMEvidence
import Testing

/// Azure vTPM evidence made of our parts: an HCL report whose claims carry the fixture AK (the
/// real swtpm key of tpm-quote-rsa) around an SNP report signed by the mock VCEK, and that AK's
/// real quote. Accepted whole; each one-byte change is refused by the check it breaks.
@Suite struct AzureVTPMCheckTests {
    let authority: SNPAuthority
    let quote: TPMQuoteEvidence
    let ak: TPMPublic

    init() throws {
        authority = try Authorities.snp.get()
        ak = try TPMPublic(parsing: try TPMQuoteTests.fixture("tpm-quote-rsa.ak-tpmt-public"))
        let pcrs = TPMQuoteTests.pcrs[TPMAlgorithmID.sha256] ?? [:]
        quote = TPMQuoteEvidence(
            attest: try TPMQuoteTests.fixture("tpm-quote-rsa.msg"),
            signature: try TPMQuoteTests.fixture("tpm-quote-rsa.sig"),
            pcrValues: [0, 1, 10].flatMap { pcrs[$0] ?? [] }, nonce: TPMQuoteTests.nonce)
    }

    /// The HCL report and certificate table; `edit` changes the SNP report before it is signed.
    func evidence(userData: [UInt8] = pattern(0x77, 64), edit: (inout SNPReport) -> Void = { _ in }) throws
        -> (hcl: [UInt8], auxblob: [UInt8])
    {
        guard case .rsa(let modulus, _) = ak.key else { throw EvidenceError.malformed(structure: "AK", reason: "") }
        let claims = AzureRuntimeClaims(
            keys: [
                .init(kid: "HCLAkPub", operation: "sign", modulus: modulus, exponent: [1, 0, 1]),
                .init(kid: "HCLEkPub", operation: "encrypt", modulus: pattern(0x5A, 256), exponent: [1, 0, 1]),
            ],
            vmConfiguration: .init(vmUniqueID: "7d3c1a52-0000-4000-8000-000000000001"), userData: userData
        ).encoded()
        var report = try patternedReport(platform: authority.snpPlatform)
        report.reportData = AzureHCLReport.reportData(claims: claims)
        report.vmpl = 0
        edit(&report)
        let signed = try authority.sign(report)
        let hcl = try AzureHCLReport(reportType: .snp, hardwareReport: signed.report, claims: claims).encoded()
        return (hcl, signed.auxblob)
    }

    func check(_ hcl: [UInt8], _ auxblob: [UInt8], quote: TPMQuoteEvidence? = nil) -> VerificationCheck?? {
        do throws(EvidenceError) {
            _ = try AzureVTPMCheck.verify(
                hclReport: hcl, auxblob: auxblob,
                verifier: EvidenceVerifier(trustAnchorDER: authority.rootCertificateDER),
                quote: quote ?? self.quote)
            return .none
        } catch {
            return .some(error.check)
        }
    }

    @Test func acceptsTheWholeAndNamesTheAK() throws {
        let (hcl, auxblob) = try evidence()
        let verified = try AzureVTPMCheck.verify(
            hclReport: hcl, auxblob: auxblob, verifier: EvidenceVerifier(trustAnchorDER: authority.rootCertificateDER),
            quote: quote)
        #expect(verified.claims.userData == String(repeating: "77", count: 64))
        #expect(verified.pcrs[TPMAlgorithmID.sha256]?.keys.sorted() == [0, 1, 10])
    }

    @Test func refusesEachChangedByte() throws {
        let (hcl, auxblob) = try evidence()
        var report = hcl
        report[32 + 0x90] ^= 1  // MEASUREMENT: the VCEK's signature breaks
        #expect(check(report, auxblob) == .reportSignature)
        var claims = hcl
        claims[AzureHCLReport.claimsOffset + 30] ^= 1  // any claims byte: their hash is no longer REPORT_DATA
        #expect(check(claims, auxblob) == .hclReport)
        var signature = quote
        signature.signature[signature.signature.count - 1] ^= 1
        #expect(check(hcl, auxblob, quote: signature) == .tpmQuoteSignature)
        var attest = quote
        attest.attest[attest.attest.count - 1] ^= 1
        #expect(check(hcl, auxblob, quote: attest) == .tpmQuoteSignature)
        var values = quote
        values.pcrValues[0] ^= 1
        #expect(check(hcl, auxblob, quote: values) == .tpmPCRDigest)
        var nonce = quote
        nonce.nonce = Array("another".utf8)
        #expect(check(hcl, auxblob, quote: nonce) == .tpmQuoteNonce)
    }

    @Test func refusesAReportedTCBTheChipHasNotCommitted() throws {
        let (hcl, auxblob) = try evidence { $0.committedTCB = SNPTCB(bootloader: 1, tee: 0, snp: 1, microcode: 1) }
        #expect(check(hcl, auxblob) == .hclReport)
    }
}
