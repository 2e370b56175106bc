import TSMBytes

/// The 48-byte header of a DCAP Quote v4 (ABI.md 4.6, offsets 0..<48).
public struct TDXQuoteHeader: Sendable, Equatable {
    /// Bytes in the header.
    public static let size = 48
    /// Intel's QE vendor ID, 939a7233-f79c-4ca9-940a-0db3957f0607, in quote byte order.
    public static let intelQEVendorID: [UInt8] = Hex.decode("939a7233f79c4ca9940a0db3957f0607") ?? []

    /// Quote version: 4.
    public var version: UInt16 = 4
    /// 2 = ECDSA-256 with P-256.
    public var attestationKeyType: UInt16 = 2
    /// 0x81 = TDX.
    public var teeType: UInt32 = 0x81
    /// Offsets 8..<12: reserved in v4 (QE SVN and PCE SVN in v3).
    public var reserved: [UInt8] = [0, 0, 0, 0]
    /// QE vendor ID (16): Intel's by default.
    public var qeVendorID: [UInt8] = TDXQuoteHeader.intelQEVendorID
    /// User data (20): DCAP puts a platform QE identifier in the first 16 bytes.
    public var userData: [UInt8] = [UInt8](repeating: 0, count: 20)

    /// A v4 TDX header with Intel's QE vendor ID and zero user data.
    public init() {}

    func encoded() throws(EvidenceError) -> [UInt8] {
        try requireSize(reserved, 4, "quote header reserved bytes")
        try requireSize(qeVendorID, 16, "QE vendor ID")
        try requireSize(userData, 20, "quote user data")
        var writer = ByteWriter()
        writer.u16(version)
        writer.u16(attestationKeyType)
        writer.u32(teeType)
        writer.append(reserved)
        writer.append(qeVendorID)
        writer.append(userData)
        return writer.bytes
    }
}

/// A DCAP Quote v4 for TDX, the `tdx_guest` outblob (ABI.md 4.6): header, TD quote body, then
/// the signature data: ECDSA signature, attestation key, and certification data type 6 (QE
/// report, its signature, QE auth data, nested certification data type 5 = PEM PCK chain).
public struct TDXQuote: Sendable, Equatable {
    /// Where the TD quote body starts.
    public static let bodyOffset = 48
    /// The u32 signature-data length; the signature data follows it.
    public static let signatureDataLengthOffset = 632
    /// Where the signature data starts.
    public static let signatureDataOffset = 636
    /// What the attestation key signs: header and body.
    public static let signedRange = 0..<632
    /// The smallest quote parsers accept (ABI.md 4.6).
    public static let minimumSize = 0x3FC
    /// A larger quote is refused before it is parsed: Linux's quote buffer is 8 KiB
    /// (`GET_QUOTE_BUF_SIZE`) and a quote with Intel's chain is about 5 KB.
    public static let maxSize = 32 * 1024
    /// A longer PCK chain is refused before its PEM is parsed: Intel's PEM chain (PCK leaf,
    /// Platform or Processor CA, root) is about 4 KB.
    public static let maxPCKChainSize = 16 * 1024
    /// Certification data types (DCAP): 5 = PCK certificate chain (PEM), 6 = QE report.
    public static let certificationTypePCKChain: UInt16 = 5
    public static let certificationTypeQEReport: UInt16 = 6

    /// The 48-byte header.
    public var header: TDXQuoteHeader
    /// The 584-byte TD quote body.
    public var body: TDXQuoteBody
    /// ECDSA P-256 signature r‖s (32+32, big-endian) by the attestation key over bytes 0..<632.
    public var signature: [UInt8]
    /// The attestation key's public point x‖y (32+32).
    public var attestationKey: [UInt8]
    /// The 384-byte QE report (an SGX REPORT body), raw as signed.
    public var qeReport: [UInt8]
    /// ECDSA P-256 signature r‖s by the PCK leaf key over the 384 QE report bytes.
    public var qeReportSignature: [UInt8]
    /// QE authentication data, bound into the QE report's REPORTDATA.
    public var qeAuthData: [UInt8]
    /// Certification data type 5: PEM certificates, PCK leaf first, then intermediate and root.
    public var pckCertificateChain: [UInt8]

    /// A quote from its parts; `encoded()` checks their sizes.
    public init(
        header: TDXQuoteHeader, body: TDXQuoteBody, signature: [UInt8], attestationKey: [UInt8], qeReport: [UInt8],
        qeReportSignature: [UInt8], qeAuthData: [UInt8], pckCertificateChain: [UInt8]
    ) {
        self.header = header
        self.body = body
        self.signature = signature
        self.attestationKey = attestationKey
        self.qeReport = qeReport
        self.qeReportSignature = qeReportSignature
        self.qeAuthData = qeAuthData
        self.pckCertificateChain = pckCertificateChain
    }

    /// Quote v5 body types: 2 = TD 1.0 report, 3 = TD 1.5 report.
    public static let bodyTypeTD10: UInt16 = 2, bodyTypeTD15: UInt16 = 3

    /// What the attestation key signs: header and body (632 bytes); for Quote v5 (always with a
    /// TD 1.5 body), header, body type, body size and body (702 bytes for TD 1.5).
    public func signedBytes() throws(EvidenceError) -> [UInt8] {
        guard body.isTD15 || header.version == 5 else { return try header.encoded() + body.encoded() }
        var v5 = header
        v5.version = 5
        var descriptor = ByteWriter()
        descriptor.u16(body.isTD15 ? Self.bodyTypeTD15 : Self.bodyTypeTD10)
        descriptor.u32(UInt32(body.isTD15 ? TDXQuoteBody.td15Size : TDXQuoteBody.size))
        return try v5.encoded() + descriptor.bytes + body.encoded()
    }

    /// How many leading bytes of a quote the attestation key signs, from its version and (v5)
    /// body size; nil if the quote is too short to say.
    public static func signedLength(of bytes: [UInt8]) -> Int? {
        guard bytes.count >= 54 else { return nil }
        guard bytes[0] == 5, bytes[1] == 0 else { return signedRange.upperBound }
        let size = Int(UInt32(littleEndianBytes: bytes[50..<54]))
        return size <= bytes.count ? 54 + size : nil
    }

    /// The whole quote, byte for byte as DCAP lays it out.
    public func encoded() throws(EvidenceError) -> [UInt8] {
        try requireSize(signature, 64, "quote signature")
        try requireSize(attestationKey, 64, "attestation key")
        try requireSize(qeReport, SGXReportBody.size, "QE report")
        try requireSize(qeReportSignature, 64, "QE report signature")
        guard qeAuthData.count <= Int(UInt16.max) else {
            throw .invalidInput(field: "QE auth data", reason: "\(qeAuthData.count) bytes, at most 65535")
        }
        guard pckCertificateChain.count <= Int(UInt32.max) - 4096 else {
            throw .invalidInput(
                field: "PCK certificate chain", reason: "\(pckCertificateChain.count) bytes do not fit a u32 size")
        }
        var chain = ByteWriter()
        chain.u16(Self.certificationTypePCKChain)
        chain.u32(UInt32(truncatingIfNeeded: pckCertificateChain.count))
        chain.append(pckCertificateChain)

        var qeCertification = ByteWriter()
        qeCertification.append(qeReport)
        qeCertification.append(qeReportSignature)
        qeCertification.u16(UInt16(qeAuthData.count))
        qeCertification.append(qeAuthData)
        qeCertification.append(chain.bytes)

        var signatureData = ByteWriter()
        signatureData.append(signature)
        signatureData.append(attestationKey)
        signatureData.u16(Self.certificationTypeQEReport)
        signatureData.u32(UInt32(truncatingIfNeeded: qeCertification.bytes.count))
        signatureData.append(qeCertification.bytes)

        var quote = ByteWriter()
        quote.append(try signedBytes())
        quote.u32(UInt32(truncatingIfNeeded: signatureData.bytes.count))
        quote.append(signatureData.bytes)
        return quote.bytes
    }
}
