/// Each evidence format's claims, named as its specification (lowercase) names the fields.
extension VerifiedEvidence {
    /// A verified TDX quote (v4 or v5): header, TD body, report data and attestation key.
    public init(quote: TDXQuote, guest: String) {
        let body = quote.body
        var claims: [Field] = [
            Field("version", .number(UInt64(quote.header.version))),
            Field("tee_type", .number(UInt64(quote.header.teeType))),
            Field("qe_vendor_id", .bytes(quote.header.qeVendorID)),
            Field("user_data", .bytes(quote.header.userData)), Field("tee_tcb_svn", .bytes(body.teeTCBSVN)),
            Field("mrseam", .bytes(body.mrSEAM)), Field("mrsignerseam", .bytes(body.mrSignerSEAM)),
            Field("seam_attributes", .bytes(body.seamAttributes)), Field("td_attributes", .bytes(body.tdAttributes)),
            Field("xfam", .bytes(body.xfam)), Field("mrtd", .bytes(body.mrTD)),
            Field("mrconfigid", .bytes(body.mrConfigID)),
            Field("mrowner", .bytes(body.mrOwner)), Field("mrownerconfig", .bytes(body.mrOwnerConfig)),
        ]
        claims += body.rtmrs.enumerated().map { Field("rtmr\($0.offset)", .bytes($0.element)) }
        claims += [
            Field("reportdata", .bytes(body.reportData)), Field("attestation_key", .bytes(quote.attestationKey)),
        ]
        if let svn2 = body.teeTCBSVN2, let serviceTD = body.mrServiceTD {
            claims += [Field("tee_tcb_svn2", .bytes(svn2)), Field("mrservicetd", .bytes(serviceTD))]
        }
        self.init(guest: guest, reportData: body.reportData, claims: claims)
    }

    /// A verified SEV-SNP ATTESTATION_REPORT: every field but the signature.
    public init(report: SNPReport, guest: String) {
        let hex64 = Self.hex64
        self.init(
            guest: guest, reportData: report.reportData,
            claims: [
                Field("version", .number(UInt64(report.version))),
                Field("guest_svn", .number(UInt64(report.guestSVN))), Field("policy", .text(hex64(report.policy))),
                Field("family_id", .bytes(report.familyID)), Field("image_id", .bytes(report.imageID)),
                Field("vmpl", .number(UInt64(report.vmpl))),
                Field("signature_algo", .number(UInt64(report.signatureAlgorithm))),
                Field("current_tcb", .text(hex64(report.currentTCB.rawValue))),
                Field("platform_info", .text(hex64(report.platformInfo))),
                Field("signer_info", .number(UInt64(report.signerInfo))),
                Field("report_data", .bytes(report.reportData)),
                Field("measurement", .bytes(report.measurement)), Field("host_data", .bytes(report.hostData)),
                Field("id_key_digest", .bytes(report.idKeyDigest)),
                Field("author_key_digest", .bytes(report.authorKeyDigest)),
                Field("report_id", .bytes(report.reportID)), Field("report_id_ma", .bytes(report.reportIDMA)),
                Field("reported_tcb", .text(hex64(report.reportedTCB.rawValue))),
                Field("chip_id", .bytes(report.chipID)),
                Field("committed_tcb", .text(hex64(report.committedTCB.rawValue))),
                Field("current_version", .text(report.currentVersion.description)),
                Field("committed_version", .text(report.committedVersion.description)),
                Field("launch_tcb", .text(hex64(report.launchTCB.rawValue))),
            ])
    }

    /// A verified CCA attestation token: the realm claims, then the platform claims, named after
    /// the CCA specification's claims.
    public init(token: CCAToken, guest: String) {
        let realm = token.realmClaims, platform = token.platformClaims
        var claims: [Field] = [
            Field("token_format", .text(token.format.rawValue)), Field("realm_profile", .text(realm.profile)),
            Field("realm_challenge", .bytes(realm.challenge)),
            Field("realm_personalization_value", .bytes(realm.personalizationValue)),
            Field("realm_hash_algorithm", .text(realm.hashAlgorithm)),
            Field("realm_public_key", .bytes(realm.publicKey)),
            Field("realm_public_key_hash_algorithm", .text(realm.publicKeyHashAlgorithm)),
            Field("rim", .bytes(realm.rim)),
        ]
        claims += realm.rems.enumerated().map { Field("rem\($0.offset)", .bytes($0.element)) }
        claims += [
            Field("platform_profile", .text(platform.profile)), Field("platform_challenge", .bytes(platform.challenge)),
            Field("implementation_id", .bytes(platform.implementationID)),
            Field("instance_id", .bytes(platform.instanceID)),
            Field("platform_config", .bytes(platform.config)), Field("lifecycle", .number(platform.lifecycle)),
            Field("platform_hash_algorithm", .text(platform.hashAlgorithm)),
        ]
        if let service = platform.verificationService { claims.append(Field("verification_service", .text(service))) }
        for (index, component) in platform.softwareComponents.enumerated() {
            let prefix = "sw_component\(index)_"
            claims += [
                Field(prefix + "type", .text(component.type)),
                Field(prefix + "measurement", .bytes(component.measurement)),
                Field(prefix + "version", .text(component.version)),
                Field(prefix + "signer_id", .bytes(component.signerID)),
                Field(prefix + "hash_algorithm", .text(component.hashAlgorithm)),
            ]
        }
        self.init(guest: guest, reportData: realm.challenge, claims: claims)
    }
}
