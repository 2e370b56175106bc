extension TDXQuote {
    /// Parses a DCAP Quote v4 for TDX, checking every length against what is there. Throws
    /// `truncated` (naming the field that ran past the end) or `malformed` (a version, type or
    /// size no Quote v4 has, a quote over ``maxSize`` or a PCK chain over ``maxPCKChainSize``
    /// bytes); checks no signature.
    public static func parse(_ bytes: [UInt8]) throws(EvidenceError) -> TDXQuote {
        guard bytes.count <= maxSize else {
            throw .malformed(structure: "quote", reason: "\(bytes.count) bytes, more than the limit of \(maxSize)")
        }
        guard bytes.count >= minimumSize else {
            throw .truncated(
                structure: "quote", field: "a Quote v4", offset: 0, needed: minimumSize, available: bytes.count)
        }
        var reader = ByteReader(bytes, structure: "quote")
        var header = TDXQuoteHeader()
        header.version = try reader.u16("version")
        guard header.version == 4 || header.version == 5 else {
            throw .malformed(structure: "quote", reason: "version \(header.version), expected 4 or 5")
        }
        header.attestationKeyType = try reader.u16("attestation key type")
        guard header.attestationKeyType == 2 else {
            throw .malformed(
                structure: "quote",
                reason: "attestation key type \(header.attestationKeyType), expected 2 (ECDSA P-256)")
        }
        header.teeType = try reader.u32("TEE type")
        guard header.teeType == 0x81 else {
            throw .malformed(
                structure: "quote", reason: "TEE type 0x\(String(header.teeType, radix: 16)), expected 0x81 (TDX)")
        }
        header.reserved = try reader.read(4, "reserved")
        header.qeVendorID = try reader.read(16, "QE vendor ID")
        header.userData = try reader.read(20, "user data")
        var td15 = false
        if header.version == 5 {
            let bodyType = try reader.u16("body type")
            let bodySize = Int(try reader.u32("body size"))
            switch (bodyType, bodySize) {
            case (bodyTypeTD10, TDXQuoteBody.size): td15 = false
            case (bodyTypeTD15, TDXQuoteBody.td15Size): td15 = true
            default:
                throw .malformed(
                    structure: "quote",
                    reason: "v5 body type \(bodyType) of \(bodySize) bytes, expected 2 (584) or 3 (648)")
            }
        }
        let body = try TDXQuoteBody.parse(&reader, td15: td15)

        let signatureDataLength = Int(try reader.u32("signature data length"))
        guard signatureDataLength == reader.remaining else {
            if signatureDataLength > reader.remaining {
                throw .truncated(
                    structure: "quote", field: "signature data", offset: reader.offset,
                    needed: signatureDataLength, available: reader.remaining)
            }
            throw .malformed(
                structure: "quote", reason: "\(reader.remaining - signatureDataLength) bytes after the signature data")
        }
        let signature = try reader.read(64, "ECDSA signature")
        let attestationKey = try reader.read(64, "attestation key")

        let certificationType = try reader.u16("certification data type")
        guard certificationType == certificationTypeQEReport else {
            throw .malformed(
                structure: "quote", reason: "certification data type \(certificationType), expected 6 (QE report)")
        }
        let certificationSize = Int(try reader.u32("certification data size"))
        guard certificationSize == reader.remaining else {
            throw .malformed(
                structure: "quote",
                reason: "certification data size \(certificationSize), but \(reader.remaining) bytes remain")
        }
        let qeReport = try reader.read(SGXReportBody.size, "QE report")
        let qeReportSignature = try reader.read(64, "QE report signature")
        let authSize = Int(try reader.u16("QE auth data size"))
        let qeAuthData = try reader.read(authSize, "QE auth data")

        let chainType = try reader.u16("nested certification data type")
        guard chainType == certificationTypePCKChain else {
            throw .malformed(
                structure: "quote", reason: "nested certification data type \(chainType), expected 5 (PCK chain)")
        }
        let chainSize = Int(try reader.u32("PCK chain size"))
        guard chainSize <= maxPCKChainSize else {
            throw .malformed(
                structure: "quote",
                reason: "a PCK chain of \(chainSize) bytes, more than the limit of \(maxPCKChainSize)")
        }
        let chain = try reader.read(chainSize, "PCK certificate chain")
        guard reader.remaining == 0 else {
            throw .malformed(structure: "quote", reason: "\(reader.remaining) bytes after the PCK certificate chain")
        }
        return TDXQuote(
            header: header, body: body, signature: signature, attestationKey: attestationKey, qeReport: qeReport,
            qeReportSignature: qeReportSignature, qeAuthData: qeAuthData, pckCertificateChain: chain)
    }
}
