import SwiftASN1

/// swift-asn1's serializer as the AMD-shaped certificates use it: swift-certificates 1.21 neither
/// signs nor parses RSASSA-PSS certificates, so their TBSCertificate is assembled node by node.
extension AMDCertificates {
    /// The DER `build` writes; a refusal by swift-asn1 is a certificate error.
    static func der(_ build: (inout DER.Serializer) throws -> Void) throws(EvidenceError) -> [UInt8] {
        var serializer = DER.Serializer()
        do {
            try build(&serializer)
        } catch {
            throw .certificate(role: "AMD", reason: "DER: \(error)")
        }
        return serializer.serializedBytes
    }

    /// DER of fixed, valid values (names, algorithm identifiers, dates) that swift-asn1 has no
    /// reason to refuse; were it to, the empty result would fail the pinned certificate digests.
    static func constant(_ build: (inout DER.Serializer) throws -> Void) -> [UInt8] {
        (try? der(build)) ?? []
    }

    /// The identifier of an explicit context-specific tag `[number]`.
    static func explicit(_ number: UInt) -> ASN1Identifier {
        ASN1Identifier(tagWithNumber: number, tagClass: .contextSpecific)
    }

    /// An Extension: SEQUENCE { extnID, critical TRUE only when set, extnValue OCTET STRING of
    /// `value`'s DER }.
    static func `extension`(
        _ id: ASN1ObjectIdentifier, critical: Bool = false,
        value: some DERSerializable
    ) throws(EvidenceError) -> [UInt8] {
        let content = try der { try $0.serialize(value) }
        return try der { coder in
            try coder.appendConstructedNode(identifier: .sequence) { coder in
                try coder.serialize(id)
                if critical { try coder.serialize(true) }
                try coder.serialize(ASN1OctetString(contentBytes: content[...]))
            }
        }
    }
}

/// Bytes that are already DER (or, for the VCEK's hwID, AMD's raw extension value), written as
/// they are.
struct RawDER: DERSerializable {
    let bytes: [UInt8]

    func serialize(into coder: inout DER.Serializer) throws {
        coder.serializeRawBytes(bytes)
    }
}

/// BasicConstraints ::= SEQUENCE { cA TRUE, pathLenConstraint INTEGER OPTIONAL } (RFC 5280 4.2.1.9).
struct CABasicConstraints: DERSerializable {
    let pathLength: Int?

    func serialize(into coder: inout DER.Serializer) throws {
        try coder.appendConstructedNode(identifier: .sequence) { coder in
            try coder.serialize(true)
            if let pathLength { try coder.serialize(pathLength) }
        }
    }
}

/// AuthorityKeyIdentifier ::= SEQUENCE { keyIdentifier [0] IMPLICIT OCTET STRING } (RFC 5280 4.2.1.1).
struct AuthorityKeyID: DERSerializable {
    let keyIdentifier: ASN1OctetString

    func serialize(into coder: inout DER.Serializer) throws {
        try coder.appendConstructedNode(identifier: .sequence) { coder in
            try keyIdentifier.serialize(
                into: &coder, withIdentifier: ASN1Identifier(tagWithNumber: 0, tagClass: .contextSpecific))
        }
    }
}
