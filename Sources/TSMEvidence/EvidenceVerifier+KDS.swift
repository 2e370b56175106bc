import FoundationEssentials
import SwiftASN1

extension EvidenceVerifier {
    /// A VCEK file's limit: AMD's are about 1.4 KB.
    public static let vcekLimit = 16 * 1024
    /// A `cert_chain` file's limit: AMD's (ASK then ARK, PEM) are about 4.6 KB.
    public static let certificateChainLimit = 32 * 1024

    /// Verifies a SEV-SNP report with the certificates AMD's KDS serves instead of a certificate
    /// table (as for an Azure guest, which has none): `vcek` the DER of
    /// `/vcek/v1/{product}/{chip_id}?...`, `certificateChainPEM` the PEM of
    /// `/vcek/v1/{product}/cert_chain` (ASK, then ARK). The checks are
    /// ``verifySNPReport(_:auxblob:crl:at:)``'s, on the same chain; a report signed by a VLEK
    /// (SIGNING_KEY 1) is refused here, its chain being the VLEK's.
    public func verifySNPReport(
        _ bytes: [UInt8], vcek: [UInt8], certificateChainPEM: String, crl: [UInt8]? = nil, at time: Date = Date()
    ) throws(EvidenceError) -> SNPReport {
        let report = try SNPReport.parse(bytes)
        guard report.signingKey == 0 else {
            throw .failed(
                .vcekChain,
                reason: "SIGNING_KEY is \(report.signingKey); a VCEK and its cert_chain verify only 0 (VCEK)")
        }
        let documents: [PEMDocument]
        do {
            documents = try PEMDocument.parseMultiple(pemString: certificateChainPEM).filter {
                $0.discriminator == "CERTIFICATE"
            }
        } catch {
            throw .failed(.vcekChain, reason: "the cert_chain PEM does not parse: \(error)")
        }
        guard documents.count == 2 else {
            throw .failed(
                .vcekChain, reason: "the cert_chain has \(documents.count) certificates; KDS serves 2 (ASK, then ARK)")
        }
        func certificate(_ der: [UInt8], _ role: String) throws(EvidenceError) -> AMDCertificate {
            do {
                return try AMDCertificate(der: der, role: role)
            } catch {
                throw .failed(.vcekChain, reason: "the \(role) certificate does not parse: \(error)")
            }
        }
        let chain = AMDChain(
            leaf: try certificate(vcek, "VCEK"), ask: try certificate(documents[0].derBytes, "ASK"),
            ark: try certificate(documents[1].derBytes, "ARK"), leafRole: "VCEK")
        return try verifySNPReport(bytes, report: report, chain: chain, crl: crl, at: time)
    }
}
