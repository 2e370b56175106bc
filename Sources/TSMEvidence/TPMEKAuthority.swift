import Crypto
import FoundationEssentials
import SwiftASN1
import TSMBytes
import X509
import _CryptoExtras

/// The seeded mock CA that issues the certificates of the vTPMs' endorsement keys, as a TPM
/// manufacturer's EK CA does (TCG EK Credential Profile 2.5, section 3.2). One self-signed P-384
/// root, O=tsmfs mock, CN=tsmfs mock TPM EK CA: `tsmfs trust-anchor` prints it, a verifier that
/// trusts it accepts the EK certificate tsmfs writes at NV 0x01C00002. Same seed, same bytes.
public struct TPMEKAuthority: Sendable {
    /// The seed the CA key and serial numbers derive from.
    public let seed: String
    /// The CA's self-signed certificate (DER).
    public let rootCertificateDER: [UInt8]
    let key: MockKey
    let name: DistinguishedName

    /// The CA of `seed`: its key is the P-384 mock key labelled "tpm ek ca".
    public init(seed: String = MockSeed.default) throws(EvidenceError) {
        self.seed = seed
        key = MockKey(seed: seed, label: "tpm ek ca", curve: .p384)
        do {
            name = try MockCertificates.name("tsmfs mock TPM EK CA")
        } catch {
            throw .certificate(role: "TPM EK CA", reason: "\(error)")
        }
        let root = try MockCertificates.issue(
            kind: .root, role: "tpm ek ca", seed: seed, subject: name, key: key, issuer: name, issuerKey: key)
        rootCertificateDER = try Self.der(root, role: "TPM EK CA")
    }

    /// The CA certificate as PEM (one CERTIFICATE document, newline-terminated).
    public var rootCertificatePEM: String { CertificatePEM.pem(rootCertificateDER) }

    /// What the EK certificate's subject alternative name says of the TPM (TCG EK Credential
    /// Profile 3.2.9: tcg-at-tpmManufacturer, tcg-at-tpmModel, tcg-at-tpmVersion).
    public struct TPMIdentity: Sendable, Equatable {
        /// "id:" and 8 hex digits: TPM_PT_MANUFACTURER.
        public var manufacturer: String
        /// TPM_PT_VENDOR_STRING_1...4 as text.
        public var model: String
        /// "id:" and 8 hex digits: TPM_PT_FIRMWARE_VERSION_1.
        public var version: String
        /// The identity of a TPM.
        public init(manufacturer: String, model: String, version: String) {
            self.manufacturer = manufacturer
            self.model = model
            self.version = version
        }
    }

    /// The DER EK certificate of an RSA EK with modulus `modulus` (big-endian) and exponent
    /// `exponent` (0 in a TPMT_PUBLIC means 65537): an empty subject, the TPM's identity in a
    /// critical subject alternative name, keyEncipherment only, not a CA, the extended key usage
    /// tcg-kp-EKCertificate (2.23.133.8.1), as the EK Credential Profile makes it.
    public func rsaEKCertificate(modulus: [UInt8], exponent: UInt32, tpm: TPMIdentity) throws(EvidenceError)
        -> [UInt8]
    {
        let role = "TPM EK"
        do {
            let e = exponent == 0 ? 65537 : exponent
            let eBytes = Array(withUnsafeBytes(of: e.bigEndian) { Array($0) }.drop { $0 == 0 })
            let publicKey = Certificate.PublicKey(try _RSA.Signing.PublicKey(n: modulus, e: eBytes))
            let identity = DistinguishedName([
                RelativeDistinguishedName([
                    .init(type: Self.tpmManufacturer, utf8String: tpm.manufacturer),
                    .init(type: Self.tpmModel, utf8String: tpm.model),
                    .init(type: Self.tpmVersion, utf8String: tpm.version),
                ])
            ])
            let extensions = try Certificate.Extensions([
                .init(BasicConstraints.notCertificateAuthority, critical: true),
                .init(KeyUsage(keyEncipherment: true), critical: true),
                .init(SubjectAlternativeNames([.directoryName(identity)]), critical: true),
                .init(ExtendedKeyUsage([ExtendedKeyUsage.Usage(oid: Self.ekCertificateUsage)]), critical: false),
                .init(
                    AuthorityKeyIdentifier(
                        keyIdentifier: SubjectKeyIdentifier(hash: try key.certificatePublicKey).keyIdentifier),
                    critical: false),
            ])
            let certificate = try Certificate(
                version: .v3,
                serialNumber: MockCertificates.serialNumber(seed: seed, role: "tpm ek \(Hex.encode(modulus))"),
                publicKey: publicKey, notValidBefore: MockCertificates.notValidBefore,
                notValidAfter: MockCertificates.notValidAfter, issuer: name, subject: DistinguishedName(),
                signatureAlgorithm: key.signatureAlgorithm, extensions: extensions,
                issuerPrivateKey: Certificate.PrivateKey(MockCertificateSigner(key)))
            return try Self.der(certificate, role: role)
        } catch let error as EvidenceError {
            throw error
        } catch {
            throw .certificate(role: role, reason: "\(error)")
        }
    }

    static let tpmManufacturer: ASN1ObjectIdentifier = [2, 23, 133, 2, 1]
    static let tpmModel: ASN1ObjectIdentifier = [2, 23, 133, 2, 2]
    static let tpmVersion: ASN1ObjectIdentifier = [2, 23, 133, 2, 3]
    static let ekCertificateUsage: ASN1ObjectIdentifier = [2, 23, 133, 8, 1]

    static func der(_ certificate: Certificate, role: String) throws(EvidenceError) -> [UInt8] {
        do {
            var serializer = DER.Serializer()
            try serializer.serialize(certificate)
            return serializer.serializedBytes
        } catch {
            throw .certificate(role: role, reason: "\(error)")
        }
    }
}
