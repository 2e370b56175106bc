import TSMBytes
import TSMEvidence

extension EvidenceCheck {
    /// `tsmfs verify --vtpm NAME DIR`: reads the bundle in `directory` (``VTPMBundle``; each file
    /// refused past its limit) and checks it as `personality`'s evidence over `nonce`:
    /// - azure: the HCL report's SNP report verifies as `guest`'s evidence with the VCEK and
    ///   cert_chain of KDS, then ``AzureVTPMCheck`` (REPORTED_TCB = COMMITTED_TCB, claims binding,
    ///   HCLAkPub signed the quote) and the AK certificate to the mock Azure vTPM CA of `seed`;
    /// - gcp: ``GCPVTPMCheck`` with the mock Compute Engine CA of `seed`;
    /// - svsm: the SNP report and certificate table verify as `guest`'s evidence, then
    ///   ``SVSMVTPMCheck``.
    /// `policy` applies to the hardware report, last (a gcp bundle has none). Returns the
    /// claims as JSON: the report's fields, then the vTPM's (PCRs by bank and index).
    public static func runVTPM(
        directory: String, personality: VTPMBundle.Personality, guest: any GuestDefinition.Type, nonce: [UInt8],
        seed: String, crl: String? = nil, policy: VerifyPolicy = .default
    ) throws(Failure) -> String {
        var files: [String: [UInt8]] = [:]
        for file in VTPMBundle.quoteFiles + personality.files {
            files[file.name] = try read(
                directory + "/" + file.name, file.name + " (" + file.what + ")", limit: file.limit)
        }
        let bytes = { (file: VTPMBundle.File) in files[file.name] ?? [] }
        let quote = TPMQuoteEvidence(
            attest: bytes(.quoteMessage), signature: bytes(.quoteSignature), pcrValues: bytes(.quotePCRs), nonce: nonce)
        var request = VerifyRequest(
            evidence: [], seed: seed,
            crl: try crl.map { path throws(Failure) in try read(path, "CRL", limit: VerificationInputs.crlLimit) },
            policy: .none)
        do {
            switch personality {
            case .azure:
                let text = String(decoding: bytes(.certificateChain), as: UTF8.self)
                request.kdsCertificates = (bytes(.vcek), text)
                let checked = try AzureVTPMCheck.verify(hclReport: bytes(.hclReport), quote: quote) {
                    (report) throws(EvidenceError) in
                    request.evidence = report
                    _ = try guest.verify(request)
                    return try SNPReport.parse(report)
                }
                let authority = try TPMAKAuthority(cloud: .azure, seed: seed)
                try TPMKeyCertificateCheck.verify(
                    certificate: bytes(.akCertificate), intermediate: authority.intermediateCertificateDER,
                    anchor: authority.rootCertificateDER, key: checked.attestationKey)
                request.policy = policy
                let claims: [(String, VerifiedEvidence.Value)] = [
                    ("hcl_vm_unique_id", .text(checked.claims.vmConfiguration.vmUniqueID ?? "")),
                    ("hcl_user_data", .text(checked.claims.userData ?? "")),
                ]
                return try guest.verify(request).json(
                    appending: vtpmFields(
                        personality,
                        VerifiedVTPMQuote(
                            quote: checked.quote, pcrs: checked.pcrs, attestationKey: checked.attestationKey)
                    ) + claims.map { (name: $0.0, value: $0.1) })
            case .gcp:
                let checked = try GCPVTPMCheck.verify(
                    akCertificate: bytes(.akCertificate), authority: try TPMAKAuthority(cloud: .gce, seed: seed),
                    quote: quote)
                return VerifiedEvidence(guest: guest.name, reportData: nonce, claims: [])
                    .json(appending: vtpmFields(personality, checked))
            case .svsm:
                request.evidence = bytes(.report)
                request.auxblob = bytes(.auxblob)
                _ = try guest.verify(request)
                let checked = try SVSMVTPMCheck.verify(
                    report: try SNPReport.parse(bytes(.report)), nonce: nonce, manifest: bytes(.manifest),
                    akPublic: bytes(.akPublic), quote: quote)
                request.policy = policy
                return try guest.verify(request).json(
                    appending: vtpmFields(personality, checked.quote) + [
                        (name: "ek_public", value: .bytes(checked.endorsementKey.bytes)),
                        (name: "ak_public", value: .bytes(checked.attestationKey.bytes)),
                    ])
            }
        } catch {
            throw .evidence(error)
        }
    }

    /// The quote's claims: the personality, the nonce, the signer's Name, the TPM clock, then each
    /// PCR as `pcr_BANK_INDEX`, banks by algorithm, indices ascending.
    static func vtpmFields(
        _ personality: VTPMBundle.Personality, _ checked: VerifiedVTPMQuote
    ) -> [(name: String, value: VerifiedEvidence.Value)] {
        let quote = checked.quote
        var fields: [(name: String, value: VerifiedEvidence.Value)] = [
            ("vtpm", .text(personality.rawValue)), ("tpm_nonce", .bytes(quote.extraData)),
            ("tpm_qualified_signer", .bytes(quote.qualifiedSigner)), ("tpm_clock", .number(quote.clock)),
            ("tpm_reset_count", .number(UInt64(quote.resetCount))),
            ("tpm_restart_count", .number(UInt64(quote.restartCount))),
            ("tpm_firmware_version", .text("0x" + Hex.digits(of: quote.firmwareVersion))),
        ]
        for bank in checked.pcrs.keys.sorted() {
            let name = bankNames[bank] ?? "0x" + Hex.digits(of: bank)
            for (index, value) in (checked.pcrs[bank] ?? [:]).sorted(by: { $0.key < $1.key }) {
                fields.append(("pcr_\(name)_\(index)", .bytes(value)))
            }
        }
        return fields
    }

    static let bankNames: [UInt16: String] = [
        TPMAlgorithmID.sha1: "sha1", TPMAlgorithmID.sha256: "sha256", TPMAlgorithmID.sha384: "sha384",
        TPMAlgorithmID.sha512: "sha512",
    ]
}
