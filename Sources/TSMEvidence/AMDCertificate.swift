import SwiftASN1

/// An X.509 certificate read with swift-asn1 alone, for the SEV-SNP chain: swift-certificates
/// 1.21 refuses to parse RSASSA-PSS-signed certificates. Keeps the raw bytes a verifier needs
/// (TBSCertificate, names, SubjectPublicKeyInfo, AlgorithmIdentifiers) and the extensions.
public struct AMDCertificate: Sendable, Equatable {
    /// One extension: its OID, criticality and extnValue contents.
    public struct Extension: Sendable, Equatable {
        public let oid: ASN1ObjectIdentifier
        public let critical: Bool
        public let value: [UInt8]
    }

    /// Largest certificate read (real AMD ones are under 2 KiB).
    public static let maximumSize = 16 * 1024

    /// The whole certificate, the TBSCertificate it signs, and the signature (BIT STRING contents).
    public let der: [UInt8]
    public let tbs: [UInt8]
    public let signature: [UInt8]
    /// serialNumber, the INTEGER's TLV bytes (as a CRL entry lists it).
    public let serialNumber: [UInt8]
    /// The outer and the TBSCertificate's signature AlgorithmIdentifier, TLV bytes.
    public let signatureAlgorithm: [UInt8]
    public let tbsSignatureAlgorithm: [UInt8]
    /// Issuer and subject Name TLVs, compared byte for byte.
    public let issuer: [UInt8]
    public let subject: [UInt8]
    /// SubjectPublicKeyInfo TLV.
    public let subjectPublicKeyInfo: [UInt8]
    /// notBefore and notAfter, seconds since 1970-01-01T00:00:00Z.
    public let notBefore: Int64
    public let notAfter: Int64
    /// The extensions in certificate order.
    public let extensions: [Extension]

    /// Parses a DER certificate; `role` names it in errors.
    public init(der: [UInt8], role: String) throws(EvidenceError) {
        guard der.count <= Self.maximumSize else {
            throw .malformed(
                structure: "\(role) certificate", reason: "\(der.count) bytes, more than \(Self.maximumSize)")
        }
        func fail(_ reason: String) -> EvidenceError { .malformed(structure: "\(role) certificate", reason: reason) }
        do {
            let root = try DER.parse(der)
            guard root.encodedBytes.count == der.count else { throw fail("trailing bytes after the certificate") }
            guard root.identifier == .sequence else { throw fail("not a SEQUENCE") }
            let top = try Self.children(root, 3, fail("not a SEQUENCE of 3"))
            guard case .primitive(let bits) = top[2].content, top[2].identifier == .bitString, bits.first == 0 else {
                throw fail("the signature is not a BIT STRING")
            }
            self.der = der
            tbs = Array(top[0].encodedBytes)
            signatureAlgorithm = Array(top[1].encodedBytes)
            signature = Array(bits.dropFirst())
            guard case .constructed(let fields) = top[0].content else {
                throw fail("the TBSCertificate is not a SEQUENCE")
            }
            var nodes = Array(fields)
            guard nodes.first?.identifier == ASN1Identifier(tagWithNumber: 0, tagClass: .contextSpecific) else {
                throw fail("not an X.509 v3 certificate")
            }
            nodes.removeFirst()
            guard nodes.count >= 6 else { throw fail("the TBSCertificate has too few fields") }
            guard nodes[0].identifier == .integer else { throw fail("the serial number is not an INTEGER") }
            serialNumber = Array(nodes[0].encodedBytes)
            tbsSignatureAlgorithm = Array(nodes[1].encodedBytes)
            issuer = Array(nodes[2].encodedBytes)
            let validity = try Self.children(nodes[3], 2, fail("the validity is not two times"))
            notBefore = try Self.time(validity[0], fail)
            notAfter = try Self.time(validity[1], fail)
            subject = Array(nodes[4].encodedBytes)
            subjectPublicKeyInfo = Array(nodes[5].encodedBytes)
            var extensions: [Extension] = []
            if let tagged = nodes.dropFirst(6).first(where: {
                $0.identifier == ASN1Identifier(tagWithNumber: 3, tagClass: .contextSpecific)
            }) {
                let list = try Self.children(tagged, 1, fail("the extensions are not one SEQUENCE"))
                guard case .constructed(let items) = list[0].content else {
                    throw fail("the extensions are not a SEQUENCE")
                }
                for item in items {
                    guard case .constructed(let parts) = item.content else {
                        throw fail("an extension is not a SEQUENCE")
                    }
                    var iterator = parts.makeIterator()
                    guard let oidNode = iterator.next() else { throw fail("an empty extension") }
                    let oid = try ASN1ObjectIdentifier(derEncoded: oidNode)
                    var next = iterator.next()
                    var critical = false
                    if let node = next, node.identifier == .boolean {
                        critical = try Bool(derEncoded: node)
                        next = iterator.next()
                    }
                    guard let valueNode = next, iterator.next() == nil else {
                        throw fail("extension \(oid) has no single value")
                    }
                    let value = try ASN1OctetString(derEncoded: valueNode)
                    extensions.append(Extension(oid: oid, critical: critical, value: Array(value.bytes)))
                }
            }
            self.extensions = extensions
        } catch let error as EvidenceError {
            throw error
        } catch {
            throw fail("\(error)")
        }
    }

    /// The extnValue of the extension `oid`, if present.
    public func extensionValue(_ oid: ASN1ObjectIdentifier) -> [UInt8]? {
        extensions.first { $0.oid == oid }?.value
    }

    /// Whether basicConstraints says cA TRUE.
    public var isCertificateAuthority: Bool {
        guard let value = extensionValue([2, 5, 29, 19]), let node = try? DER.parse(value),
            case .constructed(let children) = node.content, let first = children.first(where: { _ in true }),
            first.identifier == .boolean
        else { return false }
        return (try? Bool(derEncoded: first)) == true
    }

    static func children(_ node: ASN1Node, _ count: Int, _ failure: EvidenceError) throws(EvidenceError) -> [ASN1Node] {
        guard case .constructed(let collection) = node.content else { throw failure }
        let nodes = Array(collection)
        guard nodes.count == count else { throw failure }
        return nodes
    }

    /// A UTCTime (years 1950-2049) or GeneralizedTime "YYYYMMDDhhmmssZ" as seconds since 1970.
    static func time(_ node: ASN1Node, _ fail: (String) -> EvidenceError) throws(EvidenceError) -> Int64 {
        guard case .primitive(let content) = node.content else { throw fail("a time is not primitive") }
        var text = Array(content)
        switch node.identifier {
        case .utcTime:
            guard text.count == 13 else { throw fail("a UTCTime is not YYMMDDhhmmssZ") }
            let year = Int(text[0] &- 0x30) * 10 + Int(text[1] &- 0x30)
            text = Array(String(year < 50 ? 2000 + year : 1900 + year).utf8) + text.dropFirst(2)
        case .generalizedTime:
            guard text.count == 15 else { throw fail("a GeneralizedTime is not YYYYMMDDhhmmssZ") }
        default:
            throw fail("a validity time is neither UTCTime nor GeneralizedTime")
        }
        guard text.last == UInt8(ascii: "Z"), text.dropLast().allSatisfy({ (0x30...0x39).contains($0) }) else {
            throw fail("a time is not digits ending in Z")
        }
        func number(_ range: Range<Int>) -> Int64 { text[range].reduce(0) { $0 * 10 + Int64($1 - 0x30) } }
        return civilSeconds(year: number(0..<4), month: number(4..<6), day: number(6..<8))
            + number(8..<10) * 3600 + number(10..<12) * 60 + number(12..<14)
    }

    /// Seconds from 1970-01-01 to midnight of a proleptic Gregorian date (Howard Hinnant's
    /// days_from_civil).
    static func civilSeconds(year: Int64, month: Int64, day: Int64) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return (era * 146_097 + doe - 719_468) * 86_400
    }
}
