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
            guard let document = try PEMDocument.parseMultiple(pemString: trustAnchorPEM).first(where: { $0.discriminator == "CERTIFICATE" }) else {
                throw EvidenceError.malformed(structure: "trust anchor", reason: "no CERTIFICATE in the PEM")
            }
            _ = try Certificate(derEncoded: document.derBytes)
            anchorDER = document.derBytes
        } catch let error as EvidenceError {
            throw error
        } catch {
            throw .malformed(structure: "trust anchor", reason: "\(error)")
        }
    }

    /// The root of a mock authority as the anchor.
    public init(authority: MockAuthority) {
        anchorDER = authority.rootCertificateDER
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
        let expected = SGXReportBody.bindingReportData(attestationKey: quote.attestationKey, qeAuthData: quote.qeAuthData)
        guard qeReport.reportData == expected else {
            throw .failed(.qeReportDataBinding, reason: "QE REPORTDATA is \(Hex.encode(qeReport.reportData)), SHA-256(attestation key ‖ QE auth data) ‖ zeros is \(Hex.encode(expected))")
        }

        guard let attestationKey = try? P256.Signing.PublicKey(rawRepresentation: quote.attestationKey) else {
            throw .failed(.attestationKeySignature, reason: "the attestation key is not a P-256 point")
        }
        guard Self.isValidP256(signature: quote.signature, of: Array(bytes[TDXQuote.signedRange]), by: attestationKey) else {
            throw .failed(.attestationKeySignature, reason: "the signature over the quote header and body does not verify")
        }
        return quote
    }

    /// Verifies a SEV-SNP report with its certificate table: structure, VCEK chain (VCEK signed
    /// by ASK signed by ARK = anchor), the report signature by the VCEK over bytes 0..<0x2A0, and
    /// the VCEK's hwID and TCB extensions, where present, against CHIP_ID and REPORTED_TCB.
    public func verifySNPReport(_ bytes: [UInt8], auxblob: [UInt8], at time: Date = Date()) throws(EvidenceError) -> SNPReport {
        let report = try SNPReport.parse(bytes)
        let (leafGUID, leafRole): (GUID, String)
        switch report.signingKey {
        case 0: (leafGUID, leafRole) = (.vcek, "VCEK")
        case 1: (leafGUID, leafRole) = (.vlek, "VLEK")
        case 7: throw .failed(.reportSignature, reason: "the report is unsigned (SIGNING_KEY 7)")
        default: throw .malformed(structure: "report", reason: "SIGNING_KEY \(report.signingKey) is reserved")
        }
        let table = try SNPCertificateTable.parse(auxblob)
        func certificate(_ guid: GUID, _ role: String) throws(EvidenceError) -> CertificateChain.Member {
            guard let der = table.certificate(guid) else {
                throw .failed(.vcekChain, reason: "the certificate table has no \(role) (\(guid))")
            }
            return try CertificateChain.member(role, der: der, check: .vcekChain)
        }
        let chain = CertificateChain(check: .vcekChain, leaf: try certificate(leafGUID, leafRole),
                                     intermediate: try certificate(.ask, "ASK"), root: try certificate(.ark, "ARK"))
        try chain.validate(anchorDER: anchorDER, at: time)

        guard let vcekKey = P384.Signing.PublicKey(chain.leaf.certificate.publicKey) else {
            throw .failed(.reportSignature, reason: "the \(leafRole) key is not P-384")
        }
        let raw = try SNPReport.rawSignature(field: Array(bytes[SNPReport.signatureOffset..<SNPReport.size]))
        guard let signature = try? P384.Signing.ECDSASignature(rawRepresentation: raw),
              vcekKey.isValidSignature(signature, for: Array(bytes[SNPReport.signedRange])) else {
            throw .failed(.reportSignature, reason: "the \(leafRole)'s signature over report bytes 0..<0x2A0 does not verify")
        }
        try Self.checkVCEKBinding(report, chain.leaf.certificate, role: leafRole)
        return report
    }

    /// Verifies `bytes` as `guest`'s evidence; `auxblob` is required for SEV-SNP.
    public func verify(_ bytes: [UInt8], guest: Guest, auxblob: [UInt8]? = nil, at time: Date = Date()) throws(EvidenceError) -> VerifiedEvidence {
        switch guest {
        case .tdx:
            return .tdx(try verifyTDXQuote(bytes, at: time))
        case .sevSNP:
            guard let auxblob else {
                throw .failed(.vcekChain, reason: "no auxblob (certificate table) was given")
            }
            return .sevSNP(try verifySNPReport(bytes, auxblob: auxblob, at: time))
        case .cca:
            throw .malformed(structure: "trust anchor", reason: "a CCA token is checked against the CPAK public key (CCAToken.verify), not a root certificate")
        }
    }

    static func isValidP256(signature: [UInt8], of message: [UInt8], by key: P256.Signing.PublicKey) -> Bool {
        guard let signature = try? P256.Signing.ECDSASignature(rawRepresentation: signature) else { return false }
        return key.isValidSignature(signature, for: message)
    }

    static func checkVCEKBinding(_ report: SNPReport, _ vcek: Certificate, role: String) throws(EvidenceError) {
        func extensionValue(_ oid: ASN1ObjectIdentifier) -> ArraySlice<UInt8>? { vcek.extensions[oid: oid]?.value }
        if !report.maskChipKey, let value = extensionValue(VCEKExtension.hwID) {
            let hwID = try? ASN1OctetString(derEncoded: value)
            guard let hwID, Array(hwID.bytes) == report.chipID else {
                throw .failed(.vcekBinding, reason: "CHIP_ID is not the \(role)'s hwID")
            }
        }
        let spls: [(ASN1ObjectIdentifier, UInt8, String)] = [
            (VCEKExtension.bootloaderSPL, report.reportedTCB.bootloader, "boot loader"),
            (VCEKExtension.teeSPL, report.reportedTCB.tee, "TEE"),
            (VCEKExtension.snpSPL, report.reportedTCB.snp, "SNP"),
            (VCEKExtension.microcodeSPL, report.reportedTCB.microcode, "microcode"),
        ]
        for (oid, reported, name) in spls {
            guard let value = extensionValue(oid) else { continue }
            guard let spl = try? Int(derEncoded: value), spl == Int(reported) else {
                throw .failed(.vcekBinding, reason: "REPORTED_TCB's \(name) SPL \(reported) is not the \(role)'s")
            }
        }
    }
}
