import FoundationEssentials
import TSMBytes
@testable import TSMEvidence
import Testing

/// Issue 24, items 2, 4, 7 and 12: verifier inputs bounded before they are parsed, COSE per
/// RFC 9052, realm hash algorithms against the digests' sizes, duplicate JSON keys refused, and
/// messages that name the value and the limit.
@Suite struct BoundedInputTests {
    /// A table of `entries` (offset, length) under the VCEK, ASK, ARK GUIDs, then GUIDs made up,
    /// followed by `data` bytes: what an adversary writes by hand.
    static func table(_ entries: [(offset: Int, length: Int)], data: Int) -> [UInt8] {
        var writer = ByteWriter()
        for (index, entry) in entries.enumerated() {
            let known = [GUID.vcek, GUID.ask, GUID.ark]
            writer.append(index < 3 ? known[index].bytes : [UInt8](repeating: UInt8(index % 251 + 1), count: 16))
            writer.u32(UInt32(entry.offset))
            writer.u32(UInt32(entry.length))
        }
        writer.zeros(SNPCertificateTable.entrySize)
        return writer.bytes + [UInt8](repeating: 0x30, count: data)
    }

    @Test("certificate table: overlapping entries, too many entries, a repeated GUID, a huge table are refused")
    func certificateTableBounds() throws {
        let header = 4 * SNPCertificateTable.entrySize
        let overlapping = Self.table([(header, 1000), (header + 500, 1000), (header + 1500, 10)], data: 2000)
        #expect(
            throws: EvidenceError.malformed(
                structure: "certificate table",
                reason: "entry 1 (bytes 596..<1596) overlaps entry 0 (bytes 96..<1096)")
        ) { try SNPCertificateTable.parse(overlapping) }
        // The repro: 100 entries over one region.
        let many = Self.table(Array(repeating: (2424, 10_000), count: 100), data: 12_000)
        #expect(
            throws: EvidenceError.malformed(
                structure: "certificate table",
                reason: "more than 32 entries before the all-zero terminator (the limit)")
        ) { try SNPCertificateTable.parse(many) }
        let huge = [UInt8](repeating: 0, count: SNPCertificateTable.maxSize + 1)
        #expect(
            throws: EvidenceError.malformed(
                structure: "certificate table", reason: "65537 bytes, more than the limit of 65536")
        ) { try SNPCertificateTable.parse(huge) }
        var repeated = Self.table([(header, 10), (header + 10, 10), (header + 20, 10)], data: 30)
        repeated.replaceSubrange(24..<40, with: GUID.vcek.bytes)
        #expect(
            throws: EvidenceError.malformed(
                structure: "certificate table",
                reason: "entry 1 repeats the GUID 63da758d-e664-4564-adc5-f4b93be8accd of entry 0")
        ) { try SNPCertificateTable.parse(repeated) }
        let past = Self.table([(header, 10), (header + 10, 10), (header + 20, 11)], data: 30)
        #expect(throws: EvidenceError.self) { try SNPCertificateTable.parse(past) }
    }

    /// What a parse copies is bounded by the table: the sum of accepted certificates never
    /// exceeds its size, whatever the entries (random tables, seeded).
    @Test func certificateTableCopiesAtMostItsSize() throws {
        var random = UInt64(24)
        func next(_ bound: Int) -> Int {
            random = random &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int((random >> 33) % UInt64(bound))
        }
        var accepted = 0
        for _ in 0..<2000 {
            let count = 1 + next(5)
            let header = (count + 1) * SNPCertificateTable.entrySize
            let entries = (0..<count).map { _ in (offset: header + next(300), length: next(200)) }
            let bytes = Self.table(entries, data: 400)
            guard let parsed = try? SNPCertificateTable.parse(bytes) else { continue }
            accepted += 1
            #expect(parsed.entries.reduce(0) { $0 + $1.data.count } <= bytes.count)
        }
        #expect(accepted > 0)
    }

    @Test("a quote over 32 KiB, or a PCK chain over 16 KiB, is refused before its PEM is parsed")
    func quoteAndChainBounds() throws {
        let authority = try Authorities.tdx.get()
        let quote = try authority.quote(try patternedBody())
        let chain = try TDXQuote.parse(quote).pckCertificateChain
        let long = Self.replacingChain(quote, chain.count, with: chain + [UInt8](repeating: 0x0A, count: 16 * 1024))
        #expect(long.count <= TDXQuote.maxSize)
        #expect(
            throws: EvidenceError.malformed(
                structure: "quote", reason: "a PCK chain of \(chain.count + 16_384) bytes, more than the limit of 16384"
            )
        ) { try TDXQuote.parse(long) }
        let huge = Self.replacingChain(quote, chain.count, with: [UInt8](repeating: 0x41, count: 15 << 20))
        #expect(
            throws: EvidenceError.malformed(
                structure: "quote", reason: "\(huge.count) bytes, more than the limit of 32768")
        ) { try EvidenceVerifier(trustAnchorDER: authority.rootCertificateDER).verifyTDXQuote(huge) }
        #expect(throws: EvidenceError.self) {
            try CertificateChain.pckChain(pem: [UInt8](repeating: 0x41, count: 15 << 20))
        }
    }

    /// `quote` with its last `oldCount` bytes (the PCK chain) replaced, every size fixed.
    static func replacingChain(_ quote: [UInt8], _ oldCount: Int, with chain: [UInt8]) -> [UInt8] {
        var bytes = Array(quote.prefix(quote.count - oldCount - 4))
        var size = ByteWriter()
        size.u32(UInt32(chain.count))
        bytes += size.bytes + chain
        let delta = chain.count - oldCount
        for offset in [TDXQuote.signatureDataLengthOffset, TDXQuote.signatureDataOffset + 130] {
            let old = Int(littleEndian(bytes, offset, 4))
            var field = ByteWriter()
            field.u32(UInt32(old + delta))
            bytes.replaceSubrange(offset..<offset + 4, with: field.bytes)
        }
        return bytes
    }

    @Test("collateral with a key twice is refused with the key and its position")
    func collateralDuplicateKey() throws {
        let json = try Authorities.tdx.get().tdxCollateral(at: Date()).json
        let doubled = "{\"tcb_info\":\"{}\"," + json.dropFirst()
        #expect(throws: EvidenceError.self) { try TDXCollateral(json: Array(doubled.utf8)) }
        do {
            _ = try TDXCollateral(json: Array(doubled.utf8))
        } catch {
            #expect(error.description.contains("the key \"tcb_info\" a second time in one object"), "\(error)")
            #expect(error.description.contains("line 1, column"), "\(error)")
        }
        #expect(throws: Never.self) { try TDXCollateral(json: Array(json.utf8)) }
        let escaped = "{\"tcb\\u005finfo\":\"{}\"," + json.dropFirst()
        #expect(throws: EvidenceError.self) { try TDXCollateral(json: Array(escaped.utf8)) }
    }
}
