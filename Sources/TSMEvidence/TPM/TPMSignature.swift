import Crypto
import TSMBytes

/// A TPMT_SIGNATURE (TPM 2.0 Library Part 2 §11.3.4) of an RSA or ECDSA key, as TPM2_Quote
/// returns it and `tpm2_quote -s` writes it (its default "tss" format).
public struct TPMSignature: Sendable, Equatable {
    public enum Value: Sendable, Equatable {
        /// The RSASSA or RSAPSS signature, as long as the modulus.
        case rsa([UInt8])
        case ecdsa(r: [UInt8], s: [UInt8])
    }

    /// TPM_ALG_RSASSA, _RSAPSS or _ECDSA.
    public let algorithm: UInt16
    /// The hash the signer used.
    public let hash: UInt16
    public let value: Value

    public init(algorithm: UInt16, hash: UInt16, value: Value) {
        self.algorithm = algorithm
        self.hash = hash
        self.value = value
    }

    /// Reads a TPMT_SIGNATURE that fills `bytes` exactly.
    public init(parsing bytes: [UInt8]) throws(EvidenceError) {
        var reader = ByteReader(bytes, structure: "TPMT_SIGNATURE")
        algorithm = try reader.u16BigEndian("sigAlg")
        switch algorithm {
        case TPMAlgorithmID.rsassa, TPMAlgorithmID.rsapss:
            hash = try reader.u16BigEndian("hash")
            value = .rsa(try reader.sized16("sig"))
        case TPMAlgorithmID.ecdsa:
            hash = try reader.u16BigEndian("hash")
            value = .ecdsa(r: try reader.sized16("signatureR"), s: try reader.sized16("signatureS"))
        default:
            throw .malformed(
                structure: "TPMT_SIGNATURE", reason: "sigAlg 0x\(Hex.digits(of: algorithm)) (RSASSA, RSAPSS or ECDSA)")
        }
        guard reader.isAtEnd else {
            throw .malformed(structure: "TPMT_SIGNATURE", reason: "\(reader.remaining) bytes after the signature")
        }
    }

    /// The wire form.
    public var encoded: [UInt8] {
        var writer = ByteWriter()
        writer.u16BigEndian(algorithm)
        writer.u16BigEndian(hash)
        switch value {
        case .rsa(let bytes): writer.sized16(bytes)
        case .ecdsa(let r, let s):
            writer.sized16(r)
            writer.sized16(s)
        }
        return writer.bytes
    }
}

/// ECDSA on the NIST curves a TPM signs with, over the digest the signature names.
enum ECDSACheck {
    static func isValid(
        curve: UInt16, point: ([UInt8], [UInt8]), r: [UInt8], s: [UInt8], hash: UInt16, message: [UInt8]
    ) -> Bool {
        func padded(_ bytes: [UInt8], _ size: Int) -> [UInt8]? {
            let trimmed = Array(bytes.drop { $0 == 0 })
            guard trimmed.count <= size else { return nil }
            return [UInt8](repeating: 0, count: size - trimmed.count) + trimmed
        }
        let size = curve == TPMAlgorithmID.nistP256 ? 32 : curve == TPMAlgorithmID.nistP384 ? 48 : 0
        guard size > 0, let x = padded(point.0, size), let y = padded(point.1, size), let r = padded(r, size),
            let s = padded(s, size)
        else { return false }
        if size == 32 {
            guard let key = try? P256.Signing.PublicKey(rawRepresentation: x + y),
                let signature = try? P256.Signing.ECDSASignature(rawRepresentation: r + s)
            else { return false }
            switch hash {
            case TPMAlgorithmID.sha256: return key.isValidSignature(signature, for: SHA256.hash(data: message))
            case TPMAlgorithmID.sha384: return key.isValidSignature(signature, for: SHA384.hash(data: message))
            default: return false
            }
        }
        guard let key = try? P384.Signing.PublicKey(rawRepresentation: x + y),
            let signature = try? P384.Signing.ECDSASignature(rawRepresentation: r + s)
        else { return false }
        switch hash {
        case TPMAlgorithmID.sha256: return key.isValidSignature(signature, for: SHA256.hash(data: message))
        case TPMAlgorithmID.sha384: return key.isValidSignature(signature, for: SHA384.hash(data: message))
        default: return false
        }
    }
}
