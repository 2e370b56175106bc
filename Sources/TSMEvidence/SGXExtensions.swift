import SwiftASN1
import X509

/// The extensions of Intel's PCK profile that swift-certificates has no type for: the SGX
/// Extensions of a PCK certificate and the CRL distribution points every Intel certificate names.
enum SGXExtensions {
    /// 1.2.840.113741.1.13.1, the SGX Extensions.
    static let root: ASN1ObjectIdentifier = [1, 2, 840, 113_741, 1, 13, 1]
    /// 2.5.29.31, CRL distribution points.
    static let crlDistributionPointsOID: ASN1ObjectIdentifier = [2, 5, 29, 31]

    static func oid(_ arcs: UInt...) throws -> ASN1ObjectIdentifier {
        try ASN1ObjectIdentifier(elements: [1, 2, 840, 113_741, 1, 13, 1] + arcs)
    }

    /// The SGX Extensions value as Intel's PCK certificates from the Platform CA carry it: a
    /// SEQUENCE of (OID, value) pairs: PPID (.1), TCB (.2: components .2.1-.2.16 as INTEGERs,
    /// PCESVN .2.17, CPUSVN .2.18), PCE-ID (.3), FMSPC (.4), SGX type (.5, ENUMERATED 1 =
    /// scalable, as a TDX-capable server has it), platform instance ID (.6) and configuration (.7:
    /// dynamic platform, cached keys, SMT enabled).
    static func pckExtension(_ platform: TDXPlatform) throws -> Certificate.Extension {
        var coder = DER.Serializer()
        try coder.appendConstructedNode(identifier: .sequence) { outer in
            try pair(&outer, oid(1)) { try $0.serialize(ASN1OctetString(contentBytes: platform.ppid[...])) }
            try pair(&outer, oid(2)) { tcb in
                try tcb.appendConstructedNode(identifier: .sequence) { components in
                    for (index, svn) in platform.cpuSVN.enumerated() {
                        try pair(&components, oid(2, UInt(index + 1))) { try $0.serialize(Int(svn)) }
                    }
                    try pair(&components, oid(2, 17)) { try $0.serialize(Int(platform.pceSVN)) }
                    try pair(&components, oid(2, 18)) {
                        try $0.serialize(ASN1OctetString(contentBytes: platform.cpuSVN[...]))
                    }
                }
            }
            try pair(&outer, oid(3)) { try $0.serialize(ASN1OctetString(contentBytes: platform.pceID[...])) }
            try pair(&outer, oid(4)) { try $0.serialize(ASN1OctetString(contentBytes: platform.fmspc[...])) }
            try pair(&outer, oid(5)) { $0.appendPrimitiveNode(identifier: .enumerated) { $0.append(1) } }
            try pair(&outer, oid(6)) {
                try $0.serialize(ASN1OctetString(contentBytes: platform.platformInstanceID[...]))
            }
            try pair(&outer, oid(7)) { configuration in
                try configuration.appendConstructedNode(identifier: .sequence) { flags in
                    for (arc, value) in [(UInt(1), false), (2, true), (3, true)] {
                        try pair(&flags, oid(7, arc)) { try $0.serialize(value) }
                    }
                }
            }
        }
        return Certificate.Extension(oid: root, critical: false, value: coder.serializedBytes[...])
    }

    private static func pair(
        _ coder: inout DER.Serializer, _ oid: ASN1ObjectIdentifier,
        _ value: (inout DER.Serializer) throws -> Void
    ) throws {
        try coder.appendConstructedNode(identifier: .sequence) { entry in
            try entry.serialize(oid)
            try value(&entry)
        }
    }

    /// CRLDistributionPoints with one distribution point whose full name is the URI `uri`.
    static func crlDistributionPoints(_ uri: String) throws -> Certificate.Extension {
        var coder = DER.Serializer()
        coder.appendConstructedNode(identifier: .sequence) { points in
            points.appendConstructedNode(identifier: .sequence) { point in
                // distributionPoint [0] { fullName [0] IMPLICIT GeneralNames { [6] IA5String } }
                point.appendConstructedNode(identifier: ASN1Identifier(tagWithNumber: 0, tagClass: .contextSpecific)) {
                    name in
                    name.appendConstructedNode(identifier: ASN1Identifier(tagWithNumber: 0, tagClass: .contextSpecific))
                    { full in
                        full.appendPrimitiveNode(
                            identifier: ASN1Identifier(tagWithNumber: 6, tagClass: .contextSpecific)
                        ) {
                            $0.append(contentsOf: Array(uri.utf8))
                        }
                    }
                }
            }
        }
        return Certificate.Extension(oid: crlDistributionPointsOID, critical: false, value: coder.serializedBytes[...])
    }
}
