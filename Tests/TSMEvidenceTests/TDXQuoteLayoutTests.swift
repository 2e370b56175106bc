import TSMBytes
@testable import TSMEvidence
import Testing

/// Every field of a signed quote lands at its ABI.md 4.6 offset.
@Suite struct TDXQuoteLayoutTests {
    let authority: TDXAuthority
    let quote: [UInt8]

    init() throws {
        authority = try Authorities.tdx.get()
        quote = try authority.quote(try patternedBody())
    }

    func at(_ offset: Int, _ count: Int) -> [UInt8] { Array(quote[offset..<offset + count]) }

    @Test func headerFields() {
        #expect(littleEndian(quote, 0, 2) == 4)
        #expect(littleEndian(quote, 2, 2) == 2)
        #expect(littleEndian(quote, 4, 4) == 0x81)
        #expect(at(8, 4) == [0, 0, 0, 0])
        #expect(Hex.encode(at(12, 16)) == "939a7233f79c4ca9940a0db3957f0607")
        #expect(at(28, 20) == authority.quoteUserData)
    }

    /// ABI.md 4.6's body table: offset, size, the field's pattern byte.
    @Test(
        arguments: [
            (48, 16, 0x01), (64, 48, 0x02), (112, 48, 0x03), (160, 8, 0x04), (168, 8, 0x05), (176, 8, 0x06),
            (184, 48, 0x07), (232, 48, 0x08), (280, 48, 0x09), (328, 48, 0x0a),
            (376, 48, 0x0b), (424, 48, 0x0c), (472, 48, 0x0d), (520, 48, 0x0e), (568, 64, 0x0f),
        ] as [(Int, Int, UInt8)])
    func bodyField(offset: Int, size: Int, byte: UInt8) {
        #expect(at(offset, size) == pattern(byte, size))
        #expect(quote[offset - 1] != byte && quote[offset + size] != byte)
    }

    @Test func signatureData() throws {
        #expect(quote.count >= TDXQuote.minimumSize)
        #expect(Int(littleEndian(quote, 632, 4)) == quote.count - 636)
        #expect(at(700, 64) == authority.attestationPublicKey)
        #expect(littleEndian(quote, 764, 2) == 6)
        #expect(Int(littleEndian(quote, 766, 4)) == quote.count - 770)
        let qeReport = try SGXReportBody(at(770, 384))
        #expect(qeReport.isvProdID == 1)
        #expect(
            qeReport.reportData
                == SGXReportBody.bindingReportData(
                    attestationKey: authority.attestationPublicKey,
                    qeAuthData: authority.qeAuthData))
        #expect(Array(qeReport.reportData.suffix(32)) == pattern(0, 32))
        #expect(littleEndian(quote, 1218, 2) == 32)
        #expect(at(1220, 32) == authority.qeAuthData)
        #expect(littleEndian(quote, 1252, 2) == 5)
        let chainSize = Int(littleEndian(quote, 1254, 4))
        #expect(1258 + chainSize == quote.count)
        #expect(String(decoding: at(1258, chainSize), as: UTF8.self) == authority.certificateChainPEM)
    }

    @Test func parseRoundTrips() throws {
        let parsed = try TDXQuote.parse(quote)
        #expect(try parsed.encoded() == quote)
        #expect(parsed.body == (try patternedBody()))
        #expect(parsed.attestationKey == authority.attestationPublicKey)
    }

    @Test func bodyFromTDReport() throws {
        var report = pattern(0, 1024)
        func put(_ offset: Int, _ bytes: [UInt8]) { report.replaceSubrange(offset..<offset + bytes.count, with: bytes) }
        let expected = try patternedBody()
        put(128, expected.reportData)
        put(264, expected.teeTCBSVN)
        put(280, expected.mrSEAM)
        put(328, expected.mrSignerSEAM)
        put(376, expected.seamAttributes)
        put(512, expected.tdAttributes)
        put(520, expected.xfam)
        put(528, expected.mrTD)
        put(576, expected.mrConfigID)
        put(624, expected.mrOwner)
        put(672, expected.mrOwnerConfig)
        for index in 0..<4 { put(720 + 48 * index, expected.rtmrs[index]) }
        #expect(try TDXQuoteBody(tdReport: report) == expected)
        #expect(throws: EvidenceError.invalidInput(field: "TDREPORT", reason: "1023 bytes, expected 1024")) {
            try TDXQuoteBody(tdReport: pattern(0, 1023))
        }
    }

    @Test func wrongSizedRegistersAreRefusedByName() {
        #expect(throws: EvidenceError.invalidInput(field: "MRTD", reason: "47 bytes, expected 48")) {
            try TDXQuoteBody(
                mrTD: pattern(1, 47), mrConfigID: pattern(0, 48), mrOwner: pattern(0, 48),
                mrOwnerConfig: pattern(0, 48),
                rtmrs: Array(repeating: pattern(0, 48), count: 4), reportData: pattern(0, 64))
        }
        #expect(throws: EvidenceError.invalidInput(field: "RTMRs", reason: "3 registers, expected 4")) {
            try TDXQuoteBody(
                mrTD: pattern(1, 48), mrConfigID: pattern(0, 48), mrOwner: pattern(0, 48),
                mrOwnerConfig: pattern(0, 48),
                rtmrs: Array(repeating: pattern(0, 48), count: 3), reportData: pattern(0, 64))
        }
        #expect(throws: EvidenceError.invalidInput(field: "REPORTDATA", reason: "32 bytes, expected 64")) {
            try TDXQuoteBody(
                mrTD: pattern(1, 48), mrConfigID: pattern(0, 48), mrOwner: pattern(0, 48),
                mrOwnerConfig: pattern(0, 48),
                rtmrs: Array(repeating: pattern(0, 48), count: 4), reportData: pattern(0, 32))
        }
    }
}
