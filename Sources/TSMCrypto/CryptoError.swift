/// Why a primitive refused: a CBOR document it cannot read, or a key it cannot use. The cases
/// mirror ``TSMEvidence/EvidenceError``'s of the same names, and TSMEvidence maps them to those
/// one to one: the messages users read are EvidenceError's, whichever module threw.
public enum CryptoError: Error, Equatable, Sendable {
    /// `structure` ended before `field`: it needs `needed` bytes at `offset`, `available` remain.
    case truncated(structure: String, field: String, offset: Int, needed: Int, available: Int)
    /// `structure` holds something the decoder does not accept.
    case malformed(structure: String, reason: String)
    /// The key playing `role` does not load, or its private operation failed.
    case key(role: String, reason: String)
}
