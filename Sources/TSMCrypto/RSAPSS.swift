import _CryptoExtras
import Crypto
import FoundationEssentials

/// RSASSA-PSS with SHA-384, MGF1-SHA-384 and a 48-byte salt (RFC 8017 8.1, 9.1), as AMD's ARK
/// and ASK sign certificates. Signing is deterministic: the salt is HMAC-SHA-384 of the message
/// under a fixed label, so the same key and message give the same signature in every process,
/// which keeps the mock ARK byte-identical (and its SHA-256 pin stable). EMSA-PSS-ENCODE is
/// done here; the RSA private operation (m^d mod n, no padding) is swift-crypto's
/// `_RSA.BlindSigning.PrivateKey.blindSignature(for:)`, BoringSSL's `RSA_sign_raw`.
public struct RSAPSSSigner: Sendable {
    /// Bytes of the salt, of the hash, and of a 4096-bit modulus.
    static let saltSize = 48, hashSize = 48

    let key: _RSA.BlindSigning.PrivateKey<SHA384>
    /// The public half, for verifiers and for the certificates' SubjectPublicKeyInfo.
    public let publicKey: _RSA.Signing.PublicKey

    /// A signer of a PKCS#1 PEM key; `role` names it in errors.
    public init(pemRepresentation pem: String, role: String) throws(CryptoError) {
        do {
            key = try _RSA.BlindSigning.PrivateKey(
                pemRepresentation: pem, parameters: .RSABSSA_SHA384_PSS_Deterministic)
            publicKey = try _RSA.Signing.PublicKey(derRepresentation: key.publicKey.derRepresentation)
        } catch {
            throw .key(role: role, reason: "the mock RSA key does not load: \(error)")
        }
    }

    /// The RSASSA-PSS signature of `message` (as many bytes as the modulus).
    public func sign(_ message: [UInt8]) throws(CryptoError) -> [UInt8] {
        let modulusBits = publicKey.keySizeInBits
        let salt = Array(
            HMAC<SHA384>.authenticationCode(for: message, using: SymmetricKey(data: Array("tsmfs mock PSS salt".utf8))))
        let encoded = Self.encode(message: message, salt: salt, emBits: modulusBits - 1)
        let representative = [UInt8](repeating: 0, count: (modulusBits + 7) / 8 - encoded.count) + encoded
        let signature: [UInt8]
        do {
            signature = Array(try key.blindSignature(for: representative).rawRepresentation)
        } catch {
            throw .key(role: "RSA-PSS", reason: "the RSA private operation failed: \(error)")
        }
        // A signature that does not verify would be a bug here, not bad input: refuse it.
        guard Self.isValid(signature: signature, of: message, by: publicKey) else {
            throw .key(role: "RSA-PSS", reason: "the signature does not verify with the key's public half")
        }
        return signature
    }

    /// EMSA-PSS-ENCODE (RFC 8017 9.1.1) with SHA-384 and MGF1-SHA-384.
    static func encode(message: [UInt8], salt: [UInt8], emBits: Int) -> [UInt8] {
        let emLength = (emBits + 7) / 8
        let messageHash = Array(SHA384.hash(data: message))
        let h = Array(SHA384.hash(data: [UInt8](repeating: 0, count: 8) + messageHash + salt))
        let db = [UInt8](repeating: 0, count: emLength - salt.count - hashSize - 2) + [0x01] + salt
        var maskedDB = zip(db, mgf1(seed: h, length: db.count)).map { $0 ^ $1 }
        maskedDB[0] &= UInt8(0xff >> (8 * emLength - emBits))
        return maskedDB + h + [0xbc]
    }

    /// MGF1 with SHA-384 (RFC 8017 B.2.1).
    static func mgf1(seed: [UInt8], length: Int) -> [UInt8] {
        var output: [UInt8] = []
        var counter: UInt32 = 0
        while output.count < length {
            let c = [
                UInt8(counter >> 24), UInt8(truncatingIfNeeded: counter >> 16), UInt8(truncatingIfNeeded: counter >> 8),
                UInt8(truncatingIfNeeded: counter),
            ]
            output += SHA384.hash(data: seed + c)
            counter += 1
        }
        return Array(output.prefix(length))
    }

    /// Whether `signature` is a valid RSASSA-PSS SHA-384 (salt 48) signature of `message`.
    public static func isValid(signature: [UInt8], of message: [UInt8], by key: _RSA.Signing.PublicKey) -> Bool {
        key.isValidSignature(
            _RSA.Signing.RSASignature(rawRepresentation: signature), for: SHA384.hash(data: message), padding: .PSS)
    }
}
