import Crypto
import SwiftASN1

/// The mock's AMD-shaped SEV-SNP hierarchy, laid out as AMD's real Milan certificates are
/// (research notes in docs/DECISIONS.md): ARK (RSA-4096, self-signed) -> ASK (RSA-4096) -> VCEK
/// (ECDSA P-384), every signature RSASSA-PSS SHA-384 / MGF1-SHA-384 / salt 48, subjects and
/// issuers AMD's exact six-RDN names. What differs from AMD: the keys (published mock keys), the
/// serial numbers (16 seed-derived bytes, AMD's are 3 bytes, the VCEK's 0), the validity
/// (2025-01-01 to 2049-12-31) and the VCEK's key and hwID (from the seed).
enum AMDCertificates {
    /// The product line the mock plays, as KDS URLs and the ARK/ASK common names spell it.
    static let productLine = "Milan"
    /// The VCEK's productName extension: Milan, stepping B0.
    static let productName = "Milan-B0"

    /// OU=Engineering, C=US, L=Santa Clara, ST=CA, O=Advanced Micro Devices, CN=`commonName`: AMD's
    /// order and string types (C PrintableString, the others UTF8String).
    static func name(_ commonName: String) -> [UInt8] {
        constant { coder in
            let rdns: [(UInt, any DERSerializable)] = [
                (11, ASN1UTF8String("Engineering")), (6, "US" as ASN1PrintableString),
                (7, ASN1UTF8String("Santa Clara")), (8, ASN1UTF8String("CA")),
                (10, ASN1UTF8String("Advanced Micro Devices")), (3, ASN1UTF8String(commonName)),
            ]
            try coder.appendConstructedNode(identifier: .sequence) { coder in
                for (arc, value) in rdns {
                    try coder.appendConstructedNode(identifier: .set) { coder in
                        try coder.appendConstructedNode(identifier: .sequence) { coder in
                            try coder.serialize(ASN1ObjectIdentifier(arrayLiteral: 2, 5, 4, arc))
                            try coder.serialize(value)
                        }
                    }
                }
            }
        }
    }

    static let arkName = name("ARK-\(productLine)")
    static let askName = name("SEV-\(productLine)")
    static let vcekName = name("SEV-VCEK")
    /// The ASVK's name, as AMD's KDS serves it at /vlek/v1/Milan/cert_chain.
    static let asvkName = name("SEV-VLEK-\(productLine)")
    static let vlekName = name("SEV-VLEK")

    /// RSASSA-PSS AlgorithmIdentifier as AMD's ARK and ASK carry it: SHA-384 and MGF1-SHA-384
    /// with NULL parameters, salt 48 and an explicit trailerField 1.
    static let pssWithTrailer: [UInt8] = pss(trailer: true)
    /// The same without the trailerField, as VCEKs issued since late 2024 (and OpenSSL) write it.
    static let pssWithoutTrailer: [UInt8] = pss(trailer: false)

    static func pss(trailer: Bool) -> [UInt8] {
        func sha384(_ coder: inout DER.Serializer) throws {
            try coder.appendConstructedNode(identifier: .sequence) { coder in
                try coder.serialize(ASN1ObjectIdentifier(arrayLiteral: 2, 16, 840, 1, 101, 3, 4, 2, 2))
                try coder.serialize(ASN1Null())
            }
        }
        return constant { coder in
            try coder.appendConstructedNode(identifier: .sequence) { coder in
                try coder.serialize(rsassaPSS)
                try coder.appendConstructedNode(identifier: .sequence) { coder in
                    try coder.appendConstructedNode(identifier: explicit(0)) { try sha384(&$0) }
                    try coder.appendConstructedNode(identifier: explicit(1)) { coder in
                        try coder.appendConstructedNode(identifier: .sequence) { coder in
                            try coder.serialize(ASN1ObjectIdentifier(arrayLiteral: 1, 2, 840, 113549, 1, 1, 8))
                            try sha384(&coder)
                        }
                    }
                    try coder.serialize(48, explicitlyTaggedWithTagNumber: 2, tagClass: .contextSpecific)
                    if trailer { try coder.serialize(1, explicitlyTaggedWithTagNumber: 3, tagClass: .contextSpecific) }
                }
            }
        }
    }

    static let rsassaPSS: ASN1ObjectIdentifier = [1, 2, 840, 113549, 1, 1, 10]

    /// Validity: 2025-01-01T00:00:00Z to 2049-12-31T23:59:59Z, both UTCTime.
    static let validity = constant { coder in
        try coder.appendConstructedNode(identifier: .sequence) { coder in
            try coder.serialize(try UTCTime(year: 2025, month: 1, day: 1, hours: 0, minutes: 0, seconds: 0))
            try coder.serialize(try UTCTime(year: 2049, month: 12, day: 31, hours: 23, minutes: 59, seconds: 59))
        }
    }

    /// A 16-byte positive serial number from the seed and the role.
    static func serial(seed: String, role: String) -> [UInt8] {
        var bytes = Array(SHA256.hash(data: Array("\(seed)/amd \(role)".utf8)).prefix(16))
        bytes[0] = (bytes[0] & 0x7f) | 0x40
        return constant { try $0.serialize(bytes[...]) }
    }

    /// The CRL distribution point AMD's ARK and ASK name: one fullName URI.
    static let crlDistributionPoint = crlDistributionPoint(keyKind: "vcek")

    /// The CRL distribution point of the `keyKind` (vcek or vlek) hierarchy: the ASVK names the
    /// VLEK one.
    static func crlDistributionPoint(keyKind: String) -> [UInt8] {
        constant { coder in
            let uri = try ASN1IA5String("https://kdsintf.amd.com/\(keyKind)/v1/\(productLine)/crl")
            try coder.appendConstructedNode(identifier: .sequence) { coder in
                try coder.appendConstructedNode(identifier: .sequence) { coder in
                    try coder.appendConstructedNode(identifier: explicit(0)) { coder in
                        try coder.appendConstructedNode(identifier: explicit(0)) { coder in
                            try uri.serialize(
                                into: &coder,
                                withIdentifier: ASN1Identifier(tagWithNumber: 6, tagClass: .contextSpecific))
                        }
                    }
                }
            }
        }
    }

    /// SHA-1 of the subjectPublicKey BIT STRING's contents (RFC 5280 4.2.1.2 method 1).
    static func keyIdentifier(spki: [UInt8]) -> [UInt8] {
        guard let node = try? DER.parse(spki), case .constructed(let children) = node.content else { return [] }
        var iterator = children.makeIterator()
        _ = iterator.next()
        guard let bits = iterator.next(), case .primitive(let content) = bits.content, content.count > 1 else {
            return []
        }
        return Array(Insecure.SHA1.hash(data: Array(content.dropFirst())))
    }

    /// The ARK: self-issued, keyUsage keyCertSign|cRLSign, SKI, basicConstraints CA, CRL DP.
    static func ark(seed: String, key: RSAPSSSigner) throws(EvidenceError) -> [UInt8] {
        let spki = Array(key.publicKey.derRepresentation)
        let extensions = try [
            `extension`([2, 5, 29, 15], critical: true, value: ASN1BitString(bytes: [0x06], paddingBits: 1)),
            `extension`([2, 5, 29, 14], value: ASN1OctetString(contentBytes: keyIdentifier(spki: spki)[...])),
            `extension`([2, 5, 29, 19], critical: true, value: CABasicConstraints(pathLength: nil)),
            `extension`([2, 5, 29, 31], value: RawDER(bytes: crlDistributionPoint)),
        ]
        return try issue(
            serial: serial(seed: seed, role: "ark"), algorithm: pssWithTrailer, issuer: arkName, subject: arkName,
            spki: spki, extensions: extensions, signer: key)
    }

    /// The ASK: SKI, AKI (the ARK's SKI), basicConstraints CA pathlen 0, keyUsage keyCertSign, CRL DP.
    /// With `vlek`, the ASVK: the same shape under the SEV-VLEK-Milan name and the VLEK CRL.
    static func ask(seed: String, key: RSAPSSSigner, arkKey: RSAPSSSigner, vlek: Bool = false)
        throws(EvidenceError) -> [UInt8]
    {
        let spki = Array(key.publicKey.derRepresentation)
        let authority = ASN1OctetString(
            contentBytes: keyIdentifier(spki: Array(arkKey.publicKey.derRepresentation))[...])
        let extensions = try [
            `extension`([2, 5, 29, 14], value: ASN1OctetString(contentBytes: keyIdentifier(spki: spki)[...])),
            `extension`([2, 5, 29, 35], value: AuthorityKeyID(keyIdentifier: authority)),
            `extension`([2, 5, 29, 19], critical: true, value: CABasicConstraints(pathLength: 0)),
            `extension`([2, 5, 29, 15], critical: true, value: ASN1BitString(bytes: [0x04], paddingBits: 1)),
            `extension`(
                [2, 5, 29, 31],
                value: RawDER(bytes: vlek ? crlDistributionPoint(keyKind: "vlek") : crlDistributionPoint)),
        ]
        return try issue(
            serial: serial(seed: seed, role: vlek ? "asvk" : "ask"), algorithm: pssWithTrailer, issuer: arkName,
            subject: vlek ? asvkName : askName,
            spki: spki, extensions: extensions, signer: arkKey)
    }

    /// A VCEK for `chipID` at `tcb`: only AMD's extensions, in the order Milan VCEKs carry them
    /// (structVersion, productName, bl, tee, spl4-7, snp, ucode SPLs, hwID as the raw 64 bytes).
    static func vcek(seed: String, spki: [UInt8], chipID: [UInt8], tcb: SNPTCB, askKey: RSAPSSSigner)
        throws(EvidenceError) -> [UInt8]
    {
        let extensions = try tcbExtensions(tcb) + [`extension`(VCEKExtension.hwID, value: RawDER(bytes: chipID))]
        return try issue(
            serial: serial(seed: seed, role: "vcek \(tcb.rawValue)"), algorithm: pssWithoutTrailer, issuer: askName,
            subject: vcekName, spki: spki, extensions: extensions, signer: askKey)
    }

    /// structVersion, productName and the SPLs (bl, tee, spl4-7, snp, ucode), as VCEKs and VLEKs
    /// carry them.
    static func tcbExtensions(_ tcb: SNPTCB) throws(EvidenceError) -> [[UInt8]] {
        let arcs: [(UInt, UInt8)] = [
            (1, tcb.bootloader), (2, tcb.tee), (4, 0), (5, 0), (6, 0), (7, 0), (3, tcb.snp), (8, tcb.microcode),
        ]
        return try [
            `extension`(VCEKExtension.structVersion, value: 0),
            `extension`(
                VCEKExtension.productName,
                value: RawDER(bytes: constant { try $0.serialize(ASN1IA5String(productName)) })),
        ] + arcs.map { arc throws(EvidenceError) in try `extension`(VCEKExtension.spl(arc.0), value: Int(arc.1)) }
    }

    /// Certificate ::= SEQUENCE { tbsCertificate, signatureAlgorithm, signatureValue }.
    static func issue(
        serial: [UInt8], algorithm: [UInt8], issuer: [UInt8], subject: [UInt8], spki: [UInt8],
        extensions: [[UInt8]], signer: RSAPSSSigner
    ) throws(EvidenceError) -> [UInt8] {
        let tbs = try der { coder in
            try coder.appendConstructedNode(identifier: .sequence) { coder in
                try coder.serialize(2, explicitlyTaggedWithTagNumber: 0, tagClass: .contextSpecific)
                for part in [serial, algorithm, issuer, validity, subject, spki] { coder.serializeRawBytes(part) }
                coder.appendConstructedNode(identifier: explicit(3)) { coder in
                    coder.appendConstructedNode(identifier: .sequence) { coder in
                        for node in extensions { coder.serializeRawBytes(node) }
                    }
                }
            }
        }
        let signature = try mappingCryptoError(signer.sign(tbs))
        return try der { coder in
            try coder.appendConstructedNode(identifier: .sequence) { coder in
                coder.serializeRawBytes(tbs)
                coder.serializeRawBytes(algorithm)
                try coder.serialize(ASN1BitString(bytes: signature[...]))
            }
        }
    }
}

/// The OIDs AMD's VCEK certificates carry their TCB and chip identity under (1.3.6.1.4.1.3704.1).
enum VCEKExtension {
    static let structVersion: ASN1ObjectIdentifier = [1, 3, 6, 1, 4, 1, 3704, 1, 1]
    static let productName: ASN1ObjectIdentifier = [1, 3, 6, 1, 4, 1, 3704, 1, 2]
    static let hwID: ASN1ObjectIdentifier = [1, 3, 6, 1, 4, 1, 3704, 1, 4]
    /// A VLEK's CSP_ID (IA5String): the cloud provider AMD issued it to; a VLEK has no hwID.
    static let cspID: ASN1ObjectIdentifier = [1, 3, 6, 1, 4, 1, 3704, 1, 5]
    static func spl(_ arc: UInt) -> ASN1ObjectIdentifier {
        ASN1ObjectIdentifier(arrayLiteral: 1, 3, 6, 1, 4, 1, 3704, 1, 3, arc)
    }
    static let bootloaderSPL = spl(1), teeSPL = spl(2), snpSPL = spl(3), microcodeSPL = spl(8)
}
