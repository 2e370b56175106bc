import TSMBytes

/// What `EvidenceVerifier` vouches for once every check has passed: the parsed evidence, its
/// registers and report data, and a JSON rendering of them.
public enum VerifiedEvidence: Sendable, Equatable {
    case tdx(TDXQuote)
    case sevSNP(SNPReport)
    case cca(CCAToken)

    /// REPORTDATA (TDX) or REPORT_DATA (SEV-SNP): the configfs-tsm inblob.
    public var reportData: [UInt8] {
        switch self {
        case .tdx(let quote): return quote.body.reportData
        case .sevSNP(let report): return report.reportData
        case .cca(let token): return token.realmClaims.challenge
        }
    }

    /// One value of the JSON rendering.
    public enum Value: Sendable, Equatable {
        case bytes([UInt8])
        case number(UInt64)
        case text(String)
    }

    /// The fields in rendering order, named as the specifications (lowercase) name them.
    public var fields: [(name: String, value: Value)] {
        switch self {
        case .tdx(let quote):
            let body = quote.body
            var fields: [(String, Value)] = [
                ("guest", .text(Guest.tdx.rawValue)), ("version", .number(UInt64(quote.header.version))),
                ("tee_type", .number(UInt64(quote.header.teeType))), ("qe_vendor_id", .bytes(quote.header.qeVendorID)),
                ("user_data", .bytes(quote.header.userData)), ("tee_tcb_svn", .bytes(body.teeTCBSVN)),
                ("mrseam", .bytes(body.mrSEAM)), ("mrsignerseam", .bytes(body.mrSignerSEAM)),
                ("seam_attributes", .bytes(body.seamAttributes)), ("td_attributes", .bytes(body.tdAttributes)),
                ("xfam", .bytes(body.xfam)), ("mrtd", .bytes(body.mrTD)), ("mrconfigid", .bytes(body.mrConfigID)),
                ("mrowner", .bytes(body.mrOwner)), ("mrownerconfig", .bytes(body.mrOwnerConfig)),
            ]
            fields += body.rtmrs.enumerated().map { ("rtmr\($0.offset)", .bytes($0.element)) }
            fields += [("reportdata", .bytes(body.reportData)), ("attestation_key", .bytes(quote.attestationKey))]
            if let svn2 = body.teeTCBSVN2, let serviceTD = body.mrServiceTD {
                fields += [("tee_tcb_svn2", .bytes(svn2)), ("mrservicetd", .bytes(serviceTD))]
            }
            return fields
        case .sevSNP(let report):
            return [
                ("guest", .text(Guest.sevSNP.rawValue)), ("version", .number(UInt64(report.version))),
                ("guest_svn", .number(UInt64(report.guestSVN))), ("policy", .text(Self.hex64(report.policy))),
                ("family_id", .bytes(report.familyID)), ("image_id", .bytes(report.imageID)),
                ("vmpl", .number(UInt64(report.vmpl))), ("signature_algo", .number(UInt64(report.signatureAlgorithm))),
                ("current_tcb", .text(Self.hex64(report.currentTCB.rawValue))),
                ("platform_info", .text(Self.hex64(report.platformInfo))),
                ("signer_info", .number(UInt64(report.signerInfo))), ("report_data", .bytes(report.reportData)),
                ("measurement", .bytes(report.measurement)), ("host_data", .bytes(report.hostData)),
                ("id_key_digest", .bytes(report.idKeyDigest)), ("author_key_digest", .bytes(report.authorKeyDigest)),
                ("report_id", .bytes(report.reportID)), ("report_id_ma", .bytes(report.reportIDMA)),
                ("reported_tcb", .text(Self.hex64(report.reportedTCB.rawValue))), ("chip_id", .bytes(report.chipID)),
                ("committed_tcb", .text(Self.hex64(report.committedTCB.rawValue))),
                ("current_version", .text(report.currentVersion.description)),
                ("committed_version", .text(report.committedVersion.description)),
                ("launch_tcb", .text(Self.hex64(report.launchTCB.rawValue))),
            ]
        case .cca(let token):
            return Self.ccaFields(token)
        }
    }

    /// A JSON object, one field a line in `fields` order: byte strings as lowercase hex, u64
    /// fields (policy, TCBs, platform info) as "0x"-prefixed 16-digit hex, versions as "a.b.c".
    public var json: String { json(appending: []) }

    /// The JSON object with `extra` fields after the evidence's own.
    public func json(appending extra: [(name: String, value: Value)]) -> String {
        let lines = (fields + extra).map { field in
            let value: String
            switch field.value {
            case .bytes(let bytes): value = "\"\(Hex.encode(bytes))\""
            case .number(let number): value = String(number)
            case .text(let text): value = JSONText.quoted(text)
            }
            return "  \"\(field.name)\": \(value)"
        }
        return "{\n" + lines.joined(separator: ",\n") + "\n}\n"
    }

    /// The realm claims, then the platform claims, named after the CCA specification's claims.
    static func ccaFields(_ token: CCAToken) -> [(name: String, value: Value)] {
        let realm = token.realmClaims, platform = token.platformClaims
        var fields: [(name: String, value: Value)] = [
            ("guest", .text(Guest.cca.rawValue)), ("token_format", .text(token.format.rawValue)),
            ("realm_profile", .text(realm.profile)),
            ("realm_challenge", .bytes(realm.challenge)), ("realm_personalization_value", .bytes(realm.personalizationValue)),
            ("realm_hash_algorithm", .text(realm.hashAlgorithm)), ("realm_public_key", .bytes(realm.publicKey)),
            ("realm_public_key_hash_algorithm", .text(realm.publicKeyHashAlgorithm)), ("rim", .bytes(realm.rim)),
        ]
        fields += realm.rems.enumerated().map { ("rem\($0.offset)", .bytes($0.element)) }
        fields += [
            ("platform_profile", .text(platform.profile)), ("platform_challenge", .bytes(platform.challenge)),
            ("implementation_id", .bytes(platform.implementationID)), ("instance_id", .bytes(platform.instanceID)),
            ("platform_config", .bytes(platform.config)), ("lifecycle", .number(platform.lifecycle)),
            ("platform_hash_algorithm", .text(platform.hashAlgorithm)),
        ]
        if let service = platform.verificationService { fields.append(("verification_service", .text(service))) }
        for (index, component) in platform.softwareComponents.enumerated() {
            fields += [
                ("sw_component\(index)_type", .text(component.type)), ("sw_component\(index)_measurement", .bytes(component.measurement)),
                ("sw_component\(index)_version", .text(component.version)),
                ("sw_component\(index)_signer_id", .bytes(component.signerID)),
                ("sw_component\(index)_hash_algorithm", .text(component.hashAlgorithm)),
            ]
        }
        return fields
    }

    static func hex64(_ value: UInt64) -> String {
        "0x" + Hex.digits(of: value)
    }
}
