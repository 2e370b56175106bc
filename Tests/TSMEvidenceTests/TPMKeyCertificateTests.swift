import Crypto
import FoundationEssentials
import SwiftASN1
@testable import TSMEvidence
import Testing
import X509
import _CryptoExtras

/// An AK certificate as a cloud vTPM keeps it in NV: root -> intermediate -> AK (the fixture's
/// real swtpm key), read with the index's unwritten bytes after it. Accepted for its key; refused
/// for another key, another anchor, or a changed byte.
@Suite struct TPMKeyCertificateTests {
    struct Issued {
        let root, intermediate, leaf: [UInt8]
    }

    static func issue(for key: TPMPublic.Key) throws -> Issued {
        guard case .rsa(let modulus, let exponent) = key else {
            throw EvidenceError.malformed(structure: "", reason: "")
        }
        let rootKey = P256.Signing.PrivateKey(), intermediateKey = P256.Signing.PrivateKey()
        let rootName = try DistinguishedName { CommonName("test root") }
        let intermediateName = try DistinguishedName { CommonName("test intermediate") }
        let now = Date()
        func certificate(
            _ publicKey: Certificate.PublicKey, _ subject: DistinguishedName, _ issuer: DistinguishedName,
            _ signer: P256.Signing.PrivateKey, ca: Bool
        ) throws -> [UInt8] {
            let extensions = try Certificate.Extensions {
                Critical(BasicConstraints.isCertificateAuthority(maxPathLength: nil))
            }
            let certificate = try Certificate(
                version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: publicKey,
                notValidBefore: now - 3600, notValidAfter: now + 3600, issuer: issuer, subject: subject,
                signatureAlgorithm: .ecdsaWithSHA256, extensions: ca ? extensions : Certificate.Extensions(),
                issuerPrivateKey: Certificate.PrivateKey(signer))
            var serializer = DER.Serializer()
            try serializer.serialize(certificate)
            return serializer.serializedBytes
        }
        let ak = try _RSA.Signing.PublicKey(n: modulus, e: Array(exponent.bigEndianBytes.drop { $0 == 0 }))
        return Issued(
            root: try certificate(.init(rootKey.publicKey), rootName, rootName, rootKey, ca: true),
            intermediate: try certificate(
                .init(intermediateKey.publicKey), intermediateName, rootName, rootKey, ca: true),
            leaf: try certificate(
                .init(ak), try DistinguishedName { CommonName("AK") }, intermediateName, intermediateKey, ca: false))
    }

    @Test func acceptsTheAKsCertificateReadFromNV() throws {
        let ak = try TPMPublic(parsing: try TPMQuoteTests.fixture("tpm-quote-rsa.ak-tpmt-public"))
        let issued = try Self.issue(for: ak.key)
        let nv = issued.leaf + [UInt8](repeating: 0xFF, count: 4096 - issued.leaf.count)
        try TPMKeyCertificateCheck.verify(
            certificate: nv, intermediate: issued.intermediate, anchor: issued.root, key: ak.key)
    }

    @Test func refusesAnotherKeyAnotherAnchorAndAChangedByte() throws {
        let ak = try TPMPublic(parsing: try TPMQuoteTests.fixture("tpm-quote-rsa.ak-tpmt-public"))
        let other = try TPMPublic(parsing: try TPMQuoteTests.fixture("tpm-quote-ecc.ak-tpmt-public"))
        let issued = try Self.issue(for: ak.key)
        let elsewhere = try Self.issue(for: ak.key)
        func check(_ leaf: [UInt8], anchor: [UInt8]? = nil, intermediate: [UInt8]? = nil, key: TPMPublic.Key? = nil)
            -> String
        {
            do throws(EvidenceError) {
                try TPMKeyCertificateCheck.verify(
                    certificate: leaf, intermediate: intermediate ?? issued.intermediate, anchor: anchor ?? issued.root,
                    key: key ?? ak.key)
                return "accepted"
            } catch {
                return error.description
            }
        }
        #expect(check(issued.leaf, key: other.key).contains("not the key that signed"))
        #expect(check(issued.leaf, anchor: elsewhere.root).contains("not signed by the root CA"))
        var changed = issued.leaf
        changed[changed.count - 10] ^= 1
        #expect(check(changed).hasPrefix("AK certificate:"))
        #expect(check([0x30, 0x82, 0xFF, 0xFF]).contains("NV contents have 4"))
        #expect(check([0xFF, 0xFF]).contains("do not start with a DER certificate"))
    }
}
