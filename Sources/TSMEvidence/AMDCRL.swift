import FoundationEssentials
import SwiftASN1

/// The certificate revocation list AMD's KDS serves for a product (`/vcek/v1/Milan/crl`, and
/// `/vlek/v1/Milan/crl` for the VLEK hierarchy), the one the ARK's and ASK's CRL distribution
/// point names: an X.509 v2 CRL (RFC 5280 5.1) issued and signed by the ARK with RSASSA-PSS
/// SHA-384 (the ARK's own AlgorithmIdentifier), listing revoked ASKs or ASVKs by serial number.
enum AMDCRL {
    /// One revoked certificate: its serial number's DER INTEGER and when it was revoked.
    struct Entry {
        let serial: [UInt8]
        let revocationDate: Date
    }

    /// The DER of the ARK's CRL: version v2, signature pssWithTrailer, issuer ARK-Milan,
    /// thisUpdate, nextUpdate, the revoked certificates (omitted when none, as RFC 5280 asks),
    /// and the authority key identifier (the ARK's SKI) and CRL number extensions.
    static func make(
        arkKey: RSAPSSSigner, revoked: [Entry], number: Int, thisUpdate: Date, nextUpdate: Date
    ) throws(EvidenceError) -> [UInt8] {
        let keyID = ASN1OctetString(
            contentBytes: AMDCertificates.keyIdentifier(spki: Array(arkKey.publicKey.derRepresentation))[...])
        let extensions = try [
            AMDCertificates.extension([2, 5, 29, 35], value: AuthorityKeyID(keyIdentifier: keyID)),
            AMDCertificates.extension([2, 5, 29, 20], value: number),
        ]
        let tbs = try AMDCertificates.der { coder in
            try coder.appendConstructedNode(identifier: .sequence) { coder in
                try coder.serialize(1)  // v2
                coder.serializeRawBytes(AMDCertificates.pssWithTrailer)
                coder.serializeRawBytes(AMDCertificates.arkName)
                try coder.serialize(try time(thisUpdate))
                try coder.serialize(try time(nextUpdate))
                if !revoked.isEmpty {
                    try coder.appendConstructedNode(identifier: .sequence) { coder in
                        for entry in revoked {
                            try coder.appendConstructedNode(identifier: .sequence) { coder in
                                coder.serializeRawBytes(entry.serial)
                                try coder.serialize(try time(entry.revocationDate))
                            }
                        }
                    }
                }
                coder.appendConstructedNode(identifier: AMDCertificates.explicit(0)) { coder in
                    coder.appendConstructedNode(identifier: .sequence) { coder in
                        for node in extensions { coder.serializeRawBytes(node) }
                    }
                }
            }
        }
        let signature = try mappingCryptoError(arkKey.sign(tbs))
        return try AMDCertificates.der { coder in
            try coder.appendConstructedNode(identifier: .sequence) { coder in
                coder.serializeRawBytes(tbs)
                coder.serializeRawBytes(AMDCertificates.pssWithTrailer)
                try coder.serialize(ASN1BitString(bytes: signature[...]))
            }
        }
    }

    /// UTCTime, as RFC 5280 wants for dates before 2050.
    static func time(_ date: Date) throws -> UTCTime {
        let parts = UTCDate(date)
        return try UTCTime(
            year: parts.year, month: parts.month, day: parts.day,
            hours: parts.hour, minutes: parts.minute, seconds: parts.second)
    }
}

/// A certificate `tsmfs kds --revoke` lists in the ARK's CRL.
public enum AMDRevocable: String, Sendable, CaseIterable {
    /// The ASK (SEV-Milan), listed in `/vcek/v1/Milan/crl`.
    case ask
    /// The ASVK (SEV-VLEK-Milan), listed in `/vlek/v1/Milan/crl`.
    case asvk

    /// The hierarchy whose CRL lists it: `vcek` or `vlek`.
    public var keyKind: String { self == .ask ? "vcek" : "vlek" }
}

extension SNPAuthority {
    /// The ARK's CRL of the `keyKind` (`vcek` or `vlek`) hierarchy as the KDS serves it at `now`:
    /// issued at the start of the hour before `now`'s (so a verifier whose clock is behind by an
    /// hour still sees it issued), next update 30 days later; it lists each of `revoked` of that
    /// hierarchy, revoked at its issue date. Throws `EvidenceError.certificate` if it cannot be
    /// built.
    public func crl(keyKind: String, revoked: Set<AMDRevocable>, at now: Date = Date()) throws(EvidenceError)
        -> [UInt8]
    {
        let hour = (now.timeIntervalSince1970 / 3600).rounded(.down) * 3600
        let thisUpdate = Date(timeIntervalSince1970: hour - 3600)
        let entries = AMDRevocable.allCases.filter { revoked.contains($0) && $0.keyKind == keyKind }.map {
            AMDCRL.Entry(serial: AMDCertificates.serial(seed: seed, role: $0.rawValue), revocationDate: thisUpdate)
        }
        return try AMDCRL.make(
            arkKey: arkSigner, revoked: entries, number: Int(thisUpdate.timeIntervalSince1970 / 3600),
            thisUpdate: thisUpdate, nextUpdate: thisUpdate.addingTimeInterval(30 * 86_400))
    }
}
