import _CryptoExtras
import FoundationEssentials
import SwiftASN1
import TSMBytes

/// An X.509 v2 CRL (RFC 5280 5.1) read with swift-asn1, as the KDS serves the ARK's: what a
/// verifier needs to check it was issued and signed by the ARK, is current, and which serial
/// numbers it lists.
public struct AMDRevocationList: Sendable, Equatable {
    /// Largest CRL read (AMD's are under 2 KiB; each entry is about 40 bytes).
    public static let maximumSize = 64 * 1024

    /// The TBSCertList the signature covers, the outer and inner AlgorithmIdentifier TLVs, the
    /// signature (BIT STRING contents) and the issuer Name TLV.
    public let tbs, signatureAlgorithm, tbsSignatureAlgorithm, signature, issuer: [UInt8]
    /// thisUpdate and nextUpdate (nil when absent), seconds since 1970.
    public let thisUpdate: Int64
    public let nextUpdate: Int64?
    /// The revoked certificates' serial numbers, each the INTEGER's TLV bytes.
    public let revokedSerials: [[UInt8]]

    /// Parses a DER CRL; refuses anything else as `malformed CRL`.
    public init(der: [UInt8]) throws(EvidenceError) {
        func fail(_ reason: String) -> EvidenceError { .malformed(structure: "CRL", reason: reason) }
        guard der.count <= Self.maximumSize else { throw fail("\(der.count) bytes, more than \(Self.maximumSize)") }
        do {
            let root = try DER.parse(der)
            guard root.encodedBytes.count == der.count, root.identifier == .sequence else {
                throw fail("not one DER SEQUENCE")
            }
            let top = try AMDCertificate.children(root, 3, fail("not a SEQUENCE of 3"))
            guard case .primitive(let bits) = top[2].content, top[2].identifier == .bitString, bits.first == 0 else {
                throw fail("the signature is not a BIT STRING")
            }
            tbs = Array(top[0].encodedBytes)
            signatureAlgorithm = Array(top[1].encodedBytes)
            signature = Array(bits.dropFirst())
            guard case .constructed(let fields) = top[0].content else {
                throw fail("the TBSCertList is not a SEQUENCE")
            }
            var nodes = Array(fields)[...]
            if nodes.first?.identifier == .integer { nodes = nodes.dropFirst() }  // version v2
            guard nodes.count >= 3 else { throw fail("the TBSCertList has too few fields") }
            tbsSignatureAlgorithm = Array(nodes[nodes.startIndex].encodedBytes)
            issuer = Array(nodes[nodes.startIndex + 1].encodedBytes)
            thisUpdate = try AMDCertificate.time(nodes[nodes.startIndex + 2], fail)
            nodes = nodes.dropFirst(3)
            var next: Int64?
            if let node = nodes.first, [.utcTime, .generalizedTime].contains(node.identifier) {
                next = try AMDCertificate.time(node, fail)
                nodes = nodes.dropFirst()
            }
            nextUpdate = next
            var serials: [[UInt8]] = []
            if let list = nodes.first, list.identifier == .sequence {
                guard case .constructed(let entries) = list.content else { throw fail("revokedCertificates") }
                for entry in entries {
                    guard case .constructed(let parts) = entry.content, let serial = parts.first(where: { _ in true }),
                        serial.identifier == .integer
                    else { throw fail("a revoked certificate entry has no serial number") }
                    serials.append(Array(serial.encodedBytes))
                }
            }
            revokedSerials = serials
        } catch let error as EvidenceError {
            throw error
        } catch {
            throw fail("not a DER X.509 CRL (\(error is ASN1Error ? "bad DER" : "unreadable"))")
        }
    }
}

extension AMDChain {
    /// Checks the ARK's CRL `der` against this chain: issued by the ARK (its issuer the ARK's
    /// subject), signed by it with RSASSA-PSS SHA-384 (as the KDS signs it), current at `time`
    /// (thisUpdate passed, nextUpdate not), and listing neither the intermediate (ASK or ASVK)
    /// nor the leaf (VCEK or VLEK) by serial number. Fails as the `revocation` check.
    func checkRevocation(crl der: [UInt8], at time: Date) throws(EvidenceError) {
        let crl = try AMDRevocationList(der: der)
        guard crl.issuer == ark.subject else {
            throw .failed(.revocation, reason: "the CRL's issuer is not the ARK's subject")
        }
        guard crl.signatureAlgorithm == crl.tbsSignatureAlgorithm,
            [AMDCertificates.pssWithTrailer, AMDCertificates.pssWithoutTrailer].contains(crl.signatureAlgorithm)
        else {
            throw .failed(.revocation, reason: "the CRL is not signed with RSASSA-PSS SHA-384, MGF1-SHA-384, salt 48")
        }
        guard let key = try? _RSA.Signing.PublicKey(derRepresentation: ark.subjectPublicKeyInfo),
            RSAPSSSigner.isValid(signature: crl.signature, of: crl.tbs, by: key)
        else {
            throw .failed(.revocation, reason: "the CRL is not signed by the ARK")
        }
        let now = Int64(time.timeIntervalSince1970)
        guard crl.thisUpdate <= now else {
            throw .failed(
                .revocation,
                reason:
                    "the CRL is issued in the future (thisUpdate "
                    + "\(Date(timeIntervalSince1970: Double(crl.thisUpdate))))"
            )
        }
        if let next = crl.nextUpdate, next < now {
            throw .failed(
                .revocation,
                reason:
                    "the CRL is out of date (nextUpdate \(Date(timeIntervalSince1970: Double(next)))); fetch a new one")
        }
        for (certificate, role) in [(ask, askRole), (leaf, leafRole)]
        where crl.revokedSerials.contains(certificate.serialNumber) {
            let serial = Hex.encode(certificate.serialNumber.dropFirst(2))
            throw .failed(.revocation, reason: "the \(role) (serial \(serial)) is revoked: the ARK's CRL lists it")
        }
    }
}
