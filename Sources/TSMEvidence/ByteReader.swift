import TSMBytes

/// The shared bounds-checked reader, throwing ``EvidenceError/truncated(structure:field:offset:needed:available:)``.
typealias ByteReader = TSMBytes.ByteReader<EvidenceError>

extension EvidenceError: TruncationReporting {
    public static func truncated(_ t: Truncation) -> EvidenceError {
        .truncated(structure: t.structure, field: t.field, offset: t.offset, needed: t.needed, available: t.available)
    }
}

/// Checks an encoder input's size, naming the field when it is wrong.
func requireSize(_ bytes: [UInt8], _ size: Int, _ field: String) throws(EvidenceError) {
    guard bytes.count == size else {
        throw .invalidInput(field: field, reason: "\(bytes.count) bytes, expected \(size)")
    }
}
