import Crypto
import TSMBytes

/// The two NIST curves the evidence formats use: P-256 with SHA-256 (DCAP attestation key, PCK
/// chain) and P-384 with SHA-384 (SEV-SNP VCEK, ASK, ARK).
public enum ECCurve: String, Sendable, Hashable {
    case p256 = "P-256"
    case p384 = "P-384"

    /// Bytes in a scalar, a coordinate, and each half of a raw r‖s signature.
    public var scalarSize: Int { self == .p256 ? 32 : 48 }

    /// The group order n (SEC 2 / FIPS 186-4 D.1.2), big-endian.
    var orderBigEndian: [UInt8] {
        switch self {
        case .p256:
            return Hex.decode("ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551") ?? []
        case .p384:
            return Hex.decode(
                "ffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf581a0db248b0a77aecec196accc52973")
                ?? []
        }
    }

    var arithmetic: ModularArithmetic { ModularArithmetic(modulusBigEndian: orderBigEndian) }

    /// The scalar (`bytes` mod (n − 1)) + 1, big-endian, `scalarSize` bytes: 1 ≤ d < n for any
    /// input, and with 8 bytes more than the scalar the reduction's bias is < 2⁻⁶⁴ (FIPS 186-4
    /// B.4.1), the derivation of ``TSMEvidence/MockKey``.
    public func scalar(reducing bytes: [UInt8]) -> [UInt8] {
        var orderMinusOne = orderBigEndian
        orderMinusOne[orderMinusOne.count - 1] -= 1  // n is odd: no borrow
        let math = ModularArithmetic(modulusBigEndian: orderMinusOne)
        let reduced = math.reduce(ModularArithmetic.number(bigEndian: bytes))
        return ModularArithmetic.bigEndianBytes(ModularArithmetic.add(reduced + [0], [1]), count: scalarSize)
    }

    /// The curve's hash: SHA-256 for P-256, SHA-384 for P-384 (so hlen = qlen in RFC 6979).
    func digest(_ message: [UInt8]) -> [UInt8] {
        switch self {
        case .p256: return Array(SHA256.hash(data: message))
        case .p384: return Array(SHA384.hash(data: message))
        }
    }

    func hmac(key: [UInt8], _ message: [UInt8]) -> [UInt8] {
        let key = SymmetricKey(data: key)
        switch self {
        case .p256: return Array(HMAC<SHA256>.authenticationCode(for: message, using: key))
        case .p384: return Array(HMAC<SHA384>.authenticationCode(for: message, using: key))
        }
    }

    /// The x coordinate of k·G, computed by swift-crypto as the public key of scalar k.
    func baseMultipleX(_ scalar: [UInt8]) throws -> [UInt8] {
        switch self {
        case .p256:
            return Array(try P256.Signing.PrivateKey(rawRepresentation: scalar).publicKey.rawRepresentation.prefix(32))
        case .p384:
            return Array(try P384.Signing.PrivateKey(rawRepresentation: scalar).publicKey.rawRepresentation.prefix(48))
        }
    }
}

/// ECDSA with RFC 6979 deterministic nonces, so that the same key and message always give the
/// same signature and the mock authority's certificates are byte-identical in every process.
/// (swift-crypto's ECDSA draws a random nonce and offers no deterministic mode.)
public enum DeterministicECDSA {
    /// The raw r‖s signature (big-endian halves) over the curve hash of `message`.
    public static func sign(_ message: [UInt8], scalar: [UInt8], curve: ECCurve) -> [UInt8] {
        let math = curve.arithmetic
        let size = curve.scalarSize
        let hash = curve.digest(message)
        // hlen = qlen, so bits2int is the hash itself and one subtraction reduces it mod q.
        let z = math.reduce(ModularArithmetic.number(bigEndian: hash))
        let d = ModularArithmetic.number(bigEndian: scalar, width: math.width)
        let hashOctets = ModularArithmetic.bigEndianBytes(z, count: size)

        // RFC 6979 3.2 steps b-f.
        var v = [UInt8](repeating: 0x01, count: size)
        var k = [UInt8](repeating: 0x00, count: size)
        k = curve.hmac(key: k, v + [0x00] + scalar + hashOctets)
        v = curve.hmac(key: k, v)
        k = curve.hmac(key: k, v + [0x01] + scalar + hashOctets)
        v = curve.hmac(key: k, v)

        while true {
            // Step h: with hlen = qlen one HMAC block is a candidate nonce.
            v = curve.hmac(key: k, v)
            let candidate = ModularArithmetic.number(bigEndian: v, width: math.width)
            if !ModularArithmetic.isZero(candidate), ModularArithmetic.compare(candidate, math.modulus) < 0,
                let r = try? math.reduce(ModularArithmetic.number(bigEndian: curve.baseMultipleX(v))),
                !ModularArithmetic.isZero(r),
                let kInverse = math.inverse(candidate)
            {
                let s = math.multiply(kInverse, math.add(z, math.multiply(r, d)))
                if !ModularArithmetic.isZero(s) {
                    return ModularArithmetic.bigEndianBytes(r, count: size)
                        + ModularArithmetic.bigEndianBytes(s, count: size)
                }
            }
            k = curve.hmac(key: k, v + [0x00])
            v = curve.hmac(key: k, v)
        }
    }
}
