import FoundationEssentials
import TSMBackends
import TSMBytes
import TSMEventLog
import TSMEvidence
import TSMGuest
import TSMModel

/// Intel TDX: the `tdx` provider's registers behind every face — the RFC v2 tree, the 6.16
/// `tdx_guest` measurements, `/dev/tdx_guest`'s TDREPORT, configfs-tsm DCAP quotes signed by
/// the mock Intel hierarchy (`TDXAuthority`), and the CCEL boot log plus a runtime log of every
/// extend. Its evidence is checked as DCAP does, with the collateral of `tsmfs collateral`.
public enum TDXGuest: GuestDefinition {
    public static let name = "tdx"
    public static let title = "TDX"
    public static let reportProviderName = "tdx_guest"
    public static var provider: ProviderDescriptor { TDXRegisters.table }
    public static let servedByDefault = true
    public static let faces = "--guest tdx (its quotes, TDREPORTs and event log)"

    /// What the TDX options give.
    public struct Settings: Sendable {
        /// The boot whose replay gives the RTMRs their initial values; nil for a synthetic boot.
        public var bootLog: TCGEventLog?
        /// The status of the TCB level the mock platform matches in the mock collateral.
        public var tcbStatus: TCBStatus = .upToDate
        /// TDX module 1.5: quotes are v5 with a TD 1.5 body.
        public var module15 = false
        /// TDATTRIBUTES of the TD (`--td-attributes`): in every TDREPORT and quote body.
        public var tdAttributes = TDAttributes.default
        /// XFAM of the TD (`--xfam`): in every TDREPORT and quote body.
        public var xfam = TDAttributes.defaultXFAM
        /// The driver behind `/dev/tdx_guest` (`--tdx-driver`).
        public var driver = Driver.upstream
        /// `--vtpm`: a virtual TPM whose boot log is this boot's; nil for none.
        public var vtpm: VTPMKind?
    }

    public static let options = [
        GuestOption(
            "--boot-log", value: "FILE",
            "TDX: a boot log, binary TCG2 (as data/CCEL holds it) or a JSON description, "
                + "whose replay gives the RTMRs their initial values (default: a small synthetic boot)."),
        GuestOption(
            "--tcb-status", value: "STATUS",
            "TDX: the TCB status of the mock platform in the mock collateral ("
                + TCBStatus.allCases.map(\.rawValue).joined(separator: ", ") + "; default UpToDate)."),
        GuestOption(
            "--tdx-module", value: "VERSION",
            "TDX: the TDX module version, 1.0 (Quote v4, default) or 1.5 "
                + "(Quote v5 with a TD 1.5 body: TEE_TCB_SVN2, MRSERVICETD zero)."),
        GuestOption(
            "--td-attributes", value: "NAMES",
            "TDX: the TD's TDATTRIBUTES, the bits named, comma-separated: "
                + TDAttributes.bits.map(\.name).joined(separator: ", ")
                + ", or none (default: sept-ve-disable). debug makes a debug TD, which verifiers refuse."),
        GuestOption(
            "--xfam", value: "HEX",
            "TDX: the TD's XFAM, a u64 in hex (default: 0x61ae7)."),
        driverOption,
        VTPMKind.option,
    ]

    /// `--vtpm`: a plain one and Google's (Azure's TDX vTPM and SVSM are not modelled).
    public static let vtpmKinds: [VTPMKind] = [.plain, .gcp]

    public static func validate(_ values: GuestOptionValues) throws(GuestOptionError) {
        if let module = values["--tdx-module"], module != "1.0" && module != "1.5" {
            throw GuestOptionError("--tdx-module is 1.0 or 1.5")
        }
        if let status = values["--tcb-status"], TCBStatus(rawValue: status) == nil {
            let known = TCBStatus.allCases.map(\.rawValue).joined(separator: ", ")
            throw GuestOptionError("--tcb-status \(status): not one of \(known)")
        }
        _ = try tdInfo(values)
        _ = try driver(values)
        _ = try VTPMKind.parse(values, guest: self)
    }

    /// `--td-attributes` and `--xfam`, defaults where not given.
    static func tdInfo(_ values: GuestOptionValues) throws(GuestOptionError) -> (attributes: UInt64, xfam: UInt64) {
        var attributes = TDAttributes.default, xfam = TDAttributes.defaultXFAM
        if let text = values["--td-attributes"] {
            switch TDAttributes.parse(text) {
            case .success(let value): attributes = value
            case .failure(let error): throw GuestOptionError(error.description)
            }
        }
        if let text = values["--xfam"] {
            let digits = text.hasPrefix("0x") ? text.dropFirst(2) : Substring(text)
            guard (1...16).contains(digits.count), let value = UInt64(digits, radix: 16) else {
                throw GuestOptionError("--xfam \(text): a u64 in hex, 1 to 16 digits")
            }
            xfam = value
        }
        return (attributes, xfam)
    }

    public static func settings(_ values: GuestOptionValues) throws(GuestOptionError) -> Settings {
        try validate(values)
        var settings = Settings()
        settings.tcbStatus = values["--tcb-status"].flatMap(TCBStatus.init(rawValue:)) ?? .upToDate
        settings.module15 = values["--tdx-module"] == "1.5"
        (settings.tdAttributes, settings.xfam) = try tdInfo(values)
        settings.driver = try driver(values)
        settings.vtpm = try VTPMKind.parse(values, guest: self)
        if let path = values["--boot-log"] {
            do {
                settings.bootLog = try BootLog.load(try FileBytes.read(path: path, limit: BootLog.maxSize))
            } catch let error as FileReadError {
                guard case .tooLarge = error else { throw GuestOptionError(error.description) }
                throw GuestOptionError("\(path): a boot log is larger than its limit of \(BootLog.maxSize) bytes")
            } catch {
                throw GuestOptionError("\(path): \(error)")
            }
        }
        return settings
    }

    public static func journalContext(_ settings: Settings) -> String {
        settings.bootLog.map { "\($0.encoded())" } ?? "default"
    }

    public static var kernelInterface: (any KernelInterface.Type)? { TDXKernel.self }

    public static func trustAnchorPEM(seed: String) throws(EvidenceError) -> String {
        try TDXAuthority(seed: seed).rootCertificatePEM
    }

    public static func certificates(seed: String) throws(EvidenceError) -> [CertificateFile] {
        let authority = try TDXAuthority(seed: seed)
        return [
            CertificateFile("root.pem", authority.rootCertificatePEM),
            CertificateFile("platform-ca.pem", authority.intermediateCertificatePEM),
            CertificateFile("pck.pem", authority.leafCertificatePEM),
        ]
    }

    public static func collateral(seed: String, at now: Date) throws(EvidenceError) -> String? {
        try TDXAuthority(seed: seed).currentTDXCollateral(servedAt: now).json
    }

    public static let verification = VerificationInputs(evidenceLimit: TDXQuote.maxSize, collateral: true)
    public static let verificationSummary = """
        TDX (Quote v4 or v5): the PCK chain up to the trust anchor, the QE report signature, the QE report data's \
        binding of the attestation key, and the attestation key's signature over the quote. \
        TDX also checks the collateral (--collateral FILE, as `tsmfs collateral` prints it, or the \
        mock authority's own when no --trust-anchor is given) and adds its tcb_status and \
        advisory_ids; a Revoked TCB fails.
        """
    public static let trustAnchorSummary = "The SGX root CA for --guest tdx; it says O=tsmfs mock, not Intel's."
    public static let certificatesSummary: String? = "--guest tdx writes root.pem, platform-ca.pem and pck.pem."
    public static let collateralSummary: String? = """
        The root CA and PCK CA CRLs (hex DER), the TDX TCB info v3 and TD_QE identity v2 (JSON text, \
        signed by the mock TCB Signing key over exactly that text; signatures hex) and their issuer \
        chains (PEM), issued at the start of the previous hour (1 to 2 hours old, so that a verifier's clock a \
        little behind accepts it) and current for 30 days. The TCB info lists one level per TCB status, \
        so it serves quotes of every --tcb-status.
        """

    /// DCAP's checks (see `EvidenceVerifier.verifyTDXQuote`), then the collateral given, or the
    /// seed's own (issued now) unless a trust anchor came without collateral: its TCB status
    /// and advisories join the claims. The policy last: TDATTRIBUTES.DEBUG, `--min-tcb`.
    public static func verify(_ request: VerifyRequest) throws(EvidenceError) -> VerifiedEvidence {
        let verifier: EvidenceVerifier
        if let pem = request.trustAnchorPEM {
            verifier = try EvidenceVerifier(trustAnchorPEM: pem)
        } else {
            verifier = EvidenceVerifier(trustAnchorDER: try TDXAuthority(seed: request.seed).rootCertificateDER)
        }
        let quote = try verifier.verifyTDXQuote(request.evidence)
        let verified = VerifiedEvidence(quote: quote, guest: name)
        let collateral: TDXCollateral
        if let json = request.collateral {
            collateral = try TDXCollateral(json: json)
        } else if request.trustAnchorPEM == nil {
            collateral = try TDXAuthority(seed: request.seed).currentTDXCollateral(servedAt: Date())
        } else {
            try applyPolicy(request.policy, tdAttributes: quote.body.tdAttributes, tcbStatus: nil)
            return verified
        }
        let verdict = try verifier.verifyTDXCollateral(collateral, for: quote)
        try applyPolicy(request.policy, tdAttributes: quote.body.tdAttributes, tcbStatus: verdict.status)
        return VerifiedEvidence(
            guest: name, reportData: verified.reportData,
            claims: verified.claims + [
                VerifiedEvidence.Field("tcb_status", .text(verdict.status.rawValue)),
                VerifiedEvidence.Field("advisory_ids", .text(verdict.advisoryIDs.joined(separator: ","))),
            ])
    }
}
