import Crypto
import X509

/// A mock attestation authority, every key and certificate derived from a seed string.
///
/// For `.tdx` it plays Intel's DCAP hierarchy: a root CA ("tsmfs mock SGX root CA"), an
/// intermediate ("tsmfs mock PCK platform CA"), a PCK leaf whose key signs the QE report (the
/// quoting enclave's key is the PCK key here), and an ECDSA P-256 attestation key that signs
/// quotes. Every key is P-256, as Intel's are.
///
/// For `.sevSNP` it plays AMD's: ARK (root), ASK (intermediate) and VCEK (leaf), all ECDSA
/// P-384 with SHA-384. Real ARKs and ASKs are RSA-4096 with RSA-PSS; a mock uses P-384
/// throughout, so one signing path serves every key. The VCEK carries AMD's TCB and hwID
/// extensions for `snpPlatform`.
///
/// The same seed always gives the same keys and byte-identical certificates (RFC 6979
/// signatures, fixed dates and serial numbers), so `tsmfs trust-anchor` in one process prints the
/// root a daemon in another process chains to. Every subject is O=tsmfs mock.
public struct MockAuthority: Sendable {
    /// The seed `tsmfs` uses when none is given.
    public static let defaultSeed = "tsmfs"

    /// The guest whose hierarchy this authority plays.
    public let guest: Guest
    /// The string every key, serial number and platform value derives from.
    public let seed: String
    /// Root CA (TDX) or ARK (SEV-SNP).
    public let root: Certificate
    /// PCK platform CA (TDX) or ASK (SEV-SNP).
    public let intermediate: Certificate
    /// PCK certificate (TDX) or VCEK (SEV-SNP).
    public let leaf: Certificate
    /// The chip and TCB values a SEV-SNP report from this authority carries (the VCEK names them).
    public let snpPlatform: SNPPlatform

    let leafKey: MockKey
    let attestationKey: MockKey
    let chainPEM: String
    let rootPEM: String
    let rootDER: [UInt8]
    /// TDX: QE report, its PCK signature and the QE auth data, fixed per authority.
    let qeReport: [UInt8]
    let qeReportSignature: [UInt8]
    /// TDX: the QE authentication data every quote carries (bytes 0...31, as DCAP's default).
    public let qeAuthData: [UInt8] = Array(0..<32)
    /// SEV-SNP: the certificate table, the same for every report.
    public let snpAuxblob: [UInt8]

    /// Derives the keys and issues the certificates of `guest`'s hierarchy from `seed`. Throws
    /// only if swift-certificates refuses to build a certificate (`EvidenceError.certificate`).
    public init(guest: Guest, seed: String = MockAuthority.defaultSeed) throws(EvidenceError) {
        // CCA has no certificate hierarchy: its keys are CCAAuthority's.
        guard guest != .cca else { throw .invalidInput(field: "guest", reason: "cca has no certificate hierarchy (its CPAK is CCAAuthority's)") }
        self.guest = guest
        self.seed = seed
        let curve: ECCurve = guest == .tdx ? .p256 : .p384
        let roles: [(label: String, name: String)] = guest == .tdx
            ? [("tdx root ca", "tsmfs mock SGX root CA"), ("tdx pck platform ca", "tsmfs mock PCK platform CA"),
               ("tdx pck", "tsmfs mock SGX PCK certificate")]
            : [("sev-snp ark", "tsmfs mock ARK"), ("sev-snp ask", "tsmfs mock ASK"), ("sev-snp vcek", "tsmfs mock VCEK")]
        let keys = roles.map { MockKey(seed: seed, label: $0.label, curve: curve) }
        let names: [DistinguishedName]
        do {
            names = try roles.map { try MockCertificates.name($0.name) }
        } catch {
            throw .certificate(role: roles[0].name, reason: "\(error)")
        }
        snpPlatform = SNPPlatform.mock(seed: seed)
        let leafExtensions: [Certificate.Extension]
        if guest == .sevSNP {
            do {
                leafExtensions = try MockCertificates.vcekExtensions(platform: snpPlatform)
            } catch {
                throw .certificate(role: roles[2].name, reason: "\(error)")
            }
        } else {
            leafExtensions = []
        }
        root = try MockCertificates.issue(kind: .root, role: roles[0].label, seed: seed, subject: names[0], key: keys[0],
                                          issuer: names[0], issuerKey: keys[0])
        intermediate = try MockCertificates.issue(kind: .intermediate, role: roles[1].label, seed: seed, subject: names[1],
                                                  key: keys[1], issuer: names[0], issuerKey: keys[0])
        leaf = try MockCertificates.issue(kind: .leaf(extra: leafExtensions), role: roles[2].label, seed: seed,
                                          subject: names[2], key: keys[2], issuer: names[1], issuerKey: keys[1])
        leafKey = keys[2]
        attestationKey = MockKey(seed: seed, label: "tdx attestation key", curve: .p256)

        do {
            rootPEM = try root.serializeAsPEM().pemString + "\n"
            chainPEM = try [leaf, intermediate, root].map { try $0.serializeAsPEM().pemString + "\n" }.joined()
            rootDER = try root.serializeAsPEM().derBytes
            let table = SNPCertificateTable(entries: [
                (GUID.vcek, try leaf.serializeAsPEM().derBytes),
                (GUID.ask, try intermediate.serializeAsPEM().derBytes),
                (GUID.ark, rootDER),
            ])
            snpAuxblob = guest == .sevSNP ? try table.encoded() : []
        } catch let error as EvidenceError {
            throw error
        } catch {
            throw .certificate(role: roles[0].name, reason: "cannot serialise: \(error)")
        }

        if guest == .tdx {
            let binding = SGXReportBody.bindingReportData(attestationKey: attestationKey.publicKeyRaw, qeAuthData: qeAuthData)
            qeReport = try SGXReportBody.mockQuotingEnclave(reportData: binding).encoded()
            qeReportSignature = leafKey.sign(qeReport)
        } else {
            qeReport = []
            qeReportSignature = []
        }
    }

    /// The root certificate (SGX root CA or ARK) as PEM: the trust anchor a verifier is given.
    public var rootCertificatePEM: String { rootPEM }
    /// The root certificate's DER.
    public var rootCertificateDER: [UInt8] { rootDER }
    /// Leaf, intermediate and root as concatenated PEM (the DCAP certification data type 5 form).
    public var certificateChainPEM: String { chainPEM }
    /// The DCAP attestation key's public point x‖y.
    public var attestationPublicKey: [UInt8] { attestationKey.publicKeyRaw }

    /// The DCAP header user data: a 16-byte QE identifier derived from the seed, then 4 zeros.
    var quoteUserData: [UInt8] {
        Array(SHA256.hash(data: Array("tsmfs mock QE id \(seed)".utf8)).prefix(16)) + [0, 0, 0, 0]
    }

    /// A signed TDX Quote v4 over `body`: the `tdx_guest` outblob.
    public func quote(_ body: TDXQuoteBody) throws(EvidenceError) -> [UInt8] {
        guard guest == .tdx else { throw .wrongGuest(expected: .tdx, actual: guest) }
        var header = TDXQuoteHeader()
        header.userData = quoteUserData
        var quote = TDXQuote(header: header, body: body, signature: [], attestationKey: attestationKey.publicKeyRaw,
                             qeReport: qeReport, qeReportSignature: qeReportSignature, qeAuthData: qeAuthData,
                             pckCertificateChain: Array(chainPEM.utf8))
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
