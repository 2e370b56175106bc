import Crypto
import FoundationEssentials
import SwiftASN1
import TSMBytes
import X509
import _CryptoExtras

/// A seeded mock of a cloud's vTPM attestation-key CA: a P-384 root and intermediate that issue
/// the AK certificates the vTPM personalities leave in NV. Names modelled on the cloud's own
/// (Azure: "Azure Virtual TPM Root Certificate Authority 2023" issuing "Global Virtual TPM CA -
/// 03"; Compute Engine: "EK/AK CA Root" issuing "EK/AK CA Intermediate"), with O=tsmfs mock so no
/// one mistakes them for the real ones. `tsmfs trust-anchor` prints the root; a verifier that
/// trusts it accepts the chain intermediate → AK certificate. Same seed, same bytes.
public struct TPMAKAuthority: Sendable {
    /// Whose CA this mocks.
    public enum Cloud: String, Sendable, CaseIterable {
        case azure
        case gce

        var rootName: String {
            self == .azure ? "Azure Virtual TPM Root Certificate Authority 2023" : "EK/AK CA Root"
        }
        var intermediateName: String { self == .azure ? "Global Virtual TPM CA - 03" : "EK/AK CA Intermediate" }
    }

    public let cloud: Cloud
    public let seed: String
    /// The self-signed root (DER): the trust anchor.
    public let rootCertificateDER: [UInt8]
    /// The intermediate the root issued, which signs AK certificates (DER).
    public let intermediateCertificateDER: [UInt8]
    let intermediateKey: MockKey
    let intermediateName: DistinguishedName

    /// The CA of `cloud` and `seed`: keys are the P-384 mock keys labelled "<cloud> vtpm ca root"
    /// and "<cloud> vtpm ca intermediate".
    public init(cloud: Cloud, seed: String = MockSeed.default) throws(EvidenceError) {
        self.cloud = cloud
        self.seed = seed
        let role = "\(cloud.rawValue) vtpm ca"
        let rootKey = MockKey(seed: seed, label: "\(role) root", curve: .p384)
        intermediateKey = MockKey(seed: seed, label: "\(role) intermediate", curve: .p384)
        let rootName: DistinguishedName
        do {
            rootName = try MockCertificates.name(cloud.rootName)
            intermediateName = try MockCertificates.name(cloud.intermediateName)
        } catch {
            throw .certificate(role: role, reason: "\(error)")
        }
        let root = try MockCertificates.issue(
            kind: .root, role: "\(role) root", seed: seed, subject: rootName, key: rootKey, issuer: rootName,
            issuerKey: rootKey)
        let intermediate = try MockCertificates.issue(
            kind: .intermediate, role: "\(role) intermediate", seed: seed, subject: intermediateName,
            key: intermediateKey, issuer: rootName, issuerKey: rootKey)
        rootCertificateDER = try TPMEKAuthority.der(root, role: "\(role) root")
        intermediateCertificateDER = try TPMEKAuthority.der(intermediate, role: "\(role) intermediate")
    }

    /// The root as PEM (one CERTIFICATE document, newline-terminated).
    public var rootCertificatePEM: String { CertificatePEM.pem(rootCertificateDER) }
    /// The intermediate as PEM.
    public var intermediateCertificatePEM: String { CertificatePEM.pem(intermediateCertificateDER) }

    /// tcg-kp-AIKCertificate (TCG EK Credential Profile; the extended key usage of AK certificates).
    static let akCertificateUsage: ASN1ObjectIdentifier = [2, 23, 133, 8, 3]

    /// The DER certificate of the attestation key `key` (an RSA key, or ECC on NIST P-256/P-384),
    /// issued by the intermediate: subject O=tsmfs mock, CN=`subject`, digitalSignature only, not a
    /// CA, extended key usage tcg-kp-AIKCertificate. Throws `.certificate` for another curve or a
    /// modulus the RSA code refuses.
    public func akCertificate(for key: TPMPublic, subject: String) throws(EvidenceError) -> [UInt8] {
        let role = "\(cloud.rawValue) vTPM AK"
        do {
            let publicKey: Certificate.PublicKey
            switch key.key {
            case .rsa(let modulus, let exponent):
                let e = Array(exponent.bigEndianBytes.drop { $0 == 0 })
                publicKey = Certificate.PublicKey(try _RSA.Signing.PublicKey(n: modulus, e: e))
            case .ecc(let curve, let x, let y) where curve == TPMAlgorithmID.nistP256:
                publicKey = Certificate.PublicKey(try P256.Signing.PublicKey(rawRepresentation: x + y))
            case .ecc(let curve, let x, let y) where curve == TPMAlgorithmID.nistP384:
                publicKey = Certificate.PublicKey(try P384.Signing.PublicKey(rawRepresentation: x + y))
            case .ecc(let curve, _, _):
                throw EvidenceError.certificate(role: role, reason: "ECC curve 0x\(Hex.digits(of: curve))")
            }
            let extensions = try Certificate.Extensions([
                .init(BasicConstraints.notCertificateAuthority, critical: true),
                .init(KeyUsage(digitalSignature: true), critical: true),
                .init(ExtendedKeyUsage([ExtendedKeyUsage.Usage(oid: Self.akCertificateUsage)]), critical: false),
                .init(SubjectKeyIdentifier(hash: publicKey), critical: false),
                .init(
                    AuthorityKeyIdentifier(
                        keyIdentifier: SubjectKeyIdentifier(hash: try intermediateKey.certificatePublicKey)
                            .keyIdentifier),
                    critical: false),
            ])
            let certificate = try Certificate(
                version: .v3,
                serialNumber: MockCertificates.serialNumber(seed: seed, role: "\(role) \(Hex.encode(key.bytes))"),
                publicKey: publicKey, notValidBefore: MockCertificates.notValidBefore,
                notValidAfter: MockCertificates.notValidAfter, issuer: intermediateName,
                subject: try MockCertificates.name(subject), signatureAlgorithm: intermediateKey.signatureAlgorithm,
                extensions: extensions, issuerPrivateKey: Certificate.PrivateKey(MockCertificateSigner(intermediateKey))
            )
            return try TPMEKAuthority.der(certificate, role: role)
        } catch let error as EvidenceError {
            throw error
        } catch {
            throw .certificate(role: role, reason: "\(error)")
        }
    }
}
