import Crypto
import SwiftASN1
import X509

/// Intel's DCAP hierarchy for TDX, every key and certificate derived from a seed string, with
/// Intel's names (O and OU say "tsmfs mock"): "Intel SGX Root CA" -> "Intel SGX PCK Platform CA"
/// -> "Intel SGX PCK Certificate", whose SGX Extensions name the seed's `TDXPlatform` and whose
/// key signs the QE report (the quoting enclave's key is the PCK key here); "Intel SGX TCB
/// Signing", issued by the root, signs the TCB info and QE identity of `tdxCollateral(at:)`; an
/// ECDSA P-256 attestation key signs quotes. Every key is P-256, as Intel's are. CRL
/// distribution points name `tsmfs.invalid`, never Intel.
///
/// The same seed always gives the same keys and byte-identical certificates (RFC 6979 ECDSA
/// nonces, fixed dates, seed-derived serial numbers), so `tsmfs trust-anchor` in one process
/// prints the root a daemon in another process chains to.
public struct TDXAuthority: Sendable {
    /// The string every key, serial number and platform value derives from.
    public let seed: String
    /// The SGX root CA, DER.
    public let rootCertificateDER: [UInt8]
    /// The PCK platform CA, DER.
    public let intermediateCertificateDER: [UInt8]
    /// The PCK certificate, DER.
    public let leafCertificateDER: [UInt8]
    /// The platform the PCK certificate names, its TCB at the level of the `tcbStatus` given.
    public let tdxPlatform: TDXPlatform
    /// The TCB Signing certificate (issued by the root) that signs the collateral.
    public let tcbSigning: Certificate
    /// Root, PCK Platform CA, PCK and TCB Signing keys.
    let rootKey, platformCAKey, leafKey, tcbSigningKey: MockKey
    let attestationKey: MockKey
    /// The DCAP attestation key's public point x‖y.
    public let attestationPublicKey: [UInt8]
    /// The quote's certification data type 5 (``certificateChainPEM`` as bytes) and header user
    /// data, made once: every quote carries the same, and making them per quote cost a quarter
    /// of a quote's time (PEM encoding).
    let quoteChain: [UInt8]
    let quoteUserData: [UInt8]
    /// QE report, its PCK signature and the QE auth data, fixed per authority.
    let qeReport: [UInt8]
    let qeReportSignature: [UInt8]
    /// The QE authentication data every quote carries (bytes 0...31, as DCAP's default).
    public let qeAuthData: [UInt8] = Array(0..<32)

    /// Derives the keys and issues the certificates from `seed`. Throws only if a certificate
    /// cannot be built (`EvidenceError.certificate`).
    ///
    /// - Parameter tcbStatus: the status of the TCB level the platform's TCB matches.
    public init(seed: String = MockSeed.default, tcbStatus: TCBStatus = .upToDate) throws(EvidenceError) {
        self.seed = seed
        tdxPlatform = TDXPlatform.mock(seed: seed, tcbStatus: tcbStatus)
        attestationKey = MockKey(seed: seed, label: "tdx attestation key", curve: .p256)
        attestationPublicKey = attestationKey.publicKeyRaw
        quoteUserData = Array(SHA256.hash(data: Array("tsmfs mock QE id \(seed)".utf8)).prefix(16)) + [0, 0, 0, 0]
        let key = { (label: String) in MockKey(seed: seed, label: label, curve: .p256) }
        rootKey = key("tdx root ca")
        platformCAKey = key("tdx pck platform ca")
        leafKey = key("tdx pck")
        tcbSigningKey = key("tdx tcb signing")
        let roles = [
            "Intel SGX Root CA", "Intel SGX PCK Platform CA", "Intel SGX PCK Certificate", "Intel SGX TCB Signing",
        ]
        let names: [DistinguishedName]
        let rootCRL, pckExtension, pckCRL: Certificate.Extension
        do {
            names = try roles.map { try MockCertificates.intelName($0) }
            rootCRL = try SGXExtensions.crlDistributionPoints(Self.rootCRLURL)
            pckExtension = try SGXExtensions.pckExtension(tdxPlatform)
            pckCRL = try SGXExtensions.crlDistributionPoints(Self.pckCRLURL)
        } catch {
            throw .certificate(role: roles[0], reason: "\(error)")
        }
        let (rootName, platformName, leafName, signingName) = (names[0], names[1], names[2], names[3])
        let root = try MockCertificates.issue(
            kind: .root, role: "tdx root ca", seed: seed, subject: rootName, key: rootKey,
            issuer: rootName, issuerKey: rootKey, extra: [rootCRL])
        let intermediate = try MockCertificates.issue(
            kind: .intermediate, role: "tdx pck platform ca", seed: seed,
            subject: platformName, key: platformCAKey, issuer: rootName,
            issuerKey: rootKey, extra: [rootCRL])
        let leaf = try MockCertificates.issue(
            kind: .leaf, role: "tdx pck", seed: seed, subject: leafName, key: leafKey,
            issuer: platformName, issuerKey: platformCAKey, extra: [pckExtension, pckCRL])
        tcbSigning = try MockCertificates.issue(
            kind: .leaf, role: "tdx tcb signing", seed: seed, subject: signingName,
            key: tcbSigningKey, issuer: rootName, issuerKey: rootKey, extra: [rootCRL])
        do {
            rootCertificateDER = try root.serializeAsPEM().derBytes
            intermediateCertificateDER = try intermediate.serializeAsPEM().derBytes
            leafCertificateDER = try leaf.serializeAsPEM().derBytes
        } catch {
            throw .certificate(role: roles[0], reason: "cannot serialise: \(error)")
        }
        quoteChain = Array(
            CertificatePEM.chain(leafCertificateDER, intermediateCertificateDER, rootCertificateDER).utf8)
        let binding = SGXReportBody.bindingReportData(attestationKey: attestationPublicKey, qeAuthData: qeAuthData)
        var enclave = SGXReportBody.mockQuotingEnclave(reportData: binding)
        enclave.cpuSVN = tdxPlatform.cpuSVN
        qeReport = try enclave.encoded()
        qeReportSignature = leafKey.sign(qeReport)
    }

    /// The SGX root CA as PEM: the trust anchor a verifier is given.
    public var rootCertificatePEM: String { CertificatePEM.pem(rootCertificateDER) }
    /// The PCK platform CA as PEM.
    public var intermediateCertificatePEM: String { CertificatePEM.pem(intermediateCertificateDER) }
    /// The PCK certificate as PEM.
    public var leafCertificatePEM: String { CertificatePEM.pem(leafCertificateDER) }
    /// Leaf, intermediate and root as concatenated PEM (the DCAP certification data type 5 form).
    public var certificateChainPEM: String {
        CertificatePEM.chain(leafCertificateDER, intermediateCertificateDER, rootCertificateDER)
    }

    /// A signed TDX Quote (v4, or v5 for a TD 1.5 body) over `body`: the `tdx_guest` outblob.
    public func quote(_ body: TDXQuoteBody) throws(EvidenceError) -> [UInt8] {
        var header = TDXQuoteHeader()
        header.userData = quoteUserData
        var quote = TDXQuote(
            header: header, body: body, signature: [], attestationKey: attestationPublicKey,
            qeReport: qeReport, qeReportSignature: qeReportSignature, qeAuthData: qeAuthData,
            pckCertificateChain: quoteChain)
        quote.signature = attestationKey.sign(try quote.signedBytes())
        return try quote.encoded()
    }
}
