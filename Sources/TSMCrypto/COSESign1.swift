import Crypto

/// A COSE_Sign1 message (RFC 9052 §4.2) as CCA tokens carry it: tag 18 around
/// `[protected: bstr .cbor {1: alg}, unprotected: {}, payload: bstr, signature: bstr]`, the
/// signature ECDSA over the Sig_structure in the fixed-length r‖s form of RFC 9053 §2.1 (not DER).
public struct COSESign1: Sendable, Equatable {
    /// COSE algorithm ES384: ECDSA P-384 with SHA-384.
    public static let es384: Int64 = -35
    /// CBOR tag 18, COSE_Sign1_Tagged.
    public static let tag: UInt64 = 18

    /// The protected header's serialized map (the bstr's contents).
    public let protected: [UInt8]
    /// The payload (the bstr's contents): for CCA, the claims map.
    public let payload: [UInt8]
    /// r‖s.
    public let signature: [UInt8]

    /// The header labels this implementation processes, so the only one `crit` may name: alg (1).
    public static let understoodLabels: Set<CBOR> = [.int(1)]
    /// The names of the COSE algorithms a message is likely to carry, for messages.
    static let algorithmNames: [Int64: String] = [
        -7: "ES256", -35: "ES384", -36: "ES512", -8: "EdDSA", -37: "PS256", -38: "PS384", -39: "PS512",
    ]

    /// The algorithm the protected header names (label 1), if it names one.
    public var algorithm: Int64? {
        (try? CBORDecoder.decode(protected, structure: "COSE protected header"))?[1]?.intValue
    }

    /// Why the message cannot carry an ES384 signature, nil when it can: the protected header
    /// names no algorithm or another one, or the signature is not 96 bytes of r‖s.
    public var es384Refusal: String? {
        guard let algorithm else { return "the protected header names no algorithm (label 1); ES384 (-35) is needed" }
        guard algorithm == Self.es384 else {
            let name = Self.algorithmNames[algorithm].map { " (\($0))" } ?? ""
            return "the protected header names algorithm \(algorithm)\(name); only ES384 (-35) is accepted"
        }
        guard signature.count == 96 else {
            return "the signature has \(signature.count) bytes; an ES384 signature (r‖s) has 96"
        }
        return nil
    }

    /// Signs `payload` with `signer`, which returns the raw r‖s ES384 (P-384, SHA-384) signature
    /// of the bytes it is given: the tagged message's encoding.
    public static func sign(payload: [UInt8], signer: ([UInt8]) -> [UInt8]) -> [UInt8] {
        let protected = CBOR.intMap([(1, .int(es384))]).encoded()
        let message = COSESign1(
            protected: protected, payload: payload,
            signature: signer(sigStructure(protected: protected, payload: payload)))
        return message.encoded()
    }

    /// `["Signature1", protected, external_aad = h'', payload]`: the bytes the signature covers.
    public static func sigStructure(protected: [UInt8], payload: [UInt8]) -> [UInt8] {
        CBOR.array([.text("Signature1"), .bytes(protected), .bytes([]), .bytes(payload)]).encoded()
    }

    /// The tagged message's encoding.
    public func encoded() -> [UInt8] {
        CBOR.tagged(Self.tag, .array([.bytes(protected), .map([]), .bytes(payload), .bytes(signature)])).encoded()
    }

    /// Parses a tagged COSE_Sign1 and checks its headers (see `checkHeaders`); `structure` names
    /// it in errors ("realm token").
    public static func parse(_ bytes: [UInt8], structure: String) throws(CryptoError) -> COSESign1 {
        guard case .tagged(tag, .array(let items)) = try CBORDecoder.decode(bytes, structure: structure),
            items.count == 4
        else {
            throw .malformed(structure: structure, reason: "not a COSE_Sign1_Tagged (tag 18 around an array of 4)")
        }
        guard case .bytes(let protected) = items[0], case .map = items[1], case .bytes(let payload) = items[2],
            case .bytes(let signature) = items[3]
        else {
            throw .malformed(structure: structure, reason: "COSE_Sign1 needs [bstr, map, bstr, bstr]")
        }
        try checkHeaders(protected: protected, unprotected: items[1], structure: structure)
        return COSESign1(protected: protected, payload: payload, signature: signature)
    }

    /// RFC 9052 §3: the protected header is empty or a map (the decoder refuses a key twice in
    /// either map), no label is in both, and `crit` (2) is in the protected header, a non-empty
    /// array naming only labels this implementation processes (§3.1: others must be refused).
    static func checkHeaders(protected: [UInt8], unprotected: CBOR, structure: String) throws(CryptoError) {
        let header = protected.isEmpty ? CBOR.map([]) : try CBORDecoder.decode(protected, structure: structure)
        guard case .map(let pairs) = header, case .map(let unprotectedPairs) = unprotected else {
            throw .malformed(structure: structure, reason: "the protected header is not a map")
        }
        let labels = Set(pairs.map(\.key))
        if let both = unprotectedPairs.first(where: { labels.contains($0.key) }) {
            throw .malformed(
                structure: structure, reason: "label \(label(both.key)) is in both the protected and unprotected header"
            )
        }
        if unprotectedPairs.contains(where: { $0.key == .int(2) }) {
            throw .malformed(
                structure: structure, reason: "crit (2) is in the unprotected header; it must be protected")
        }
        guard let crit = header[2] else { return }
        guard case .array(let named) = crit, !named.isEmpty else {
            throw .malformed(structure: structure, reason: "crit (2) is not a non-empty array of labels")
        }
        if let unknown = named.first(where: { !understoodLabels.contains($0) }) {
            throw .malformed(
                structure: structure,
                reason: "crit (2) names label \(label(unknown)), which is not processed here (RFC 9052 §3.1)")
        }
    }

    static func label(_ key: CBOR) -> String {
        switch key {
        case .text(let text): return "\"\(text)\""
        default: return key.intValue.map(String.init) ?? "\(key)"
        }
    }

    /// Whether the signature verifies as ES384 with `key`; the protected header must say ES384.
    public func isValid(key: P384.Signing.PublicKey) -> Bool {
        guard es384Refusal == nil,
            let ecdsa = try? P384.Signing.ECDSASignature(rawRepresentation: signature)
        else { return false }
        return key.isValidSignature(ecdsa, for: Self.sigStructure(protected: protected, payload: payload))
    }
}

/// An EC2 COSE_Key (RFC 9053 §7.1.1) for P-384, as TF-RMM encodes the RAK:
/// `{1: 2 (EC2), -1: 2 (P-384), -2: x, -3: y}` in that order.
public enum COSEKey {
    /// The COSE_Key bytes of a P-384 public point `x‖y` (96 bytes).
    public static func p384(_ raw: [UInt8]) -> [UInt8] {
        CBOR.intMap([
            (1, .int(2)), (-1, .int(2)), (-2, .bytes(Array(raw.prefix(48)))), (-3, .bytes(Array(raw.dropFirst(48)))),
        ]).encoded()
    }

    /// The P-384 public key a COSE_Key's bytes hold.
    public static func parseP384(_ bytes: [UInt8], structure: String) throws(CryptoError) -> P384.Signing.PublicKey {
        let key = try CBORDecoder.decode(bytes, structure: structure)
        guard key[1]?.intValue == 2, key[-1]?.intValue == 2 else {
            throw .malformed(structure: structure, reason: "not an EC2 P-384 COSE_Key (kty 2, crv 2)")
        }
        guard case .bytes(let x) = key[-2], case .bytes(let y) = key[-3], x.count == 48, y.count == 48,
            let publicKey = try? P384.Signing.PublicKey(rawRepresentation: x + y)
        else {
            throw .malformed(structure: structure, reason: "x and y are not a P-384 point of 48 bytes each")
        }
        return publicKey
    }
}
