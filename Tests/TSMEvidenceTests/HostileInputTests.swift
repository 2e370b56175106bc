import Testing
@testable import TSMEvidence

/// Parsers and the verifier meet truncated and lying inputs with a thrown, typed error.
@Suite struct HostileInputTests {
    let quote: [UInt8]
    let evidence: SNPEvidence

    init() throws {
        quote = try Authorities.tdx.get().quote(try patternedBody())
        let snp = try Authorities.snp.get()
        evidence = try snp.sign(try patternedReport(platform: snp.snpPlatform))
    }

    @Test func everyTruncatedQuoteIsRefused() {
        for length in 0..<quote.count {
            #expect(throws: EvidenceError.self, "length \(length)") { try TDXQuote.parse(Array(quote.prefix(length))) }
        }
        #expect(
            throws: EvidenceError.truncated(
                structure: "quote", field: "a Quote v4", offset: 0, needed: 0x3FC, available: 100)
        ) {
            try TDXQuote.parse(Array(quote.prefix(100)))
        }
    }

    @Test func lyingLengthsAreRefused() {
        for (offset, width) in [(632, 4), (766, 4), (1218, 2), (1254, 4)] {
            var lying = quote
            for index in offset..<offset + width { lying[index] = 0xff }
            #expect(throws: EvidenceError.self, "length at \(offset)") { try TDXQuote.parse(lying) }
        }
        #expect(throws: EvidenceError.malformed(structure: "quote", reason: "3 bytes after the signature data")) {
            try TDXQuote.parse(quote + [0, 0, 0])
        }
    }

    @Test func wrongTypesAreNamed() {
        var wrong = quote
        wrong[0] = 6
        #expect(throws: EvidenceError.malformed(structure: "quote", reason: "version 6, expected 4 or 5")) {
            try TDXQuote.parse(wrong)
        }
        wrong[0] = 5  // v5 reads a body type and size where v4's body starts
        #expect(throws: EvidenceError.self) { try TDXQuote.parse(wrong) }
        wrong = quote
        wrong[764] = 7
        #expect(
            throws: EvidenceError.malformed(
                structure: "quote", reason: "certification data type 7, expected 6 (QE report)")
        ) {
            try TDXQuote.parse(wrong)
        }
    }

    @Test func garbageAfterAValidHeaderIsRefused() {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<200 {
            let garbage =
                Array(quote.prefix(48))
                + (0..<Int.random(in: 0..<3000, using: &generator)).map { _ in
                    UInt8.random(in: 0...255, using: &generator)
                }
            #expect(throws: EvidenceError.self) { try EvidenceVerifier(trustAnchorDER: []).verifyTDXQuote(garbage) }
        }
    }

    @Test func reportsOfTheWrongSizeAreRefused() {
        for length in [0, 4, 0x50, 0x2A0, 0x49F] {
            #expect(throws: EvidenceError.self) { try SNPReport.parse(Array(evidence.report.prefix(length))) }
        }
        #expect(
            throws: EvidenceError.malformed(structure: "report", reason: "1185 bytes, an ATTESTATION_REPORT has 1184")
        ) {
            try SNPReport.parse(evidence.report + [0])
        }
        var unsigned = evidence.report
        unsigned[0x48] = 7 << 2
        #expect(throws: EvidenceError.failed(.reportSignature, reason: "the report is unsigned (SIGNING_KEY 7)")) {
            try EvidenceVerifier(trustAnchorDER: []).verifySNPReport(unsigned, auxblob: evidence.auxblob)
        }
    }

    @Test func lyingCertificateTablesAreRefused() {
        for length in [0, 10, 23, 24, 95] {
            #expect(throws: EvidenceError.self) {
                try SNPCertificateTable.parse(Array(evidence.auxblob.prefix(length)))
            }
        }
        var beyond = evidence.auxblob
        for index in 20..<24 { beyond[index] = 0xff }  // VCEK length 4 GiB
        #expect(throws: EvidenceError.self) { try SNPCertificateTable.parse(beyond) }
        var inside = evidence.auxblob
        inside[16] = 8  // VCEK offset inside the table
        inside[17] = 0
        #expect(throws: EvidenceError.self) { try SNPCertificateTable.parse(inside) }
        var far = evidence.auxblob
        for index in 16..<20 { far[index] = 0xff }  // VCEK offset 4 GiB
        #expect(throws: EvidenceError.self) { try SNPCertificateTable.parse(far) }
    }
}
