import Crypto
import FoundationEssentials
import SwiftASN1
import X509

/// How the mock authority issues its certificates: fixed validity (2025-01-01 to 2050-01-01
/// UTC), serial numbers and keys derived from the seed, RFC 6979 signatures. The same seed gives
/// byte-identical certificates in every process.
enum MockCertificates {
    static let notValidBefore = Date(timeIntervalSince1970: 1_735_689_600)  // 2025-01-01T00:00:00Z
    static let notValidAfter = Date(timeIntervalSince1970: 2_524_608_000)  // 2050-01-01T00:00:00Z

    /// O=tsmfs mock, CN=`commonName`.
    static func name(_ commonName: String) throws -> DistinguishedName {
        try DistinguishedName {
            OrganizationName("tsmfs mock")
            CommonName(commonName)
        }
    }

    /// A positive 16-byte serial number: SHA-256(seed ‖ "/" ‖ role), top bit cleared, next set.
    static func serialNumber(seed: String, role: String) -> Certificate.SerialNumber {
        var bytes = Array(SHA256.hash(data: Array("\(seed)/\(role)".utf8)).prefix(16))
        bytes[0] = (bytes[0] & 0x7f) | 0x40
        return Certificate.SerialNumber(bytes: bytes)
    }

    /// Intel's name shape (C, ST, L, O, CN) with Intel's common name, the organisation and an
    /// OU saying it is a tsmfs mock: verifiers that match the CN ("Intel SGX PCK Platform CA")
    /// still work, and no one mistakes it for Intel's.
    static func intelName(_ commonName: String) throws -> DistinguishedName {
        try DistinguishedName {
            CountryName("US")
            StateOrProvinceName("CA")
            LocalityName("Santa Clara")
            OrganizationName("tsmfs mock")
            OrganizationalUnitName("not Intel: tsmfs test authority")
            CommonName(commonName)
        }
    }

    enum Kind {
        case root
        case intermediate
        case leaf
    }

    /// Issues `subject`'s certificate for `key`, signed by `issuerKey` under `issuer`'s name.
    static func issue(
        kind: Kind, role: String, seed: String, subject: DistinguishedName, key: MockKey,
        issuer: DistinguishedName, issuerKey: MockKey, extra: [Certificate.Extension] = []
    ) throws(EvidenceError) -> Certificate {
        do {
            let publicKey = try key.certificatePublicKey
            let issuerPublicKey = try issuerKey.certificatePublicKey
            var extensions: [Certificate.Extension] = []
            switch kind {
            case .root:
                extensions.append(try .init(BasicConstraints.isCertificateAuthority(maxPathLength: 1), critical: true))
                extensions.append(try .init(KeyUsage(keyCertSign: true, cRLSign: true), critical: true))
            case .intermediate:
                extensions.append(try .init(BasicConstraints.isCertificateAuthority(maxPathLength: 0), critical: true))
                extensions.append(try .init(KeyUsage(keyCertSign: true, cRLSign: true), critical: true))
            case .leaf:
                extensions.append(try .init(BasicConstraints.notCertificateAuthority, critical: true))
                extensions.append(try .init(KeyUsage(digitalSignature: true, nonRepudiation: true), critical: true))
            }
            extensions += extra
            extensions.append(try .init(SubjectKeyIdentifier(hash: publicKey), critical: false))
            if case .root = kind {
            } else {
                let authority = SubjectKeyIdentifier(hash: issuerPublicKey).keyIdentifier
                extensions.append(try .init(AuthorityKeyIdentifier(keyIdentifier: authority), critical: false))
            }
            return try Certificate(
                version: .v3, serialNumber: serialNumber(seed: seed, role: role), publicKey: publicKey,
                notValidBefore: notValidBefore, notValidAfter: notValidAfter, issuer: issuer, subject: subject,
                signatureAlgorithm: issuerKey.signatureAlgorithm, extensions: try Certificate.Extensions(extensions),
                issuerPrivateKey: Certificate.PrivateKey(MockCertificateSigner(issuerKey)))
        } catch let error as EvidenceError {
            throw error
        } catch {
            throw .certificate(role: role, reason: "\(error)")
        }
    }
}
