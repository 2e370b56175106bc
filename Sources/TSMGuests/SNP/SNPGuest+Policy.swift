import TSMBytes
import TSMEvidence
import TSMGuest

/// SEV-SNP's part of `tsmfs verify`'s policy: POLICY.DEBUG, `--min-tcb` (REPORTED_TCB's SPLs, each a
/// minimum), `--signing-key` (the report's SIGNING_KEY), and the ID block's `--id-key-digest` and
/// `--author-key-digest` (ID_KEY_DIGEST; AUTHOR_KEY_EN and AUTHOR_KEY_DIGEST).
extension SNPGuest {
    /// SIGNING_KEY values (ATTESTATION_REPORT SIGNER_INFO bits 4:2) by `--signing-key` name.
    static let signingKeys = ["vcek", "vlek"]

    public static let policyOptions = [
        GuestOption("--min-tcb", value: "TCB", "REPORTED_TCB's SPLs bl=N,tee=N,snp=N,ucode=N, each a minimum."),
        GuestOption("--signing-key", value: "KEY", "the key that must have signed the report: vcek or vlek."),
        GuestOption("--id-key-digest", value: "HEX", "ID_KEY_DIGEST required (48 bytes as hex)."),
        GuestOption(
            "--author-key-digest", value: "HEX", "AUTHOR_KEY_DIGEST required (48 bytes), AUTHOR_KEY_EN set."),
    ]

    /// `--id-key-digest`'s or `--author-key-digest`'s 48 bytes, nil when not given.
    static func digest(_ values: GuestOptionValues, _ option: String) throws(GuestOptionError) -> [UInt8]? {
        guard let text = values[option] else { return nil }
        guard let bytes = Hex.decode(text), bytes.count == 48 else {
            throw GuestOptionError("\(option) takes a SHA-384 digest: 48 bytes as 96 hex digits")
        }
        return bytes
    }

    public static func validatePolicy(_ values: GuestOptionValues) throws(GuestOptionError) {
        _ = try policyValues(values)
        _ = try digest(values, "--id-key-digest")
        _ = try digest(values, "--author-key-digest")
    }

    static func policyValues(_ values: GuestOptionValues) throws(GuestOptionError) -> (SNPTCB?, UInt32?) {
        var minimum: SNPTCB?
        if let text = values["--min-tcb"] {
            switch SNPTCB.parse(text, option: "--min-tcb") {
            case .success(let tcb): minimum = tcb
            case .failure(let error): throw GuestOptionError(error.description)
            }
        }
        var key: UInt32?
        if let text = values["--signing-key"] {
            guard let index = signingKeys.firstIndex(of: text) else {
                throw GuestOptionError("--signing-key \(text): vcek or vlek")
            }
            key = UInt32(index)
        }
        return (minimum, key)
    }

    /// The report's POLICY, REPORTED_TCB and SIGNING_KEY.
    static func applyPolicy(_ policy: VerifyPolicy, to report: SNPReport) throws(EvidenceError) {
        guard policy.enforced else { return }
        if !policy.allowDebug, report.policy & (1 << UInt64(SNPGuestPolicy.debugBit)) != 0 {
            throw VerifyPolicy.refusal(
                "policy", "0x" + String(report.policy, radix: 16), "DEBUG (bit 19) is set; --allow-debug accepts it")
        }
        let (minimum, key): (SNPTCB?, UInt32?)
        do {
            (minimum, key) = try policyValues(policy.values)
        } catch {
            throw VerifyPolicy.badValue(error)
        }
        if let minimum {
            let tcb = report.reportedTCB
            let fields: [(String, UInt8, UInt8)] = [
                ("bl", tcb.bootloader, minimum.bootloader), ("tee", tcb.tee, minimum.tee),
                ("snp", tcb.snp, minimum.snp), ("ucode", tcb.microcode, minimum.microcode),
            ]
            for (name, value, lowest) in fields where value < lowest {
                throw VerifyPolicy.refusal(
                    "reported_tcb", tcb.splText, "\(name) \(value) is below --min-tcb's \(lowest)")
            }
        }
        if let key, report.signingKey != key {
            let actual =
                signingKeys.indices.contains(Int(report.signingKey)) ? signingKeys[Int(report.signingKey)] : "none"
            throw VerifyPolicy.refusal(
                "signing_key", "\(report.signingKey) (\(actual))", "--signing-key \(signingKeys[Int(key)]) is required")
        }
        try applyIDBlockPolicy(policy, to: report)
    }

    /// ID_KEY_DIGEST against `--id-key-digest`; AUTHOR_KEY_EN, then AUTHOR_KEY_DIGEST against
    /// `--author-key-digest`.
    static func applyIDBlockPolicy(_ policy: VerifyPolicy, to report: SNPReport) throws(EvidenceError) {
        let idKey: [UInt8]?, authorKey: [UInt8]?
        do {
            (idKey, authorKey) = (
                try digest(policy.values, "--id-key-digest"), try digest(policy.values, "--author-key-digest")
            )
        } catch {
            throw VerifyPolicy.badValue(error)
        }
        if let idKey, report.idKeyDigest != idKey {
            throw VerifyPolicy.refusal(
                "id_key_digest", Hex.encode(report.idKeyDigest), "--id-key-digest requires \(Hex.encode(idKey))")
        }
        guard let authorKey else { return }
        guard report.authorKeyEnabled else {
            throw VerifyPolicy.refusal(
                "author_key_en", "0", "--author-key-digest requires an author key (SIGNER_INFO bit 0 set)")
        }
        if report.authorKeyDigest != authorKey {
            throw VerifyPolicy.refusal(
                "author_key_digest", Hex.encode(report.authorKeyDigest),
                "--author-key-digest requires \(Hex.encode(authorKey))")
        }
    }
}
