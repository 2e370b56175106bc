import TSMBytes
@testable import TSMEvidence
import Testing

/// Every field of a signed report, and of the certificate table, lands at its ABI.md 4.6 offset.
@Suite struct SNPReportLayoutTests {
    let authority: SNPAuthority
    let evidence: SNPEvidence

    init() throws {
        authority = try Authorities.snp.get()
        evidence = try authority.sign(try patternedReport(platform: authority.snpPlatform))
    }

    func at(_ offset: Int, _ count: Int) -> [UInt8] { Array(evidence.report[offset..<offset + count]) }

    @Test func sizeAndScalars() {
        #expect(evidence.report.count == 0x4A0)
        #expect(littleEndian(evidence.report, 0x00, 4) == 3)  // SEV-SNP ABI 1.55 firmware writes version 3
        #expect(littleEndian(evidence.report, 0x04, 4) == 0x0404_0404)
        #expect(littleEndian(evidence.report, 0x08, 8) == 0x30000)
        #expect(littleEndian(evidence.report, 0x30, 4) == 2)
        #expect(littleEndian(evidence.report, 0x34, 4) == 1)
        #expect(littleEndian(evidence.report, 0x38, 8) == authority.snpPlatform.tcb.rawValue)
        #expect(littleEndian(evidence.report, 0x40, 8) == 1)
        #expect(littleEndian(evidence.report, 0x48, 4) == 0)  // signing key 0 = VCEK
        #expect(littleEndian(evidence.report, 0x180, 8) == authority.snpPlatform.tcb.rawValue)
        #expect(littleEndian(evidence.report, 0x1E0, 8) == authority.snpPlatform.tcb.rawValue)
        #expect(at(0x1E8, 4) == [21, 55, 1, 0])
        #expect(at(0x1EC, 4) == [21, 55, 1, 0])
        #expect(littleEndian(evidence.report, 0x1F0, 8) == authority.snpPlatform.tcb.rawValue)
        #expect(at(0x1A0, 64) == authority.snpPlatform.chipID)
    }

    /// ABI.md 4.6's table: offset, size, the field's pattern byte.
    @Test(
        arguments: [
            (0x10, 16, 0x10), (0x20, 16, 0x20), (0x50, 64, 0x50), (0x90, 48, 0x90), (0xC0, 32, 0xc0),
            (0xE0, 48, 0xe0), (0x110, 48, 0x11), (0x140, 32, 0x14), (0x160, 32, 0x16),
        ] as [(Int, Int, UInt8)])
    func byteField(offset: Int, size: Int, byte: UInt8) {
        #expect(at(offset, size) == pattern(byte, size))
    }

    @Test func reservedBytesAreZero() {
        #expect(at(0x4C, 4) == pattern(0, 4))
        #expect(at(0x188, 3) == [0x19, 0x01, 0x00])  // CPUID family, model, stepping: Milan B0
        #expect(at(0x18B, 21) == pattern(0, 21))
        #expect(at(0x1F8, 0x2A0 - 0x1F8) == pattern(0, 0x2A0 - 0x1F8))
    }

    /// R and S are 72-byte little-endian fields: 48 bytes of scalar, 24 zero bytes, then zeros.
    @Test func signatureLayout() throws {
        let signature = at(0x2A0, 512)
        #expect(Array(signature[48..<72]) == pattern(0, 24))
        #expect(Array(signature[120..<144]) == pattern(0, 24))
        #expect(Array(signature[144...]) == pattern(0, 368))
        let raw = try SNPReport.rawSignature(field: signature)
        #expect(Array(raw[0..<48]) == Array(signature[0..<48].reversed()))
        #expect(Array(raw[48..<96]) == Array(signature[72..<120].reversed()))
    }

    @Test func parseRoundTrips() throws {
        let parsed = try SNPReport.parse(evidence.report)
        #expect(try parsed.encoded() == evidence.report)
        #expect(parsed.measurement == pattern(0x90, 48))
        #expect(parsed.vmpl == 2)
    }

    /// Entries are GUID (RFC 4122 byte order), u32 offset, u32 length; an all-zero entry ends
    /// the table and the DER certificates follow it.
    @Test func certificateTableLayout() throws {
        let blob = evidence.auxblob
        #expect(Hex.encode(blob[0..<16]) == "63da758de6644564adc5f4b93be8accd")
        #expect(Hex.encode(blob[24..<40]) == "4ab7b379bbac4fe4a02f05aef327c782")
        #expect(Hex.encode(blob[48..<64]) == "c0b406a4a803495297433fb6014cd0ae")
        #expect(Array(blob[72..<96]) == pattern(0, 24))
        let vcek = authority.leafCertificateDER
        let ask = authority.intermediateCertificateDER
        #expect(littleEndian(blob, 16, 4) == 96)
        #expect(Int(littleEndian(blob, 20, 4)) == vcek.count)
        #expect(Int(littleEndian(blob, 40, 4)) == 96 + vcek.count)
        #expect(Int(littleEndian(blob, 64, 4)) == 96 + vcek.count + ask.count)
        #expect(Array(blob[96..<96 + vcek.count]) == vcek)
        #expect(blob.count == 96 + vcek.count + ask.count + authority.rootCertificateDER.count)

        let table = try SNPCertificateTable.parse(blob)
        #expect(table.certificate(.vcek) == vcek)
        #expect(table.certificate(.ark) == authority.rootCertificateDER)
        #expect(GUID("63da758d-e664-4564-adc5-f4b93be8accd") == .vcek)
        #expect(GUID.ark.description == "c0b406a4-a803-4952-9743-3fb6014cd0ae")
    }

    @Test func mixedEndianGUIDsAreReadToo() throws {
        let table = SNPCertificateTable(entries: [(GUID.vcek.mixedEndian, [1, 2, 3])])
        let blob = try table.encoded()
        #expect(Hex.encode(blob[0..<4]) == "8d75da63")
        #expect(try SNPCertificateTable.parse(blob).certificate(.vcek) == [1, 2, 3])
    }

    @Test func maskedChipKeyZeroesChipID() throws {
        var report = try patternedReport(platform: authority.snpPlatform)
        report.signerInfo = 2
        let masked = try authority.sign(report)
        #expect(Array(masked.report[0x1A0..<0x1E0]) == pattern(0, 64))
        #expect(littleEndian(masked.report, 0x48, 4) == 2)
    }
}
