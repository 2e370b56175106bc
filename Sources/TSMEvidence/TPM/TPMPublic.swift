import Crypto
import _CryptoExtras
import TSMBytes

/// TPM 2.0 algorithm identifiers (TCG Algorithm Registry) that tsmfs reads.
public enum TPMAlgorithmID {
    public static let rsa: UInt16 = 0x0001
    public static let sha1: UInt16 = 0x0004
    public static let null: UInt16 = 0x0010
    public static let sha256: UInt16 = 0x000B
    public static let sha384: UInt16 = 0x000C
    public static let sha512: UInt16 = 0x000D
    public static let rsassa: UInt16 = 0x0014
    public static let rsapss: UInt16 = 0x0016
    public static let ecdsa: UInt16 = 0x0018
    public static let ecc: UInt16 = 0x0023
    /// TPM_ECC_NIST_P256 and P384 (TPM_ECC_CURVE).
    public static let nistP256: UInt16 = 0x0003
    public static let nistP384: UInt16 = 0x0004

    /// The digest of `bytes` under hash algorithm `alg`, nil for one tsmfs does not do.
    public static func digest(_ alg: UInt16, _ bytes: [UInt8]) -> [UInt8]? {
        switch alg {
        case sha256: Array(SHA256.hash(data: bytes))
        case sha384: Array(SHA384.hash(data: bytes))
        case sha512: Array(SHA512.hash(data: bytes))
        default: nil
        }
    }
}

/// A TPMT_PUBLIC (TPM 2.0 Library Part 2 §12.2.4) of an RSA or ECC key, kept as its exact bytes
/// (its Name is a hash over them) with the fields a verifier needs: the name algorithm, the
/// attributes, the signing scheme and the public key.
public struct TPMPublic: Sendable, Equatable {
    /// The public key of the area's `unique` field.
    public enum Key: Sendable, Equatable {
        /// Modulus (big-endian) and exponent (0 in the area means 65537).
        case rsa(modulus: [UInt8], exponent: UInt32)
        case ecc(curve: UInt16, x: [UInt8], y: [UInt8])
    }

    /// The TPMT_PUBLIC bytes exactly as read.
    public let bytes: [UInt8]
    public let nameAlg: UInt16
    /// TPMA_OBJECT.
    public let attributes: UInt32
    /// The signing scheme and its hash (`TPMAlgorithmID.null` when the key leaves it to the command).
    public let scheme: UInt16
    public let schemeHash: UInt16
    public let key: Key

    /// TPMA_OBJECT bits (Part 2 §8.3).
    public static let fixedTPM: UInt32 = 1 << 1
    public static let fixedParent: UInt32 = 1 << 4
    public static let sensitiveDataOrigin: UInt32 = 1 << 5
    public static let restricted: UInt32 = 1 << 16
    public static let sign: UInt32 = 1 << 18

    /// Reads a TPMT_PUBLIC that fills `bytes` exactly (no TPM2B size in front); refuses other
    /// key types, trailing bytes, and sizes past the structure.
    public init(parsing bytes: [UInt8]) throws(EvidenceError) {
        var reader = ByteReader(bytes, structure: "TPMT_PUBLIC")
        let type = try reader.u16BigEndian("type")
        nameAlg = try reader.u16BigEndian("nameAlg")
        attributes = try reader.u32BigEndian("objectAttributes")
        _ = try reader.sized16("authPolicy")
        let symmetric = try reader.u16BigEndian("symmetric.algorithm")
        if symmetric != TPMAlgorithmID.null { _ = try reader.read(4, "symmetric.keyBits and mode") }
        scheme = try reader.u16BigEndian("scheme")
        schemeHash = scheme == TPMAlgorithmID.null ? TPMAlgorithmID.null : try reader.u16BigEndian("scheme.hashAlg")
        switch type {
        case TPMAlgorithmID.rsa:
            _ = try reader.u16BigEndian("keyBits")
            let exponent = try reader.u32BigEndian("exponent")
            key = .rsa(modulus: try reader.sized16("unique.rsa"), exponent: exponent == 0 ? 65537 : exponent)
        case TPMAlgorithmID.ecc:
            let curve = try reader.u16BigEndian("curveID")
            let kdf = try reader.u16BigEndian("kdf.scheme")
            if kdf != TPMAlgorithmID.null { _ = try reader.u16BigEndian("kdf.hashAlg") }
            key = .ecc(curve: curve, x: try reader.sized16("unique.ecc.x"), y: try reader.sized16("unique.ecc.y"))
        default:
            throw .malformed(structure: "TPMT_PUBLIC", reason: "type 0x\(Hex.digits(of: type)) (RSA or ECC only)")
        }
        guard reader.isAtEnd else {
            throw .malformed(structure: "TPMT_PUBLIC", reason: "\(reader.remaining) bytes after the unique field")
        }
        self.bytes = bytes
    }

    /// The key's Name (Part 1 §16): nameAlg then the nameAlg digest of the area.
    public var name: [UInt8]? {
        TPMAlgorithmID.digest(nameAlg, bytes).map { nameAlg.bigEndianBytes + $0 }
    }

    /// Whether this key made `signature` over `message` (see ``Key/isValid(_:over:)``).
    public func isValid(_ signature: TPMSignature, over message: [UInt8]) -> Bool {
        key.isValid(signature, over: message)
    }
}

extension TPMPublic.Key {
    /// Whether this key made `signature` over `message`: RSASSA-PKCS1-v1_5, RSA-PSS (salt of the
    /// digest's length) or ECDSA on P-256/P-384, each with the hash the signature names.
    public func isValid(_ signature: TPMSignature, over message: [UInt8]) -> Bool {
        switch (self, signature.value) {
        case (.rsa(let modulus, let exponent), .rsa(let bytes)):
            let padding: _RSA.Signing.Padding
            switch signature.algorithm {
            case TPMAlgorithmID.rsassa: padding = .insecurePKCS1v1_5
            case TPMAlgorithmID.rsapss: padding = .PSS
            default: return false
            }
            let exponentBytes = Array(exponent.bigEndianBytes.drop { $0 == 0 })
            guard let key = try? _RSA.Signing.PublicKey(n: modulus, e: exponentBytes) else { return false }
            let value = _RSA.Signing.RSASignature(rawRepresentation: bytes)
            switch signature.hash {
            case TPMAlgorithmID.sha256:
                return key.isValidSignature(value, for: SHA256.hash(data: message), padding: padding)
            case TPMAlgorithmID.sha384:
                return key.isValidSignature(value, for: SHA384.hash(data: message), padding: padding)
            case TPMAlgorithmID.sha512:
                return key.isValidSignature(value, for: SHA512.hash(data: message), padding: padding)
            default: return false
            }
        case (.ecc(let curve, let x, let y), .ecdsa(let r, let s)):
            return signature.algorithm == TPMAlgorithmID.ecdsa
                && ECDSACheck.isValid(curve: curve, point: (x, y), r: r, s: s, hash: signature.hash, message: message)
        default:
            return false
        }
    }
}
