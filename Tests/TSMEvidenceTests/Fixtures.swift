import TSMEvidence

/// `count` bytes of `byte`: a distinct pattern per field, so a misplaced field shows.
func pattern(_ byte: UInt8, _ count: Int) -> [UInt8] { [UInt8](repeating: byte, count: count) }

/// A body whose every field holds its own byte value.
func patternedBody() throws -> TDXQuoteBody {
    try TDXQuoteBody(
        mrTD: pattern(0x07, 48), mrConfigID: pattern(0x08, 48), mrOwner: pattern(0x09, 48),
        mrOwnerConfig: pattern(0x0a, 48),
        rtmrs: [pattern(0x0b, 48), pattern(0x0c, 48), pattern(0x0d, 48), pattern(0x0e, 48)],
        reportData: pattern(0x0f, 64),
        tdAttributes: pattern(0x05, 8), xfam: pattern(0x06, 8), teeTCBSVN: pattern(0x01, 16), mrSEAM: pattern(0x02, 48),
        mrSignerSEAM: pattern(0x03, 48), seamAttributes: pattern(0x04, 8))
}

/// A report whose launch values and request each hold their own byte value.
func patternedReport(platform: SNPPlatform) throws -> SNPReport {
    var report = try SNPReport(
        reportData: pattern(0x50, 64), vmpl: 2, measurement: pattern(0x90, 48), hostData: pattern(0xc0, 32),
        platform: platform, policy: 0x30000, guestSVN: 0x0404_0404,
        familyID: pattern(0x10, 16), imageID: pattern(0x20, 16),
        idKeyDigest: pattern(0xe0, 48), authorKeyDigest: pattern(0x11, 48), reportID: pattern(0x14, 32))
    report.reportIDMA = pattern(0x16, 32)
    return report
}

/// The mock authorities of the default seed, built once per test process.
enum Authorities {
    static let tdx: Result<TDXAuthority, EvidenceError> = Result { () throws(EvidenceError) in try TDXAuthority() }
    static let snp: Result<SNPAuthority, EvidenceError> = Result { () throws(EvidenceError) in try SNPAuthority() }
}

/// Reads a u16/u32/u64 little-endian at `offset`.
func littleEndian(_ bytes: [UInt8], _ offset: Int, _ count: Int) -> UInt64 {
    bytes[offset..<offset + count].reversed().reduce(0) { $0 << 8 | UInt64($1) }
}

/// Realm claims with recognisable values: challenge 0xC0..., RPV 0x50..., RIM 0x11, REMs 0x20+i.
func sampleRealm() -> CCARealmClaims {
    CCARealmClaims(
        challenge: pattern(0xC0, 48) + pattern(0, 16), personalizationValue: pattern(0x50, 64),
        hashAlgorithm: "sha-256",
        publicKey: [], publicKeyHashAlgorithm: "sha-256", rim: pattern(0x11, 32),
        rems: (0..<4).map { pattern(0x20 + UInt8($0), 32) })
}
