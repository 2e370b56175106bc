// TSMEvidence's public API names TSMCrypto's types (a MockKey's ECCurve, the CCA token's CBOR and
// COSE_Sign1), so its clients see them without importing the primitives' module themselves.
@_exported import TSMCrypto

extension EvidenceError {
    /// The evidence error of the same case, so a message reads the same whichever module threw.
    init(_ error: CryptoError) {
        switch error {
        case .truncated(let structure, let field, let offset, let needed, let available):
            self = .truncated(structure: structure, field: field, offset: offset, needed: needed, available: available)
        case .malformed(let structure, let reason):
            self = .malformed(structure: structure, reason: reason)
        case .key(let role, let reason):
            self = .certificate(role: role, reason: reason)
        }
    }
}

/// `body`'s result, a ``CryptoError`` it throws read as the ``EvidenceError`` of the same case.
func mappingCryptoError<T>(_ body: @autoclosure () throws(CryptoError) -> T) throws(EvidenceError) -> T {
    do {
        return try body()
    } catch {
        throw EvidenceError(error)
    }
}

extension RSAPSSSigner {
    /// A signer of a PKCS#1 PEM key; `role` names it in errors.
    init(pem: String, role: String) throws(EvidenceError) {
        self = try mappingCryptoError(RSAPSSSigner(pemRepresentation: pem, role: role))
    }
}

extension COSESign1 {
    /// Signs `payload` with `key` (P-384, ES384): the tagged message's encoding.
    public static func sign(payload: [UInt8], key: MockKey) -> [UInt8] {
        sign(payload: payload) { key.sign($0) }
    }
}
