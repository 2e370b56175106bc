import Crypto
import TSMBackends
import TSMEvidence
import TSMGuests
import TSMModel
import Testing

/// The `tdx` provider's TDREPORT (`report0`, `/dev/tdx_guest`) as the TDX module makes it, and
/// Intel's GET_QUOTE quoting enclave, which verifies its MAC and hashes and quotes the TDREPORT given.
@Suite("TDREPORT: TEE_TCB_INFO, hashes and MAC; the quoting enclave quotes the TDREPORT given")
struct TDReportQuoteTests {
    /// A software TDX TD: the provider, its TDREPORT source and its quote provider.
    struct TD {
        let provider: MeasurementProvider
        let registers: TDXRegisters
        let source: TDReportSource
        let reports: TDXReportProvider

        init(table: ProviderDescriptor = TDXRegisters.table, td15: Bool = false) throws {
            provider = try MeasurementProvider(table, backend: SoftwareBackend())
            registers = try TDXRegisters(provider, for: "test")
            source = try TDReportSource(provider, for: "test")
            reports = TDXReportProvider(
                registers: registers, authority: try TDXAuthority(seed: "tdreport-tests"), td15: td15, log: { _ in })
        }

        /// configfs-tsm's quote for `reportData` now.
        func configfsQuote(_ reportData: [UInt8]) throws -> [UInt8] {
            try reports.makeReport(ReportRequest(inblob: reportData)).outblob
        }

        func extend(rtmr: Int, with data: [UInt8]) throws {
            let handle = registers.rtmrHandles[rtmr]
            _ = try data.withUnsafeBytes { try provider.extend(handle.index, offset: 0, data: $0) }
        }
    }

    static let reportData = (0..<64).map { UInt8($0) }

    static func slice(_ bytes: [UInt8], _ offset: Int, _ count: Int) -> [UInt8] {
        Array(bytes[offset..<offset + count])
    }

    @Test("TEE_TCB_INFO and CPUSVN are the mock module's; the quote of the same report data carries the same")
    func teeTCBInfo() throws {
        let td = try TD()
        let report = td.source.make(reportData: Self.reportData)
        let body = try TDXQuote.parse(try td.configfsQuote(Self.reportData)).body
        let at = TDReport.Offset.self
        #expect(Self.slice(report, at.teeTCBSVN, 16) == body.teeTCBSVN)
        #expect(Self.slice(report, at.mrSEAM, 48) == body.mrSEAM)
        #expect(Self.slice(report, at.mrSignerSEAM, 48) == body.mrSignerSEAM)
        #expect(Self.slice(report, at.seamAttributes, 8) == body.seamAttributes)
        #expect(body.mrSEAM == TEETCBInfo.mockMRSEAM && body.mrSEAM != [UInt8](repeating: 0, count: 48))
        #expect(Self.slice(report, at.teeTCBInfo, 8) == UInt64(0x1FF).littleEndianBytes, "VALID: SVN and MRSEAM")
        #expect(Self.slice(report, at.cpuSVN, 16) == TEETCBInfo.mockCPUSVN())
        #expect(try TDXQuoteBody(tdReport: report) == body, "the body the TDREPORT gives is the quote's")

        let td15 = try TD(
            table: TDXRegisters.withTDInfo(
                TDXRegisters.table, tdAttributes: 0x1000_0000, xfam: 0x61ae7, teeTCBInfo: .mock15),
            td15: true)
        let report15 = td15.source.make(reportData: Self.reportData)
        #expect(Self.slice(report15, at.teeTCBInfo, 8) == UInt64(0x301FF).littleEndianBytes)
        #expect(Self.slice(report15, at.teeTCBInfo + TEETCBInfo.Offset.teeTCBSVN2, 16) == TEETCBInfo.mockTEETCBSVN)
        let body15 = try TDXQuote.parse(try td15.configfsQuote(Self.reportData)).body
        #expect(body15.teeTCBSVN2 == Self.slice(report15, at.teeTCBInfo + TEETCBInfo.Offset.teeTCBSVN2, 16))
    }

    @Test("TEE_TCB_INFO_HASH and TEE_INFO_HASH are SHA-384 of TEE_TCB_INFO's 239 bytes and TDINFO's 512")
    func hashes() throws {
        let report = try TD().source.make(reportData: Self.reportData)
        #expect(
            Self.slice(report, TDReport.Offset.teeTCBInfoHash, 48)
                == Array(SHA384.hash(data: Array(report[256..<495]))))
        #expect(
            Self.slice(report, TDReport.Offset.teeInfoHash, 48) == Array(SHA384.hash(data: Array(report[512..<1024]))))
        #expect(Self.slice(report, TDReport.Offset.mac, 32) != [UInt8](repeating: 0, count: 32))
    }

    @Test("the MAC verifies; one changed byte anywhere the MAC or a hash covers is refused")
    func tampering() throws {
        let td = try TD()
        let report = td.source.make(reportData: Self.reportData)
        let quote = try #require(td.reports.quote(tdReport: report, source: td.source))
        #expect(quote == (try td.configfsQuote(Self.reportData)), "the quote is configfs-tsm's, byte for byte")
        let covered = Array(TDReport.macCovered) + Array(TDReport.teeTCBInfoBytes) + Array(TDReport.tdInfoBytes)
        let accepted = (covered + Array(TDReport.Offset.mac..<TDReport.Offset.teeTCBInfo)).filter { offset in
            var changed = report
            changed[offset] ^= 0x01
            return td.reports.quote(tdReport: changed, source: td.source) != nil
        }
        #expect(accepted.isEmpty, "accepted with a byte changed at \(accepted)")
        // The 17 reserved bytes after TEE_TCB_INFO are covered by nothing, on hardware too: the
        // quote, which does not carry them, is the same.
        var reserved = report
        reserved[500] = 0xFF
        #expect(td.reports.quote(tdReport: reserved, source: td.source) == quote)
        #expect(td.reports.quote(tdReport: Array(report.prefix(1023)), source: td.source) == nil)
        #expect(td.reports.quote(tdReport: [UInt8](repeating: 0, count: 1024), source: td.source) == nil)
    }

    @Test("a TDREPORT taken before an extend is quoted with its old RTMR, as configfs-tsm quoted it then")
    func beforeExtend() throws {
        for td15 in [false, true] {
            let table =
                td15
                ? TDXRegisters.withTDInfo(
                    TDXRegisters.table, tdAttributes: 0x1000_0000, xfam: 0x61ae7, teeTCBInfo: .mock15)
                : TDXRegisters.table
            let td = try TD(table: table, td15: td15)
            let report = td.source.make(reportData: Self.reportData)
            let before = try td.configfsQuote(Self.reportData)
            try td.extend(rtmr: 2, with: [UInt8](repeating: 7, count: 48))
            let after = try td.configfsQuote(Self.reportData)
            #expect(before != after)
            let quoted = try #require(td.reports.quote(tdReport: report, source: td.source), "td15 \(td15)")
            #expect(quoted == before, "td15 \(td15): the old RTMR2, byte for byte configfs-tsm's quote then")
            #expect(try TDXQuote.parse(quoted).body.rtmrs[2] == Self.slice(report, TDReport.Offset.rtmr(2), 48))
            let now = td.source.make(reportData: Self.reportData)
            #expect(td.reports.quote(tdReport: now, source: td.source) == after)
        }
    }

    @Test("a --config table whose report0 has no MAC: only the TDREPORT the TD gives now is quoted")
    func withoutMAC() throws {
        var table = TDXRegisters.table
        let index = try #require(table.registers.firstIndex { $0.name == TDXRegisters.report0.name })
        guard case .layout(let fields) = table.registers[index].derivation else {
            Issue.record("report0 is not a layout")
            return
        }
        table.registers[index].derivation = .layout(
            fields.filter { if case .mac = $0.source { return false } else { return true } })
        let td = try TD(table: table)
        let report = td.source.make(reportData: Self.reportData)
        #expect(td.reports.quote(tdReport: report, source: td.source) != nil)
        try td.extend(rtmr: 3, with: [UInt8](repeating: 1, count: 48))
        #expect(td.reports.quote(tdReport: report, source: td.source) == nil, "no MAC: a stale report is refused")
    }

    @Test("report0's layout round-trips through providers --json, with the computed fields and no key")
    func configRoundTrip() throws {
        let text = ProviderConfig.encode([TDXRegisters.table])
        #expect(text.contains("\"mac\"") && text.contains("\"digest\""))
        let decoded = try ProviderConfig.decode(Array(text.utf8), file: "tdx.json")
        #expect(decoded == [TDXRegisters.table])
        // The same process key: a TDREPORT of the decoded table is quoted by the built-in one's QE.
        let report = try TD(table: decoded[0]).source.make(reportData: Self.reportData)
        let td = try TD()
        #expect(td.reports.quote(tdReport: report, source: td.source) != nil)
    }
}
