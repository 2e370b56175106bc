import Crypto
import FoundationEssentials
import SwiftASN1
import X509

/// An X.509 v2 CRL (RFC 5280 5.1) with no revoked certificates, as Intel's root CA CRL and PCK
/// CA CRLs are on a healthy platform: version 2, ecdsa-with-SHA256, the issuer's name,
/// thisUpdate and nextUpdate, and the CRL number and authority key identifier extensions; signed
/// by the issuer's P-256 key. swift-certificates builds no CRLs, so SwiftASN1 lays it out.
enum MockCRL {
    /// ecdsa-with-SHA256 (1.2.840.10045.4.3.2), its AlgorithmIdentifier without parameters.
    static let ecdsaWithSHA256: ASN1ObjectIdentifier = [1, 2, 840, 10045, 4, 3, 2]
    /// 2.5.29.20, the CRL number extension.
    static let crlNumberOID: ASN1ObjectIdentifier = [2, 5, 29, 20]

    /// The DER of the CRL `issuer` (whose key is `key`) issues at `thisUpdate`.
    static func make(issuer: Certificate, key: MockKey, number: Int, thisUpdate: Date, nextUpdate: Date) throws
        -> [UInt8]
    {
        var tbs = DER.Serializer()
        try tbs.appendConstructedNode(identifier: .sequence) { list in
            try list.serialize(1)  // v2
            try algorithm(&list)
            try list.serialize(issuer.subject)
            try list.serialize(try time(thisUpdate))
            try list.serialize(try time(nextUpdate))
            try list.appendConstructedNode(identifier: ASN1Identifier(tagWithNumber: 0, tagClass: .contextSpecific)) {
                wrapper in
                try wrapper.appendConstructedNode(identifier: .sequence) { extensions in
                    let keyID = SubjectKeyIdentifier(hash: issuer.publicKey).keyIdentifier
                    try extensions.serialize(
                        try Certificate.Extension(AuthorityKeyIdentifier(keyIdentifier: keyID), critical: false))
                    var crlNumber = DER.Serializer()
                    try crlNumber.serialize(number)
                    try extensions.serialize(
                        Certificate.Extension(oid: crlNumberOID, critical: false, value: crlNumber.serializedBytes[...])
                    )
                }
            }
        }
        let tbsBytes = tbs.serializedBytes
        let signature = Array(try P256.Signing.ECDSASignature(rawRepresentation: key.sign(tbsBytes)).derRepresentation)
        var crl = DER.Serializer()
        try crl.appendConstructedNode(identifier: .sequence) { outer in
            outer.serializeRawBytes(tbsBytes)
            try algorithm(&outer)
            try outer.serialize(ASN1BitString(bytes: signature[...]))
        }
        return crl.serializedBytes
    }

    private static func algorithm(_ coder: inout DER.Serializer) throws {
        try coder.appendConstructedNode(identifier: .sequence) { try $0.serialize(ecdsaWithSHA256) }
    }

    /// UTCTime, as RFC 5280 wants for dates before 2050.
    private static func time(_ date: Date) throws -> UTCTime {
        let parts = UTCDate(date)
        return try UTCTime(
            year: parts.year, month: parts.month, day: parts.day,
            hours: parts.hour, minutes: parts.minute, seconds: parts.second)
    }
}

/// A date's UTC calendar fields, computed without Foundation's calendars (days from the civil
/// algorithm of H. Hinnant).
struct UTCDate {
    let year, month, day, hour, minute, second: Int

    init(_ date: Date) {
        let seconds = Int(date.timeIntervalSince1970.rounded(.down))
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let secondOfDay = seconds - days * 86_400
        hour = secondOfDay / 3600
        minute = secondOfDay % 3600 / 60
        second = secondOfDay % 60
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthPrime = (5 * dayOfYear + 2) / 153
        day = dayOfYear - (153 * monthPrime + 2) / 5 + 1
        month = monthPrime < 10 ? monthPrime + 3 : monthPrime - 9
        year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
    }

    /// ISO 8601 as Intel's collateral writes it: 2025-06-19T10:16:03Z.
    var iso8601: String {
        func two(_ value: Int) -> String { value < 10 ? "0\(value)" : "\(value)" }
        return "\(year)-\(two(month))-\(two(day))T\(two(hour)):\(two(minute)):\(two(second))Z"
    }
}
