import Crypto
import TSMBytes
@testable import TSMCrypto
import Testing

/// RFC 6979 appendix A.2.5 (P-256) and A.2.6 (P-384), message "sample".
@Suite struct DeterministicECDSATests {
    @Test func p256SampleVector() throws {
        let scalar = try #require(Hex.decode("c9afa9d845ba75166b5c215767b1d6934e50c3db36e89b127b8a622b120f6721"))
        let signature = DeterministicECDSA.sign(Array("sample".utf8), scalar: scalar, curve: .p256)
        #expect(
            Hex.encode(signature) == "efd48b2aacb6a8fd1140dd9cd45e81d69d2c877b56aaf991c34d0ea84eaf3716"
                + "f7cb1c942d657c41d436c7a1b6e29f65f3e900dbb9aff4064dc4ab2f843acda8")
    }

    @Test func p384SampleVector() throws {
        let scalar = try #require(
            Hex.decode(
                "6b9d3dad2e1b8c1c05b19875b6659f4de23c3b667bf297ba9aa47740787137d896d5724e4c70a825f872c9ea60d2edf5"))
        let signature = DeterministicECDSA.sign(Array("sample".utf8), scalar: scalar, curve: .p384)
        #expect(
            Hex.encode(signature)
                == "94edbb92a5ecb8aad4736e56c691916b3f88140666ce9fa73d64c4ea95ad133c81a648152e44acf96e36dd1e80fabe46"
                + "99ef4aeb15f178cea1fe40db2603138f130e740a19624526203b6351d0a3a94fa329c145786e679e7b82c71a38628ac8")
    }

    @Test(arguments: [ECCurve.p256, .p384])
    func signaturesVerifyWithSwiftCrypto(curve: ECCurve) throws {
        for label in ["a", "b", "c", "d"] {
            // Scalars as MockKey derives them: uniform bytes 8 longer than the scalar, reduced.
            let scalar = curve.scalar(
                reducing: Array(SHA512.hash(data: Array(label.utf8)).prefix(curve.scalarSize + 8)))
            let message = Array("message \(label)".utf8)
            let signature = DeterministicECDSA.sign(message, scalar: scalar, curve: curve)
            #expect(signature == DeterministicECDSA.sign(message, scalar: scalar, curve: curve))
            switch curve {
            case .p256:
                let publicKey = try P256.Signing.PrivateKey(rawRepresentation: scalar).publicKey
                #expect(
                    publicKey.isValidSignature(
                        try P256.Signing.ECDSASignature(rawRepresentation: signature), for: message))
            case .p384:
                let publicKey = try P384.Signing.PrivateKey(rawRepresentation: scalar).publicKey
                #expect(
                    publicKey.isValidSignature(
                        try P384.Signing.ECDSASignature(rawRepresentation: signature), for: message))
            }
        }
    }
}
