import Crypto
import FoundationEssentials
import SwiftASN1
import TSMBytes
import X509

/// Verifies evidence against one trust anchor: a DCAP quote up to the SGX root CA, or a SEV-SNP
/// report and its certificate table up to the ARK. Every failure is an `EvidenceError` naming
/// the structure or the check at fault.
public struct EvidenceVerifier: Sendable {
    /// The root certificate's DER; the chain's root must be byte-identical.
    public let anchorDER: [UInt8]

    /// An anchor from a root certificate's DER (the SGX root CA's or the ARK's).
    public init(trustAnchorDER: [UInt8]) {
        anchorDER = trustAnchorDER
    }

    /// An anchor from a PEM file's text: its first CERTIFICATE document.
    public init(trustAnchorPEM: String) throws(EvidenceError) {
        do {
            guard
                let document = try PEMDocument.parseMultiple(pemString: trustAnchorPEM).first(where: {
                    $0.discriminator == "CERTIFICATE"
                })
            else {
                throw EvidenceError.malformed(structure: "trust anchor", reason: "no CERTIFICATE in the PEM")
            }
            // An SGX root CA (ECDSA) or an ARK (RSASSA-PSS, which swift-certificates cannot read).
            if (try? Certificate(derEncoded: document.derBytes)) == nil {
                _ = try AMDCertificate(der: document.derBytes, role: "trust anchor")
            }
            anchorDER = document.derBytes
        } catch let error as EvidenceError {
            throw error
        } catch {
            throw .malformed(structure: "trust anchor", reason: "\(error)")
        }
    }

    /// Verifies a TDX Quote v4 in DCAP's order: structure, PCK chain up to the anchor, QE report
    /// signature by the PCK leaf key, QE report data binding the attestation key and QE auth
    /// data, then the attestation key's signature over header and body.
    public func verifyTDXQuote(_ bytes: [UInt8], at time: Date = Date()) throws(EvidenceError) -> TDXQuote {
        let quote = try TDXQuote.parse(bytes)
        let chain = try CertificateChain.pckChain(pem: quote.pckCertificateChain)
        try chain.validate(anchorDER: anchorDER, at: time)

        guard let pckKey = P256.Signing.PublicKey(chain.leaf.certificate.publicKey) else {
            throw .failed(.qeReportSignature, reason: "the PCK leaf key is not P-256")
        }
        guard Self.isValidP256(signature: quote.qeReportSignature, of: quote.qeReport, by: pckKey) else {
            throw .failed(.qeReportSignature, reason: "the PCK leaf key's signature over the QE report does not verify")
        }

        let qeReport = try SGXReportBody(quote.qeReport)
        let expected = SGXReportBody.bindingReportData(
            attestationKey: quote.attestationKey, qeAuthData: quote.qeAuthData)
        guard qeReport.reportData == expected else {
            throw .failed(
                .qeReportDataBinding,
                reason:
                    """
                    QE REPORTDATA is \(Hex.encode(qeReport.reportData)), SHA-256(attestation key ‖ QE auth data) \
                    ‖ zeros is \(Hex.encode(expected))
                    """
            )
        }

        guard let attestationKey = try? P256.Signing.PublicKey(rawRepresentation: quote.attestationKey) else {
            throw .failed(.attestationKeySignature, reason: "the attestation key is not a P-256 point")
        }
        guard let signedLength = TDXQuote.signedLength(of: bytes), signedLength <= bytes.count,
            Self.isValidP256(signature: quote.signature, of: Array(bytes[0..<signedLength]), by: attestationKey)
        else {
            throw .failed(
                .attestationKeySignature, reason: "the signature over the quote header and body does not verify")
        }
        return quote
    }

    /// Verifies a SEV-SNP report with its certificate table: structure, VCEK chain (VCEK signed
    /// by ASK signed by ARK = anchor), the report signature by the VCEK over bytes 0..<0x2A0, and
    /// the VCEK's hwID and TCB extensions against CHIP_ID and REPORTED_TCB. A report with
    /// SIGNING_KEY 1 is checked against the table's VLEK, issued by the ASVK in the ASK entry.
    /// With `crl` (the ARK's CRL, DER) the chain is checked against it (`AMDChain.checkRevocation`):
    /// the `revocation` check.
    public func verifySNPReport(
        _ bytes: [UInt8], auxblob: [UInt8], crl: [UInt8]? = nil, at time: Date = Date()
    ) throws(EvidenceError) -> SNPReport {
        let report = try SNPReport.parse(bytes)
        let (leafGUID, leafRole): (GUID, String)
        switch report.signingKey {
        case 0: (leafGUID, leafRole) = (.vcek, "VCEK")
        case 1: (leafGUID, leafRole) = (.vlek, "VLEK")
        case 7: throw .failed(.reportSignature, reason: "the report is unsigned (SIGNING_KEY 7)")
        default: throw .malformed(structure: "report", reason: "SIGNING_KEY \(report.signingKey) is reserved")
        }
        let table = try SNPCertificateTable.parse(auxblob)
        func certificate(_ guid: GUID, _ role: String) throws(EvidenceError) -> AMDCertificate {
            guard let der = table.certificate(guid) else {
                throw .failed(.vcekChain, reason: "the certificate table has no \(role) (\(guid))")
            }
            do {
                return try AMDCertificate(der: der, role: role)
            } catch {
                throw .failed(.vcekChain, reason: "the \(role) certificate does not parse: \(error)")
            }
        }
        let chain = AMDChain(
            leaf: try certificate(leafGUID, leafRole), ask: try certificate(.ask, leafRole == "VLEK" ? "ASVK" : "ASK"),
            ark: try certificate(.ark, "ARK"), leafRole: leafRole)
        return try verifySNPReport(bytes, report: report, chain: chain, crl: crl, at: time)
    }

    /// The checks after the chain is assembled, whatever carried it: the chain to the anchor, the
    /// CRL when given, the report signature by the leaf, the leaf's binding to the report.
    func verifySNPReport(
        _ bytes: [UInt8], report: SNPReport, chain: AMDChain, crl: [UInt8]?, at time: Date
    ) throws(EvidenceError) -> SNPReport {
        let leafRole = chain.leafRole
        try chain.validate(anchorDER: anchorDER, at: time)
        if let crl { try chain.checkRevocation(crl: crl, at: time) }

        let vcekKey = try chain.leafKey()
        let raw = try SNPReport.rawSignature(field: Array(bytes[SNPReport.signatureOffset..<SNPReport.size]))
        guard let signature = try? P384.Signing.ECDSASignature(rawRepresentation: raw),
            vcekKey.isValidSignature(signature, for: Array(bytes[SNPReport.signedRange]))
        else {
            throw .failed(
                .reportSignature, reason: "the \(leafRole)'s signature over report bytes 0..<0x2A0 does not verify")
        }
        try chain.checkBinding(report)
        return report
    }

    static func isValidP256(signature: [UInt8], of message: [UInt8], by key: P256.Signing.PublicKey) -> Bool {
        guard let signature = try? P256.Signing.ECDSASignature(rawRepresentation: signature) else { return false }
        return key.isValidSignature(signature, for: message)
    }
}
