import FoundationEssentials
import TSMBytes
import X509

/// What a DCAP verifier needs beside a quote, for the mock authority's platform: the CRLs, the
/// TCB info and QE identity (JSON text signed by the TCB Signing key over exactly these bytes)
/// and the issuer chains, as Intel's PCS serves them.
public struct TDXCollateral: Sendable, Equatable {
    /// The PCK Platform CA and the root, PEM: the issuer chain of `pckCRL`.
    public let pckCRLIssuerChain: String
    /// The root CA's CRL (DER).
    public let rootCACRL: [UInt8]
    /// The PCK Platform CA's CRL (DER).
    public let pckCRL: [UInt8]
    /// TCB Signing certificate and root, PEM: the issuer chain of the TCB info and QE identity.
    public let tcbInfoIssuerChain: String
    /// The TDX TCB info v3, compact JSON.
    public let tcbInfo: String
    /// ECDSA P-256 r‖s of the TCB Signing key over `tcbInfo`'s UTF-8 bytes.
    public let tcbInfoSignature: [UInt8]
    /// The TD_QE identity v2, compact JSON.
    public let qeIdentity: String
    /// ECDSA P-256 r‖s of the TCB Signing key over `qeIdentity`'s UTF-8 bytes.
    public let qeIdentitySignature: [UInt8]

    /// The collateral as dcap-qvl's `QuoteCollateralV3.from_json` reads it (issuer chains PEM,
    /// CRLs and signatures hex, TCB info and QE identity as JSON text).
    public var json: String {
        let fields: [(String, String)] = [
            ("pck_crl_issuer_chain", pckCRLIssuerChain), ("root_ca_crl", Hex.encode(rootCACRL)),
            ("pck_crl", Hex.encode(pckCRL)),
            ("tcb_info_issuer_chain", tcbInfoIssuerChain), ("tcb_info", tcbInfo),
            ("tcb_info_signature", Hex.encode(tcbInfoSignature)),
            ("qe_identity_issuer_chain", tcbInfoIssuerChain), ("qe_identity", qeIdentity),
            ("qe_identity_signature", Hex.encode(qeIdentitySignature)),
        ]
        return "{" + fields.map { "\(JSONText.quoted($0.0)):\(JSONText.quoted($0.1))" }.joined(separator: ",") + "}\n"
    }

    /// The PCS `/tdx/certification/v4/tcb` body: `{"tcbInfo":...,"signature":"hex"}`, the TCB
    /// info being the signed text itself.
    public var tcbInfoResponse: String {
        "{\"tcbInfo\":\(tcbInfo),\"signature\":\"\(Hex.encode(tcbInfoSignature))\"}"
    }

    /// The PCS `/tdx/certification/v4/qe/identity` body.
    public var qeIdentityResponse: String {
        "{\"enclaveIdentity\":\(qeIdentity),\"signature\":\"\(Hex.encode(qeIdentitySignature))\"}"
    }
}

extension TDXAuthority {
    /// Where the mock root CA's CRL would be (never fetched: `.invalid` does not resolve).
    static let rootCRLURL = "http://tsmfs.invalid/sgx/certification/v4/rootcacrl"
    /// Where the mock PCK Platform CA's CRL would be.
    static let pckCRLURL = "http://tsmfs.invalid/sgx/certification/v4/pckcrl?ca=platform&encoding=der"
    /// How long collateral stays current: `nextUpdate` is this long after `issueDate`, as Intel's.
    public static let collateralLifetime: TimeInterval = 30 * 86_400
    /// The TCB evaluation data number the mock collateral carries.
    static let tcbEvaluationDataNumber = 17

    /// How old served collateral is at least: it is issued at the start of the hour before the
    /// one it is served in (so 1 to 2 hours old, as Intel's is hours old), and a verifier whose
    /// clock is behind by less than that, or read before the fetch, never sees a future issue
    /// date. The certificates are valid from 2025-01-01 (`MockCertificates.notValidBefore`).
    public static let collateralBackdate: TimeInterval = 3600

    /// When the collateral served at `now` was issued: the start of the previous hour.
    public static func collateralIssueDate(servedAt now: Date) -> Date {
        let hour = (now.timeIntervalSince1970 / 3600).rounded(.down) * 3600
        return Date(timeIntervalSince1970: hour - collateralBackdate)
    }

    /// The collateral this authority serves at `now` (`tsmfs pccs`, `tsmfs collateral`, verify's
    /// own): issued at ``collateralIssueDate(servedAt:)``, current for `collateralLifetime` from
    /// then.
    public func currentTDXCollateral(servedAt now: Date) throws(EvidenceError) -> TDXCollateral {
        try tdxCollateral(at: Self.collateralIssueDate(servedAt: now))
    }

    /// The collateral of this authority's platform issued at `now` (seconds dropped), current
    /// for `collateralLifetime`.
    public func tdxCollateral(at now: Date) throws(EvidenceError) -> TDXCollateral {
        let issued = Date(timeIntervalSince1970: now.timeIntervalSince1970.rounded(.down))
        let next = issued.addingTimeInterval(Self.collateralLifetime)
        do {
            let root = try Certificate(derEncoded: rootCertificateDER)
            let intermediate = try Certificate(derEncoded: intermediateCertificateDER)
            let rootPEM = rootCertificatePEM
            let rootCRL = try MockCRL.make(issuer: root, key: rootKey, number: 1, thisUpdate: issued, nextUpdate: next)
            let pckCRL = try MockCRL.make(
                issuer: intermediate, key: platformCAKey, number: 1, thisUpdate: issued, nextUpdate: next)
            let tcbInfo = TDXTCBInfo.json(platform: tdxPlatform, issued: issued, next: next)
            let qeIdentity = try TDXTCBInfo.qeIdentityJSON(
                qeReport: SGXReportBody(qeReport), issued: issued, next: next)
            let pem = { (certificate: Certificate) throws -> String in try certificate.serializeAsPEM().pemString + "\n"
            }
            return TDXCollateral(
                pckCRLIssuerChain: try pem(intermediate) + rootPEM, rootCACRL: rootCRL, pckCRL: pckCRL,
                tcbInfoIssuerChain: try pem(tcbSigning) + rootPEM, tcbInfo: tcbInfo,
                tcbInfoSignature: tcbSigningKey.sign(Array(tcbInfo.utf8)), qeIdentity: qeIdentity,
                qeIdentitySignature: tcbSigningKey.sign(Array(qeIdentity.utf8)))
        } catch let error as EvidenceError {
            throw error
        } catch {
            throw .certificate(role: "collateral", reason: "\(error)")
        }
    }
}
