import Crypto
import SwiftASN1
import X509

/// A mock attestation authority, every key and certificate derived from a seed string.
///
/// For `.tdx` it plays Intel's DCAP hierarchy with Intel's names (O and OU say "tsmfs mock"):
/// "Intel SGX Root CA" -> "Intel SGX PCK Platform CA" -> "Intel SGX PCK Certificate", whose SGX
/// Extensions name the seed's `TDXPlatform` and whose key signs the QE report (the quoting
/// enclave's key is the PCK key here); "Intel SGX TCB Signing", issued by the root, signs the TCB
/// info and QE identity of `tdxCollateral(at:)`; an ECDSA P-256 attestation key signs quotes.
/// Every key is P-256, as Intel's are. CRL distribution points name `tsmfs.invalid`, never Intel.
///
/// For `.sevSNP` it plays AMD's Milan hierarchy as AMD lays it out (`AMDCertificates`): ARK
/// (RSA-4096, self-signed) -> ASK (RSA-4096) -> VCEK (ECDSA P-384), every certificate signed with
/// RSASSA-PSS SHA-384, under AMD's names (ARK-Milan, SEV-Milan, SEV-VCEK); the VCEK carries AMD's
/// structVersion, productName, SPL and hwID extensions for `snpPlatform`. The ARK and ASK keys
/// are fixed published mock keys (`MockRSAKeys`), the VCEK key derives from the seed.
///
/// The same seed always gives the same keys and byte-identical certificates (RFC 6979 ECDSA
/// nonces, PSS salts derived from the message, fixed dates, seed-derived serial numbers), so
/// `tsmfs trust-anchor` in one process prints the root a daemon in another process chains to.
public struct MockAuthority: Sendable {
    /// The seed `tsmfs` uses when none is given.
    public static let defaultSeed = "tsmfs"

    /// The guest whose hierarchy this authority plays.
    public let guest: Guest
    /// The string every key, serial number and platform value derives from.
    public let seed: String
    /// Root CA (TDX) or ARK (SEV-SNP), DER.
    public let rootCertificateDER: [UInt8]
    /// PCK platform CA (TDX) or ASK (SEV-SNP), DER.
    public let intermediateCertificateDER: [UInt8]
    /// PCK certificate (TDX) or VCEK (SEV-SNP), DER.
    public let leafCertificateDER: [UInt8]
    /// The chip and TCB values a SEV-SNP report from this authority carries (the VCEK names them).
    public let snpPlatform: SNPPlatform
    /// TDX: the platform the PCK certificate names, its TCB at the level of `tcbStatus`.
    public let tdxPlatform: TDXPlatform
    /// TDX: the TCB Signing certificate (issued by the root) that signs the collateral; nil otherwise.
    public let tcbSigning: Certificate?
    /// TDX: root, PCK Platform CA, PCK and TCB Signing keys, in that order; empty otherwise.
    let keys: [MockKey]

    let leafKey: MockKey
    let attestationKey: MockKey
    /// The DCAP attestation key's public point x‖y.
    public let attestationPublicKey: [UInt8]
    /// TDX: the quote's certification data type 5 (``certificateChainPEM`` as bytes) and header
    /// user data, made once: every quote carries the same, and making them per quote cost a
    /// quarter of a quote's time (PEM encoding).
    let quoteChain: [UInt8]
    let quoteUserData: [UInt8]
    /// SEV-SNP: the ASK's signer, which issues VCEKs for other TCBs (the KDS face).
    let askSigner: RSAPSSSigner?
    /// TDX: QE report, its PCK signature and the QE auth data, fixed per authority.
    let qeReport: [UInt8]
    let qeReportSignature: [UInt8]
    /// TDX: the QE authentication data every quote carries (bytes 0...31, as DCAP's default).
    public let qeAuthData: [UInt8] = Array(0..<32)
    /// SEV-SNP: the certificate table (VCEK, ASK, ARK), the same for every report.
    public let snpAuxblob: [UInt8]

    /// Derives the keys and issues the certificates of `guest`'s hierarchy from `seed`. Throws
    /// only if a certificate cannot be built (`EvidenceError.certificate`).
    ///
    /// - Parameter tcbStatus: TDX: the status of the TCB level the platform's TCB matches.
    public init(guest: Guest, seed: String = MockAuthority.defaultSeed, tcbStatus: TCBStatus = .upToDate) throws(EvidenceError) {
        // CCA has no certificate hierarchy: its keys are CCAAuthority's.
        guard guest != .cca else { throw .invalidInput(field: "guest", reason: "cca has no certificate hierarchy (its CPAK is CCAAuthority's)") }
        self.guest = guest
        self.seed = seed
        snpPlatform = SNPPlatform.mock(seed: seed)
        tdxPlatform = TDXPlatform.mock(seed: seed, tcbStatus: tcbStatus)
        attestationKey = MockKey(seed: seed, label: "tdx attestation key", curve: .p256)
        attestationPublicKey = attestationKey.publicKeyRaw
        quoteUserData = Array(SHA256.hash(data: Array("tsmfs mock QE id \(seed)".utf8)).prefix(16)) + [0, 0, 0, 0]
        if guest == .sevSNP {
            leafKey = MockKey(seed: seed, label: "sev-snp vcek", curve: .p384)
            let arkSigner = try RSAPSSSigner(pem: MockRSAKeys.arkPEM, role: "ARK")
            let askSigner = try RSAPSSSigner(pem: MockRSAKeys.askPEM, role: "ASK")
            self.askSigner = askSigner
            rootCertificateDER = try AMDCertificates.ark(seed: seed, key: arkSigner)
            intermediateCertificateDER = try AMDCertificates.ask(seed: seed, key: askSigner, arkKey: arkSigner)
            leafCertificateDER = try AMDCertificates.vcek(seed: seed, spki: try leafKey.subjectPublicKeyInfo, chipID: snpPlatform.chipID,
                                                          tcb: snpPlatform.tcb, askKey: askSigner)
            snpAuxblob = try SNPCertificateTable(entries: [
                (GUID.vcek, leafCertificateDER), (GUID.ask, intermediateCertificateDER), (GUID.ark, rootCertificateDER),
            ]).encoded()
            qeReport = []
            qeReportSignature = []
            quoteChain = []
            tcbSigning = nil
            keys = []
            return
        }
        let roles = [("tdx root ca", "Intel SGX Root CA"), ("tdx pck platform ca", "Intel SGX PCK Platform CA"),
                     ("tdx pck", "Intel SGX PCK Certificate"), ("tdx tcb signing", "Intel SGX TCB Signing")]
        let keys = roles.map { MockKey(seed: seed, label: $0.0, curve: .p256) }
        self.keys = keys
        let names: [DistinguishedName]
        let extensions: [[Certificate.Extension]]
        do {
            names = try roles.map { try MockCertificates.intelName($0.1) }
            let rootCRL = try SGXExtensions.crlDistributionPoints(Self.rootCRLURL)
            extensions = [[rootCRL], [rootCRL], [try SGXExtensions.pckExtension(tdxPlatform),
                                                 try SGXExtensions.crlDistributionPoints(Self.pckCRLURL)], [rootCRL]]
        } catch {
            throw .certificate(role: roles[0].1, reason: "\(error)")
        }
        let root = try MockCertificates.issue(kind: .root, role: roles[0].0, seed: seed, subject: names[0], key: keys[0],
                                              issuer: names[0], issuerKey: keys[0], extra: extensions[0])
        let intermediate = try MockCertificates.issue(kind: .intermediate, role: roles[1].0, seed: seed, subject: names[1],
                                                      key: keys[1], issuer: names[0], issuerKey: keys[0], extra: extensions[1])
        let leaf = try MockCertificates.issue(kind: .leaf, role: roles[2].0, seed: seed,
                                              subject: names[2], key: keys[2], issuer: names[1], issuerKey: keys[1], extra: extensions[2])
        tcbSigning = try MockCertificates.issue(kind: .leaf, role: roles[3].0, seed: seed, subject: names[3], key: keys[3],
                                                issuer: names[0], issuerKey: keys[0], extra: extensions[3])
        leafKey = keys[2]
        askSigner = nil
        snpAuxblob = []
        do {
            rootCertificateDER = try root.serializeAsPEM().derBytes
            intermediateCertificateDER = try intermediate.serializeAsPEM().derBytes
            leafCertificateDER = try leaf.serializeAsPEM().derBytes
        } catch {
            throw .certificate(role: roles[0].1, reason: "cannot serialise: \(error)")
        }
        quoteChain = Array(Self.chainPEM(leafCertificateDER, intermediateCertificateDER, rootCertificateDER).utf8)
        let binding = SGXReportBody.bindingReportData(attestationKey: attestationPublicKey, qeAuthData: qeAuthData)
        var enclave = SGXReportBody.mockQuotingEnclave(reportData: binding)
        enclave.cpuSVN = tdxPlatform.cpuSVN
        qeReport = try enclave.encoded()
        qeReportSignature = leafKey.sign(qeReport)
    }

    /// SEV-SNP: a VCEK of this authority's chip at another TCB, as AMD's KDS issues one per chip
    /// and TCB (the VCEK key derives from the chip and TCB on real parts; the mock keeps one key).
    public func vcekCertificate(tcb: SNPTCB) throws(EvidenceError) -> [UInt8] {
        guard let askSigner else { throw .wrongGuest(expected: .sevSNP, actual: guest) }
        if tcb == snpPlatform.tcb { return leafCertificateDER }
        return try AMDCertificates.vcek(seed: seed, spki: try leafKey.subjectPublicKeyInfo, chipID: snpPlatform.chipID,
                                        tcb: tcb, askKey: askSigner)
    }

    static func pem(_ der: [UInt8]) -> String {
        PEMDocument(type: "CERTIFICATE", derBytes: der).pemString + "\n"
    }

    /// The root certificate (SGX root CA or ARK) as PEM: the trust anchor a verifier is given.
    public var rootCertificatePEM: String { Self.pem(rootCertificateDER) }
    /// The intermediate (PCK platform CA or ASK) as PEM.
    public var intermediateCertificatePEM: String { Self.pem(intermediateCertificateDER) }
    /// The leaf (PCK certificate or VCEK) as PEM.
    public var leafCertificatePEM: String { Self.pem(leafCertificateDER) }
    /// Leaf, intermediate and root as concatenated PEM (the DCAP certification data type 5 form).
    public var certificateChainPEM: String { Self.chainPEM(leafCertificateDER, intermediateCertificateDER, rootCertificateDER) }

    /// Leaf, intermediate and root as concatenated PEM, in that order.
    static func chainPEM(_ leaf: [UInt8], _ intermediate: [UInt8], _ root: [UInt8]) -> String {
        pem(leaf) + pem(intermediate) + pem(root)
    }

    /// A signed TDX Quote v4 over `body`: the `tdx_guest` outblob.
    public func quote(_ body: TDXQuoteBody) throws(EvidenceError) -> [UInt8] {
        guard guest == .tdx else { throw .wrongGuest(expected: .tdx, actual: guest) }
        var header = TDXQuoteHeader()
        header.userData = quoteUserData
        var quote = TDXQuote(header: header, body: body, signature: [], attestationKey: attestationPublicKey,
                             qeReport: qeReport, qeReportSignature: qeReportSignature, qeAuthData: qeAuthData,
                             pckCertificateChain: quoteChain)
        quote.signature = attestationKey.sign(try quote.signedBytes())
        return try quote.encoded()
    }

    /// `report` signed by the VCEK (SIGNATURE_ALGO 1, SIGNING_KEY 0; CHIP_ID zeroed when
    /// MASK_CHIP_KEY is set), with the certificate table: the `sev_guest` outblob and auxblob.
    public func sign(_ report: SNPReport) throws(EvidenceError) -> SNPEvidence {
        guard guest == .sevSNP else { throw .wrongGuest(expected: .sevSNP, actual: guest) }
        var report = report
        report.signatureAlgorithm = SNPReport.ecdsaP384SHA384
        report.signerInfo &= ~(UInt32(7) << 2)
        if report.maskChipKey { report.chipID = [UInt8](repeating: 0, count: 64) }
        report.signature = try SNPReport.signatureField(rawSignature: leafKey.sign(try report.signedBytes()))
        return SNPEvidence(report: try report.encoded(), auxblob: snpAuxblob)
    }
}
