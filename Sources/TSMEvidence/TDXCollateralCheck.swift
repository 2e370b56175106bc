import Crypto
import FoundationEssentials
import SwiftASN1
import TSMBytes
import X509

/// What a verifier concludes from the collateral: the status of the TCB level the platform
/// matches (the worse of the platform's and the QE's), with its advisory IDs.
public struct TCBVerdict: Sendable, Equatable {
    /// The merged TCB status.
    public let status: TCBStatus
    /// The advisory IDs of the matched levels.
    public let advisoryIDs: [String]
}

extension EvidenceVerifier {
    /// Checks `collateral` for `quote` (already verified by `verifyTDXQuote`) at `time`: the
    /// TCB info and QE identity issuer chains up to the anchor and their signatures over the
    /// exact JSON text, their issue and next-update dates, the QE report against the QE identity,
    /// the PCK certificate's FMSPC and PCE-ID against the TCB info, and the first TCB level the
    /// platform's CPUSVN, PCESVN and TEE_TCB_SVN reach. A Revoked level fails. CRLs are not read.
    public func verifyTDXCollateral(_ collateral: TDXCollateral, for quote: TDXQuote, at time: Date = Date())
        throws(EvidenceError) -> TCBVerdict
    {
        let signer = try collateralSigner(chainPEM: collateral.tcbInfoIssuerChain, at: time)
        try checkSignature(collateral.tcbInfoSignature, over: collateral.tcbInfo, by: signer, what: "TCB info")
        try checkSignature(collateral.qeIdentitySignature, over: collateral.qeIdentity, by: signer, what: "QE identity")
        for (what, text) in [("TCB info", collateral.tcbInfo), ("QE identity", collateral.qeIdentity)] {
            if let problem = JSONSyntax.firstProblem(in: Array(text.utf8)) {
                throw .failed(.collateral, reason: "the \(what) is not valid JSON at \(problem)")
            }
        }
        let tcbInfo: TCBInfoJSON
        let qeIdentity: QEIdentityJSON
        do {
            tcbInfo = try JSONDecoder().decode(TCBInfoJSON.self, from: Data(collateral.tcbInfo.utf8))
            qeIdentity = try JSONDecoder().decode(QEIdentityJSON.self, from: Data(collateral.qeIdentity.utf8))
        } catch {
            throw .failed(.collateral, reason: "the TCB info or QE identity does not parse: \(error)")
        }
        for (what, issued, next) in [
            ("TCB info", tcbInfo.issueDate, tcbInfo.nextUpdate),
            ("QE identity", qeIdentity.issueDate, qeIdentity.nextUpdate),
        ] {
            guard let from = UTCDate.parse(issued), let until = UTCDate.parse(next) else {
                throw .failed(.collateral, reason: "the \(what)'s dates \(issued), \(next) are not ISO 8601 UTC")
            }
            guard from <= time, time <= until else {
                throw .failed(
                    .collateral,
                    reason: "the \(what) is current from \(issued) to \(next), not at \(UTCDate(time).iso8601)")
            }
        }
        guard tcbInfo.id == "TDX", tcbInfo.version == 3, qeIdentity.id == "TD_QE" else {
            throw .failed(
                .collateral,
                reason: "TCB info \(tcbInfo.id) v\(tcbInfo.version) and QE identity \(qeIdentity.id) are not TDX's")
        }
        let qe = try SGXReportBody(quote.qeReport)
        guard Hex.encode(qe.mrSigner).uppercased() == qeIdentity.mrsigner.uppercased(),
            qe.isvProdID == qeIdentity.isvprodid,
            let qeLevel = qeIdentity.tcbLevels.first(where: { qe.isvSVN >= $0.tcb.isvsvn })
        else {
            throw .failed(
                .collateral, reason: "the QE report (MRSIGNER, ISVPRODID, ISVSVN) does not match the QE identity")
        }
        let pck = try PCKExtension(try CertificateChain.pckChain(pem: quote.pckCertificateChain).leaf.certificate)
        guard Hex.encode(pck.fmspc).uppercased() == tcbInfo.fmspc.uppercased(),
            Hex.encode(pck.pceID).uppercased() == tcbInfo.pceId.uppercased()
        else {
            throw .failed(
                .collateral,
                reason: "the PCK certificate's FMSPC \(Hex.encode(pck.fmspc)) is not the TCB info's \(tcbInfo.fmspc)")
        }
        if let module = tcbInfo.tdxModule {
            let mask = Hex.decode(module.attributesMask) ?? []
            let expected = Hex.decode(module.attributes) ?? []
            let masked = { (bytes: [UInt8]) in zip(bytes, mask).map { $0 & $1 } }
            guard Hex.encode(quote.body.mrSignerSEAM).uppercased() == module.mrsigner.uppercased(), mask.count == 8,
                masked(quote.body.seamAttributes) == masked(expected)
            else {
                throw .failed(
                    .collateral, reason: "MRSIGNERSEAM or SEAMATTRIBUTES do not match the TCB info's tdxModule")
            }
        }
        guard
            let level = tcbInfo.tcbLevels.first(where: { level in
                level.tcb.sgxtcbcomponents.count == 16 && level.tcb.tdxtcbcomponents.count == 16
                    && pck.pceSVN >= level.tcb.pcesvn
                    && zip(pck.cpuSVN, level.tcb.sgxtcbcomponents).allSatisfy { $0 >= $1.svn }
                    && zip(quote.body.teeTCBSVN, level.tcb.tdxtcbcomponents).allSatisfy { $0 >= $1.svn }
            })
        else {
            throw .failed(.collateral, reason: "the platform's TCB reaches no level of the TCB info")
        }
        let worse = [level.tcbStatus, qeLevel.tcbStatus].max { $0.levelIndex < $1.levelIndex } ?? level.tcbStatus
        guard worse != .revoked else { throw .failed(.collateral, reason: "TCB status is Revoked") }
        return TCBVerdict(status: worse, advisoryIDs: (level.advisoryIDs ?? []) + (qeLevel.advisoryIDs ?? []))
    }

    /// The TCB Signing certificate of a PEM chain [signer, root], the root being the anchor.
    private func collateralSigner(chainPEM: String, at time: Date) throws(EvidenceError) -> P256.Signing.PublicKey {
        guard chainPEM.utf8.count <= TDXQuote.maxPCKChainSize else {
            throw .failed(
                .collateral,
                reason: "the issuer chain has \(chainPEM.utf8.count) bytes, more than the limit of "
                    + "\(TDXQuote.maxPCKChainSize)"
            )
        }
        let certificates: [Certificate]
        do {
            certificates = try PEMDocument.parseMultiple(pemString: chainPEM).map {
                try Certificate(derEncoded: $0.derBytes)
            }
        } catch {
            throw .failed(.collateral, reason: "the collateral issuer chain is not PEM certificates: \(error)")
        }
        guard certificates.count == 2, let signer = certificates.first, let root = certificates.last,
            (try? root.serializeAsPEM().derBytes) == anchorDER
        else {
            throw .failed(.collateral, reason: "the collateral issuer chain is not [TCB Signing, trust anchor]")
        }
        guard signer.issuer == root.subject, root.publicKey.isValidSignature(signer.signature, for: signer),
            signer.notValidBefore <= time, time <= signer.notValidAfter,
            let key = P256.Signing.PublicKey(signer.publicKey)
        else {
            throw .failed(
                .collateral, reason: "the TCB Signing certificate is not issued by the trust anchor or not valid now")
        }
        return key
    }

    private func checkSignature(_ raw: [UInt8], over text: String, by key: P256.Signing.PublicKey, what: String)
        throws(EvidenceError)
    {
        guard Self.isValidP256(signature: raw, of: Array(text.utf8), by: key) else {
            throw .failed(.collateral, reason: "the TCB Signing key's signature over the \(what) does not verify")
        }
    }
}

/// The fields of Intel's TCB info v3 and QE identity v2 a verifier reads.
struct TCBInfoJSON: Decodable {
    struct Component: Decodable { let svn: UInt8 }
    struct TCB: Decodable { let sgxtcbcomponents: [Component]; let pcesvn: UInt16; let tdxtcbcomponents: [Component] }
    struct Level: Decodable { let tcb: TCB; let tcbStatus: TCBStatus; let advisoryIDs: [String]? }
    struct Module: Decodable { let mrsigner: String; let attributes: String; let attributesMask: String }
    let id: String, version: Int, issueDate: String, nextUpdate: String, fmspc: String, pceId: String
    let tdxModule: Module?
    let tcbLevels: [Level]
}

struct QEIdentityJSON: Decodable {
    struct TCB: Decodable { let isvsvn: UInt16 }
    struct Level: Decodable { let tcb: TCB; let tcbStatus: TCBStatus; let advisoryIDs: [String]? }
    let id: String, issueDate: String, nextUpdate: String, mrsigner: String, isvprodid: UInt16
    let tcbLevels: [Level]
}

/// The SGX Extensions of a PCK certificate: what the collateral is matched against.
struct PCKExtension {
    var fmspc: [UInt8] = [], pceID: [UInt8] = [], cpuSVN: [UInt8] = []
    var pceSVN: UInt16 = 0

    init(_ certificate: Certificate) throws(EvidenceError) {
        guard let value = certificate.extensions.first(where: { $0.oid == SGXExtensions.root })?.value else {
            throw .failed(.collateral, reason: "the PCK certificate has no SGX Extensions (1.2.840.113741.1.13.1)")
        }
        do {
            let pairs = try Self.pairs(try DER.parse(Array(value)))
            fmspc = try Self.octets(pairs[try SGXExtensions.oid(4)])
            pceID = try Self.octets(pairs[try SGXExtensions.oid(3)])
            guard let tcbNode = pairs[try SGXExtensions.oid(2)] else {
                throw EvidenceError.failed(.collateral, reason: "no TCB")
            }
            let tcb = try Self.pairs(tcbNode)
            cpuSVN = try Self.octets(tcb[try SGXExtensions.oid(2, 18)])
            guard let pceNode = tcb[try SGXExtensions.oid(2, 17)] else {
                throw EvidenceError.failed(.collateral, reason: "no PCESVN")
            }
            pceSVN = try UInt16(derEncoded: pceNode)
        } catch {
            throw .failed(.collateral, reason: "the PCK certificate's SGX Extensions do not parse: \(error)")
        }
        guard fmspc.count == 6, cpuSVN.count == 16 else {
            throw .failed(.collateral, reason: "the PCK certificate's FMSPC or CPUSVN has the wrong size")
        }
    }

    private static func pairs(_ node: ASN1Node) throws -> [ASN1ObjectIdentifier: ASN1Node] {
        guard case .constructed(let children) = node.content else {
            throw EvidenceError.failed(.collateral, reason: "not a SEQUENCE")
        }
        var result: [ASN1ObjectIdentifier: ASN1Node] = [:]
        for child in children {
            guard case .constructed(let entry) = child.content else { continue }
            var iterator = entry.makeIterator()
            guard let name = iterator.next(), let value = iterator.next() else { continue }
            result[try ASN1ObjectIdentifier(derEncoded: name)] = value
        }
        return result
    }

    private static func octets(_ node: ASN1Node?) throws -> [UInt8] {
        guard let node else { throw EvidenceError.failed(.collateral, reason: "a field is missing") }
        return Array(try ASN1OctetString(derEncoded: node).bytes)
    }
}

extension TDXCollateral {
    /// Reads dcap-qvl's QuoteCollateralV3 JSON (what `tsmfs collateral` prints). Invalid JSON
    /// and a key twice in one object are refused with their line and column.
    public init(json: [UInt8]) throws(EvidenceError) {
        if let problem = JSONSyntax.firstProblem(in: json) {
            throw .malformed(structure: "collateral", reason: "not valid JSON at \(problem)")
        }
        struct Wire: Decodable {
            let pck_crl_issuer_chain, root_ca_crl, pck_crl, tcb_info_issuer_chain, tcb_info, tcb_info_signature: String
            let qe_identity_issuer_chain, qe_identity, qe_identity_signature: String
        }
        let wire: Wire
        do {
            wire = try JSONDecoder().decode(Wire.self, from: Data(json))
        } catch {
            throw .malformed(structure: "collateral", reason: "not QuoteCollateralV3 JSON: \(error)")
        }
        func hex(_ text: String, _ field: String) throws(EvidenceError) -> [UInt8] {
            guard let bytes = Hex.decode(text) else {
                throw .malformed(structure: "collateral", reason: "\(field) is not hex")
            }
            return bytes
        }
        self.init(
            pckCRLIssuerChain: wire.pck_crl_issuer_chain, rootCACRL: try hex(wire.root_ca_crl, "root_ca_crl"),
            pckCRL: try hex(wire.pck_crl, "pck_crl"), tcbInfoIssuerChain: wire.tcb_info_issuer_chain,
            tcbInfo: wire.tcb_info,
            tcbInfoSignature: try hex(wire.tcb_info_signature, "tcb_info_signature"), qeIdentity: wire.qe_identity,
            qeIdentitySignature: try hex(wire.qe_identity_signature, "qe_identity_signature"))
    }
}

extension UTCDate {
    /// The date of "YYYY-MM-DDTHH:MM:SSZ" (Intel's collateral dates), nil for anything else.
    static func parse(_ text: String) -> Date? {
        let bytes = Array(text.utf8)
        guard bytes.count == 20, bytes[4] == UInt8(ascii: "-"), bytes[7] == UInt8(ascii: "-"),
            bytes[10] == UInt8(ascii: "T"),
            bytes[13] == UInt8(ascii: ":"), bytes[16] == UInt8(ascii: ":"), bytes[19] == UInt8(ascii: "Z")
        else { return nil }
        func number(_ range: Range<Int>) -> Int? { Int(String(decoding: bytes[range], as: UTF8.self)) }
        guard let year = number(0..<4), let month = number(5..<7), let day = number(8..<10), let hour = number(11..<13),
            let minute = number(14..<16), let second = number(17..<19), (1...12).contains(month),
            (1...31).contains(day),
            hour < 24, minute < 60, second < 61
        else { return nil }
        // days from civil (H. Hinnant)
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        let days = era * 146_097 + dayOfEra - 719_468
        return Date(timeIntervalSince1970: TimeInterval(days * 86_400 + hour * 3600 + minute * 60 + second))
    }
}
