import FoundationEssentials
import SwiftASN1
import TSMBytes
import X509
import _CryptoExtras

/// The check of a vTPM attestation key's certificate as cloud vTPMs keep it in NV (Azure's at
/// 0x01C101D0, Compute Engine's at 0x01c10000 and 0x01c10002): it chains to the trust anchor
/// through the CA's intermediate, and its subject public key is the key that signed the quote.
public enum TPMKeyCertificateCheck {
    /// The DER certificate at the start of `bytes`: an NV index is read whole, so the certificate
    /// may be followed by the index's unwritten bytes. Refuses what does not start with a DER
    /// SEQUENCE of definite length that fits.
    public static func certificate(inNVContents bytes: [UInt8]) throws(EvidenceError) -> [UInt8] {
        guard bytes.count >= 2, bytes[0] == 0x30 else {
            throw .failed(.akCertificate, reason: "the NV contents do not start with a DER certificate")
        }
        var length = Int(bytes[1]), header = 2
        if bytes[1] & 0x80 != 0 {
            let count = Int(bytes[1] & 0x7F)
            guard (1...3).contains(count), bytes.count >= 2 + count else {
                throw .failed(.akCertificate, reason: "the certificate's DER length does not parse")
            }
            length = bytes[2..<2 + count].reduce(0) { $0 << 8 | Int($1) }
            header += count
        }
        guard header + length <= bytes.count else {
            throw .failed(
                .akCertificate,
                reason: "the certificate needs \(header + length) bytes, the NV contents have \(bytes.count)")
        }
        return Array(bytes[0..<header + length])
    }

    /// Checks `certificate` (DER, trailing NV bytes allowed) issued by `intermediate` issued by
    /// `anchor` (the trust anchor itself, DER): names, CA constraints, signatures and validity at
    /// `time`, then that its subject public key is `key`.
    public static func verify(
        certificate: [UInt8], intermediate: [UInt8], anchor: [UInt8], key: TPMPublic.Key, at time: Date = Date()
    ) throws(EvidenceError) {
        let chain = CertificateChain(
            check: .akCertificate,
            leaf: try CertificateChain.member(
                "AK", der: try Self.certificate(inNVContents: certificate), check: .akCertificate),
            intermediate: try CertificateChain.member("intermediate CA", der: intermediate, check: .akCertificate),
            root: try CertificateChain.member("root CA", der: anchor, check: .akCertificate))
        try chain.validate(anchorDER: anchor, at: time)
        guard Self.publicKey(of: chain.leaf.certificate, is: key) else {
            throw .failed(.akCertificate, reason: "the certificate's public key is not the key that signed the quote")
        }
    }

    /// Whether `certificate`'s subject public key is `key` (RSA modulus and exponent, or the EC
    /// point).
    static func publicKey(of certificate: Certificate, is key: TPMPublic.Key) -> Bool {
        switch key {
        case .rsa(let modulus, let exponent):
            guard let rsa = _RSA.Signing.PublicKey(certificate.publicKey),
                let components = try? rsa.getKeyPrimitives()
            else { return false }
            let trimmed = { (bytes: [UInt8]) in Array(bytes.drop { $0 == 0 }) }
            return trimmed([UInt8](components.modulus)) == trimmed(modulus)
                && trimmed([UInt8](components.publicExponent)) == trimmed(exponent.bigEndianBytes)
        case .ecc(let curve, let x, let y):
            let point = [0x04] + x + y
            switch curve {
            case TPMAlgorithmID.nistP256:
                return P256.Signing.PublicKey(certificate.publicKey)?.x963Representation == Data(point)
            case TPMAlgorithmID.nistP384:
                return P384.Signing.PublicKey(certificate.publicKey)?.x963Representation == Data(point)
            default:
                return false
            }
        }
    }
}
