/// Why a primitive refused: a CBOR document it cannot read, or a key it cannot use. The cases
/// mirror ``TSMEvidence/EvidenceError``'s of the same names, which callers map them to one to one
/// so that messages read the same whichever module threw.
public enum CryptoError: Error, Equatable, Sendable, CustomStringConvertible {
    /// `structure` ended before `field`: it needs `needed` bytes at `offset`, `available` remain.
    case truncated(structure: String, field: String, offset: Int, needed: Int, available: Int)
    /// `structure` holds something the decoder does not accept.
    case malformed(structure: String, reason: String)
    /// The key playing `role` does not load, or its private operation failed.
    case key(role: String, reason: String)

    /// What went wrong, in the words ``TSMEvidence/EvidenceError`` uses for the same case.
    public var description: String {
        switch self {
        case .truncated(let structure, let field, let offset, let needed, let available):
            return "truncated \(structure): \(field) needs \(needed) bytes at offset \(offset), \(max(available, 0)) remain"
        case .malformed(let structure, let reason):
            return "malformed \(structure): \(reason)"
        case .key(let role, let reason):
            return "\(role) certificate: \(reason)"
        }
    }
}
