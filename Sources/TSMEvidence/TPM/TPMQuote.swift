import TSMBytes

/// The TPMS_ATTEST of a TPM2_Quote (TPM 2.0 Library Part 2 §10.12.12, type TPM_ST_ATTEST_QUOTE),
/// what `tpm2_quote -m` writes: the signer's Name, the caller's qualifying data (the nonce), the
/// clock, and the PCR selection with the digest of the selected PCRs.
public struct TPMQuote: Sendable, Equatable {
    /// TPM_GENERATED_VALUE.
    public static let magic: UInt32 = 0xFF54_4347
    public static let quoteType: UInt16 = 0x8018

    /// One TPMS_PCR_SELECTION: a bank and the PCR indices selected in it, ascending.
    public struct Selection: Sendable, Equatable {
        public let hash: UInt16
        public let indices: [Int]
    }

    /// The TPMS_ATTEST bytes exactly as signed.
    public let bytes: [UInt8]
    public let qualifiedSigner: [UInt8]
    /// The caller's qualifying data: the relying party's nonce.
    public let extraData: [UInt8]
    public let clock: UInt64
    public let resetCount: UInt32
    public let restartCount: UInt32
    public let firmwareVersion: UInt64
    public let selections: [Selection]
    public let pcrDigest: [UInt8]

    /// Reads a quote's TPMS_ATTEST that fills `bytes`; refuses another magic or type, a selection
    /// of more than 16 banks or a select bitmap over 32 bytes.
    public init(parsing bytes: [UInt8]) throws(EvidenceError) {
        var reader = ByteReader(bytes, structure: "TPMS_ATTEST")
        let magic = try reader.u32BigEndian("magic")
        guard magic == Self.magic else {
            throw .malformed(structure: "TPMS_ATTEST", reason: "magic 0x\(Hex.digits(of: magic)), not TPM_GENERATED")
        }
        let type = try reader.u16BigEndian("type")
        guard type == Self.quoteType else {
            throw .malformed(structure: "TPMS_ATTEST", reason: "type 0x\(Hex.digits(of: type)), not a quote (0x8018)")
        }
        qualifiedSigner = try reader.sized16("qualifiedSigner")
        extraData = try reader.sized16("extraData")
        clock = try reader.u64BigEndian("clockInfo.clock")
        resetCount = try reader.u32BigEndian("clockInfo.resetCount")
        restartCount = try reader.u32BigEndian("clockInfo.restartCount")
        _ = try reader.u8("clockInfo.safe")
        firmwareVersion = try reader.u64BigEndian("firmwareVersion")
        let count = try reader.u32BigEndian("pcrSelect.count")
        guard count <= 16 else { throw .malformed(structure: "TPMS_ATTEST", reason: "\(count) PCR banks selected") }
        var selections: [Selection] = []
        for _ in 0..<count {
            let hash = try reader.u16BigEndian("pcrSelections.hash")
            let size = try reader.u8("pcrSelections.sizeofSelect")
            guard size <= 32 else {
                throw .malformed(structure: "TPMS_ATTEST", reason: "a PCR select bitmap of \(size) bytes")
            }
            let bitmap = try reader.read(Int(size), "pcrSelections.pcrSelect")
            let indices = (0..<Int(size) * 8).filter { bitmap[$0 / 8] & (1 << ($0 % 8)) != 0 }
            selections.append(Selection(hash: hash, indices: indices))
        }
        self.selections = selections
        pcrDigest = try reader.sized16("pcrDigest")
        guard reader.isAtEnd else {
            throw .malformed(structure: "TPMS_ATTEST", reason: "\(reader.remaining) bytes after the PCR digest")
        }
        self.bytes = bytes
    }

    /// The pcrDigest a TPM computes over `pcrs` (bank, then index, to value) for this quote's
    /// selection, with `hash` (the signing scheme's): the digest of the selected values in
    /// selection order. Nil when a selected PCR has no value or `hash` is unknown.
    public func expectedDigest(of pcrs: [UInt16: [Int: [UInt8]]], hash: UInt16) -> [UInt8]? {
        var concatenated: [UInt8] = []
        for selection in selections {
            for index in selection.indices {
                guard let value = pcrs[selection.hash]?[index] else { return nil }
                concatenated += value
            }
        }
        return TPMAlgorithmID.digest(hash, concatenated)
    }
}

/// A TPM quote as a relying party receives it from `tpm2_quote`: the TPMS_ATTEST (`-m`), the
/// TPMT_SIGNATURE (`-s`), the PCR values (`-o` with `-F values`: each selected PCR's value in the
/// quote's selection order, concatenated) and the nonce it asked for (`-q`).
public struct TPMQuoteEvidence: Sendable, Equatable {
    public var attest: [UInt8]
    public var signature: [UInt8]
    public var pcrValues: [UInt8]
    public var nonce: [UInt8]

    public init(attest: [UInt8], signature: [UInt8], pcrValues: [UInt8], nonce: [UInt8]) {
        self.attest = attest
        self.signature = signature
        self.pcrValues = pcrValues
        self.nonce = nonce
    }

    /// Checks, as `tpm2_checkquote` does: `key`'s signature over the TPMS_ATTEST, the nonce in
    /// `extraData`, and the PCR values against `pcrDigest`. Returns the quote and the values by
    /// bank and index; throws the first failed check.
    public func verify(key: TPMPublic.Key) throws(EvidenceError) -> (quote: TPMQuote, pcrs: [UInt16: [Int: [UInt8]]]) {
        let signature = try TPMSignature(parsing: signature)
        guard key.isValid(signature, over: attest) else {
            throw .failed(.tpmQuoteSignature, reason: "the key does not verify the signature over the TPMS_ATTEST")
        }
        let quote = try TPMQuote(parsing: attest)
        guard quote.extraData == nonce else {
            throw .failed(
                .tpmQuoteNonce, reason: "extraData is \(Hex.encode(quote.extraData)), the nonce \(Hex.encode(nonce))")
        }
        let pcrs = try values(for: quote)
        guard let digest = quote.expectedDigest(of: pcrs, hash: signature.hash), digest == quote.pcrDigest else {
            throw .failed(
                .tpmPCRDigest,
                reason: "pcrDigest \(Hex.encode(quote.pcrDigest)) is not the digest of the PCR values given")
        }
        return (quote, pcrs)
    }

    /// The PCR values by bank and index, cut from ``pcrValues`` by the quote's selection; refuses
    /// values of another total size or a bank of unknown digest size.
    func values(for quote: TPMQuote) throws(EvidenceError) -> [UInt16: [Int: [UInt8]]] {
        var reader = ByteReader(pcrValues, structure: "PCR values")
        var pcrs: [UInt16: [Int: [UInt8]]] = [:]
        for selection in quote.selections {
            guard let size = TPMAlgorithmID.digest(selection.hash, [])?.count else {
                throw .failed(.tpmPCRDigest, reason: "the quote selects bank 0x\(Hex.digits(of: selection.hash))")
            }
            for index in selection.indices {
                pcrs[selection.hash, default: [:]][index] = try reader.read(size, "PCR \(index)")
            }
        }
        guard reader.isAtEnd else {
            throw .failed(.tpmPCRDigest, reason: "\(reader.remaining) bytes of PCR values beyond the quote's selection")
        }
        return pcrs
    }
}

/// The checks a relying party runs on a TPM quote whose PCR values it has by index.
public enum TPMQuoteCheck {
    /// The quote, checked; throws the first failed check (see ``TPMQuoteEvidence/verify(key:)``).
    public static func verify(
        quote: [UInt8], signature: [UInt8], key: TPMPublic, nonce: [UInt8], pcrs: [UInt16: [Int: [UInt8]]]
    ) throws(EvidenceError) -> TPMQuote {
        let parsed = try TPMQuote(parsing: quote)
        var values: [UInt8] = []
        for selection in parsed.selections {
            for index in selection.indices {
                guard let value = pcrs[selection.hash]?[index] else {
                    throw .failed(.tpmPCRDigest, reason: "the quote selects PCR \(index), which the given values lack")
                }
                values += value
            }
        }
        return try TPMQuoteEvidence(attest: quote, signature: signature, pcrValues: values, nonce: nonce)
            .verify(key: key.key).quote
    }
}
