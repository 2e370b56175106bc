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
        func rdn(_ arc: UInt, _ value: [UInt8]) -> [UInt8] {
            DERWriter.set(DERWriter.sequence(DERWriter.oid([2, 5, 4, arc]), value))
        }
        return DERWriter.sequence(
            rdn(11, DERWriter.utf8String("Engineering")), rdn(6, DERWriter.printableString("US")),
            rdn(7, DERWriter.utf8String("Santa Clara")), rdn(8, DERWriter.utf8String("CA")),
            rdn(10, DERWriter.utf8String("Advanced Micro Devices")), rdn(3, DERWriter.utf8String(commonName)))
    }

    static let arkName = name("ARK-\(productLine)")
    static let askName = name("SEV-\(productLine)")
    static let vcekName = name("SEV-VCEK")

    /// RSASSA-PSS AlgorithmIdentifier as AMD's ARK and ASK carry it: SHA-384 and MGF1-SHA-384
    /// with NULL parameters, salt 48 and an explicit trailerField 1.
    static let pssWithTrailer: [UInt8] = pss(trailer: true)
    /// The same without the trailerField, as VCEKs issued since late 2024 (and OpenSSL) write it.
    static let pssWithoutTrailer: [UInt8] = pss(trailer: false)

    static func pss(trailer: Bool) -> [UInt8] {
        let sha384 = DERWriter.sequence(DERWriter.oid([2, 16, 840, 1, 101, 3, 4, 2, 2]), [0x05, 0x00])
        let mgf1 = DERWriter.sequence(DERWriter.oid([1, 2, 840, 113549, 1, 1, 8]), sha384)
        let parameters = DERWriter.sequence(
            DERWriter.explicit(0, sha384), DERWriter.explicit(1, mgf1), DERWriter.explicit(2, DERWriter.integer(48)),
            trailer ? DERWriter.explicit(3, DERWriter.integer(1)) : [])
        return DERWriter.sequence(DERWriter.oid(rsassaPSS), parameters)
    }

    static let rsassaPSS: ASN1ObjectIdentifier = [1, 2, 840, 113549, 1, 1, 10]

    /// Validity: 2025-01-01T00:00:00Z to 2049-12-31T23:59:59Z, both UTCTime.
    static let validity = DERWriter.sequence(DERWriter.utcTime(year: 2025, month: 1, day: 1),
                                             DERWriter.utcTime(year: 2049, month: 12, day: 31, hour: 23, minute: 59, second: 59))

    /// A 16-byte positive serial number from the seed and the role.
    static func serial(seed: String, role: String) -> [UInt8] {
        var bytes = Array(SHA256.hash(data: Array("\(seed)/amd \(role)".utf8)).prefix(16))
        bytes[0] = (bytes[0] & 0x7f) | 0x40
        return DERWriter.integer(bytes: bytes)
    }

    /// The CRL distribution point AMD's ARK and ASK name: one fullName URI.
    static let crlDistributionPoint: [UInt8] = {
        let uri = DERWriter.tlv(0x86, Array("https://kdsintf.amd.com/vcek/v1/\(productLine)/crl".utf8))
        return DERWriter.sequence(DERWriter.sequence(DERWriter.explicit(0, DERWriter.explicit(0, uri))))
    }()

    /// SHA-1 of the subjectPublicKey BIT STRING's contents (RFC 5280 4.2.1.2 method 1).
    static func keyIdentifier(spki: [UInt8]) -> [UInt8] {
        guard let node = try? DER.parse(spki), case .constructed(let children) = node.content else { return [] }
        var iterator = children.makeIterator()
        _ = iterator.next()
        guard let bits = iterator.next(), case .primitive(let content) = bits.content, content.count > 1 else { return [] }
        return Array(Insecure.SHA1.hash(data: Array(content.dropFirst())))
    }

    /// The ARK: self-issued, keyUsage keyCertSign|cRLSign, SKI, basicConstraints CA, CRL DP.
    static func ark(seed: String, key: RSAPSSSigner) throws(EvidenceError) -> [UInt8] {
        let spki = Array(key.publicKey.derRepresentation)
        let extensions = [
            DERWriter.extension([2, 5, 29, 15], critical: true, value: [0x03, 0x02, 0x01, 0x06]),
            DERWriter.extension([2, 5, 29, 14], value: DERWriter.octetString(keyIdentifier(spki: spki))),
            DERWriter.extension([2, 5, 29, 19], critical: true, value: [0x30, 0x03, 0x01, 0x01, 0xff]),
            DERWriter.extension([2, 5, 29, 31], value: crlDistributionPoint),
        ]
        return try issue(serial: serial(seed: seed, role: "ark"), algorithm: pssWithTrailer, issuer: arkName, subject: arkName,
                         spki: spki, extensions: extensions, signer: key)
    }

    /// The ASK: SKI, AKI (the ARK's SKI), basicConstraints CA pathlen 0, keyUsage keyCertSign, CRL DP.
    static func ask(seed: String, key: RSAPSSSigner, arkKey: RSAPSSSigner) throws(EvidenceError) -> [UInt8] {
        let spki = Array(key.publicKey.derRepresentation)
        let authority = keyIdentifier(spki: Array(arkKey.publicKey.derRepresentation))
        let extensions = [
            DERWriter.extension([2, 5, 29, 14], value: DERWriter.octetString(keyIdentifier(spki: spki))),
            DERWriter.extension([2, 5, 29, 35], value: DERWriter.sequence(DERWriter.tlv(0x80, authority))),
            DERWriter.extension([2, 5, 29, 19], critical: true, value: [0x30, 0x06, 0x01, 0x01, 0xff, 0x02, 0x01, 0x00]),
            DERWriter.extension([2, 5, 29, 15], critical: true, value: [0x03, 0x02, 0x01, 0x04]),
            DERWriter.extension([2, 5, 29, 31], value: crlDistributionPoint),
        ]
        return try issue(serial: serial(seed: seed, role: "ask"), algorithm: pssWithTrailer, issuer: arkName, subject: askName,
                         spki: spki, extensions: extensions, signer: arkKey)
    }

    /// A VCEK for `chipID` at `tcb`: only AMD's extensions, in the order Milan VCEKs carry them
    /// (structVersion, productName, bl, tee, spl4-7, snp, ucode SPLs, hwID as the raw 64 bytes).
    static func vcek(seed: String, spki: [UInt8], chipID: [UInt8], tcb: SNPTCB, askKey: RSAPSSSigner) throws(EvidenceError) -> [UInt8] {
        let arcs: [(UInt, UInt8)] = [(1, tcb.bootloader), (2, tcb.tee), (4, 0), (5, 0), (6, 0), (7, 0), (3, tcb.snp), (8, tcb.microcode)]
        let extensions = [
            DERWriter.extension(VCEKExtension.structVersion, value: DERWriter.integer(0)),
            DERWriter.extension(VCEKExtension.productName, value: DERWriter.ia5String(productName)),
        ] + arcs.map { DERWriter.extension(VCEKExtension.spl($0.0), value: DERWriter.integer(UInt64($0.1))) } + [
            DERWriter.extension(VCEKExtension.hwID, value: chipID),
        ]
        return try issue(serial: serial(seed: seed, role: "vcek \(tcb.rawValue)"), algorithm: pssWithoutTrailer, issuer: askName,
                         subject: vcekName, spki: spki, extensions: extensions, signer: askKey)
    }

    /// Certificate ::= SEQUENCE { tbsCertificate, signatureAlgorithm, signatureValue }.
    static func issue(serial: [UInt8], algorithm: [UInt8], issuer: [UInt8], subject: [UInt8], spki: [UInt8],
                      extensions: [[UInt8]], signer: RSAPSSSigner) throws(EvidenceError) -> [UInt8] {
        let tbs = DERWriter.sequence(
            DERWriter.explicit(0, DERWriter.integer(2)), serial, algorithm, issuer, validity, subject, spki,
            DERWriter.explicit(3, DERWriter.sequence(extensions.flatMap { $0 })))
        return DERWriter.sequence(tbs, algorithm, DERWriter.bitString(try mappingCryptoError(signer.sign(tbs))))
    }
}

/// The OIDs AMD's VCEK certificates carry their TCB and chip identity under (1.3.6.1.4.1.3704.1).
enum VCEKExtension {
    static let structVersion: ASN1ObjectIdentifier = [1, 3, 6, 1, 4, 1, 3704, 1, 1]
    static let productName: ASN1ObjectIdentifier = [1, 3, 6, 1, 4, 1, 3704, 1, 2]
    static let hwID: ASN1ObjectIdentifier = [1, 3, 6, 1, 4, 1, 3704, 1, 4]
    static func spl(_ arc: UInt) -> ASN1ObjectIdentifier { ASN1ObjectIdentifier(arrayLiteral: 1, 3, 6, 1, 4, 1, 3704, 1, 3, arc) }
    static let bootloaderSPL = spl(1), teeSPL = spl(2), snpSPL = spl(3), microcodeSPL = spl(8)
}
