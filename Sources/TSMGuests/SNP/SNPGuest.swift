import FoundationEssentials
import TSMBackends
import TSMBytes
import TSMEventLog
import TSMEvidence
import TSMGuest
import TSMModel
import TSMTree

/// AMD SEV-SNP: the `sev-snp` provider's launch values, signed into configfs-tsm
/// ATTESTATION_REPORTs by the mock VCEK of AMD's Milan hierarchy (`SNPAuthority`), optionally
/// under a mock SVSM. It has no register that extends and no 6.16 device. Its evidence is
/// checked as AMD specifies, the certificate table (auxblob) carrying the chain.
public enum SNPGuest: GuestDefinition {
    public static let name = "sev-snp"
    public static let title = "SEV-SNP"
    public static let reportProviderName = "sev_guest"
    public static var provider: ProviderDescriptor { SNPRegisters.table }
    public static let servedByDefault = false
    public static let faces = "--guest sev-snp (its reports)"

    /// What the SEV-SNP options give.
    public struct Settings: Sendable {
        /// `privlevel_floor`: the VMPCK in use; reports at a lower privlevel are refused.
        public var privlevelFloor: UInt32 = 0
        /// The guest runs under an SVSM, which attests its services.
        public var svsm = false
        /// The guest policy (`--snp-policy`): the `policy` register's launch value.
        public var policy = SNPGuestPolicy.default
        /// `--reported-tcb`, `--committed-tcb`, `--launch-tcb`; nil: the platform's TCB.
        public var reportedTCB, committedTCB, launchTCB: SNPTCB?
        /// `--signing-key`: the key that signs reports (SIGNING_KEY), and the table it brings.
        public var signingKey = SNPSigningKey.vcek
        /// The ID block's keys' digests (`--id-key`, `--author-key`): ID_KEY_DIGEST and
        /// AUTHOR_KEY_DIGEST (AUTHOR_KEY_EN set); nil: the register's value (zero, no ID block).
        public var idKeyDigest, authorKeyDigest: [UInt8]?
        /// `--vtpm`: a virtual TPM whose boot log is a synthetic boot's; nil for none.
        public var vtpm: VTPMKind?
    }

    public static let options = [
        GuestOption(
            "--privlevel-floor", value: "N",
            "SEV-SNP: the VMPCK the guest driver uses (0-3, default 0); reports at a lower privlevel are refused."),
        GuestOption(
            "--svsm",
            "SEV-SNP: run under an SVSM, which shows service_provider, service_guid, "
                + "service_manifest_version and manifestblob."),
        GuestOption(
            "--snp-policy", value: "BITS",
            "SEV-SNP: the guest policy, comma-separated: "
                + SNPGuestPolicy.bits.map(\.name).joined(separator: ", ")
                + ", abi=MAJOR.MINOR; reserved bit 17 always set (default: smt, 0x30000). "
                + "debug makes a debug guest, which verifiers refuse."),
        GuestOption(
            "--reported-tcb", value: "SPLS",
            "SEV-SNP: REPORTED_TCB as bl=N,tee=N,snp=N,ucode=N (default: the platform's, bl=4,tee=0,snp=22,ucode=213); "
                + "the certificate table carries the VCEK for it."),
        GuestOption("--committed-tcb", value: "SPLS", "SEV-SNP: COMMITTED_TCB, as --reported-tcb."),
        GuestOption("--launch-tcb", value: "SPLS", "SEV-SNP: LAUNCH_TCB, as --reported-tcb."),
        GuestOption(
            "--signing-key", value: "KEY",
            "SEV-SNP: the key that signs reports, vcek (default) or vlek: a VLEK (SIGNING_KEY 1, CHIP_ID zero), "
                + "the certificate table VLEK, ASVK (in the ASK entry), ARK; `tsmfs kds` serves the ASVK chain."),
        GuestOption(
            "--id-key", value: "PEM-FILE",
            "SEV-SNP: the ID block's ID key, a P-384 key (private or public, PEM): ID_KEY_DIGEST is the SHA-384 "
                + "of its public key in the firmware's format."),
        GuestOption(
            "--author-key", value: "PEM-FILE",
            "SEV-SNP: the ID block's author key, a P-384 key (private or public, PEM): AUTHOR_KEY_EN is set, "
                + "AUTHOR_KEY_DIGEST is its digest, ID_KEY_DIGEST --id-key's or the seed's mock ID key's."),
        VTPMKind.option,
    ]

    /// `--vtpm`: every kind: Azure and Coconut-SVSM vTPMs are SEV-SNP's.
    public static let vtpmKinds: [VTPMKind] = VTPMKind.allCases

    public static func validate(_ values: GuestOptionValues) throws(GuestOptionError) {
        _ = try settings(values)
    }

    public static func settings(_ values: GuestOptionValues) throws(GuestOptionError) -> Settings {
        var settings = Settings(privlevelFloor: try privlevelFloor(values), svsm: values.has("--svsm"))
        if let text = values["--snp-policy"] {
            switch SNPGuestPolicy.parse(text) {
            case .success(let policy): settings.policy = policy
            case .failure(let error): throw GuestOptionError(error.description)
            }
        }
        func tcb(_ option: String) throws(GuestOptionError) -> SNPTCB? {
            guard let text = values[option] else { return nil }
            switch SNPTCB.parse(text, option: option) {
            case .success(let tcb): return tcb
            case .failure(let error): throw GuestOptionError(error.description)
            }
        }
        settings.reportedTCB = try tcb("--reported-tcb")
        settings.committedTCB = try tcb("--committed-tcb")
        settings.launchTCB = try tcb("--launch-tcb")
        if let text = values["--signing-key"] {
            guard let key = SNPSigningKey(rawValue: text) else {
                throw GuestOptionError("--signing-key \(text): vcek or vlek")
            }
            settings.signingKey = key
        }
        settings.idKeyDigest = try keyDigest(values, "--id-key")
        settings.authorKeyDigest = try keyDigest(values, "--author-key")
        settings.vtpm = try VTPMKind.parse(values, guest: self)
        // Coconut-SVSM's vTPM: the guest runs under the SVSM.
        if settings.vtpm == .svsm { settings.svsm = true }
        return settings
    }

    static func privlevelFloor(_ values: GuestOptionValues) throws(GuestOptionError) -> UInt32 {
        guard let text = values["--privlevel-floor"] else { return 0 }
        guard let floor = UInt32(text), floor <= 3 else { throw GuestOptionError("--privlevel-floor is 0 to 3") }
        return floor
    }

    /// Faults on extends have nothing to act on: no register of the guest extends.
    public static var refusedFaults: Set<FaultSpec.Kind> { [.extend] }

    public static var kernelInterface: (any KernelInterface.Type)? { SNPKernel.self }

    public static let verification = VerificationInputs(
        evidenceLimit: SNPReport.size, auxblob: true, auxblobLimit: SNPCertificateTable.maxSize, crl: true)
    public static let verificationSummary = """
        SEV-SNP: the chain in --auxblob as AMD's is checked (VCEK <- ASK <- ARK, or VLEK <- ASVK \
        <- ARK when SIGNING_KEY is 1, each signed with RSASSA-PSS SHA-384, salt 48; the ARK \
        byte-identical to the trust anchor), the report signature by the VCEK or VLEK (ECDSA \
        P-384 over bytes 0..<0x2A0), and the VCEK's hwID and SPL extensions against CHIP_ID and \
        REPORTED_TCB (a VLEK's SPLs and CSP_ID); with --crl, the ARK's CRL (signed by the ARK, \
        current) must list neither the ASK/ASVK nor the VCEK/VLEK.
        """
    public static let trustAnchorSummary = """
        The ARK for --guest sev-snp: AMD's ARK-Milan name and shape (RSA-4096, self-signed with \
        RSASSA-PSS SHA-384) but a published mock key (the ARK and ASK have fixed published RSA keys), \
        not AMD's. Pin the ARK by the SHA-256 of its DER \
        (`tsmfs trust-anchor --guest sev-snp | openssl x509 -outform DER | sha256sum`).
        """
    /// AMD's checks (see `EvidenceVerifier.verifySNPReport`) with the chain of the certificate
    /// table given as the auxblob (or the VCEK and cert_chain from AMD's KDS), and against the
    /// ARK's CRL when `--crl` gave one (the `revocation` check); then the policy (DEBUG,
    /// REPORTED_TCB, SIGNING_KEY, the ID block's digests).
    public static func verify(_ request: VerifyRequest) throws(EvidenceError) -> VerifiedEvidence {
        let verifier: EvidenceVerifier
        if let pem = request.trustAnchorPEM {
            verifier = try EvidenceVerifier(trustAnchorPEM: pem)
        } else {
            verifier = EvidenceVerifier(trustAnchorDER: try SNPAuthority(seed: request.seed).rootCertificateDER)
        }
        let report: SNPReport
        if let auxblob = request.auxblob {
            report = try verifier.verifySNPReport(request.evidence, auxblob: auxblob, crl: request.crl)
        } else if let kds = request.kdsCertificates {
            report = try verifier.verifySNPReport(
                request.evidence, vcek: kds.vcek, certificateChainPEM: kds.certificateChainPEM, crl: request.crl)
        } else {
            throw .failed(.vcekChain, reason: "no auxblob (certificate table) was given")
        }
        try applyPolicy(request.policy, to: report)
        return VerifiedEvidence(report: report, guest: name)
    }

    /// The provider's launch values signed into every report; no backend of its own.
    public static func plan(_ context: GuestContext<Settings>) throws(AssemblyError) -> GuestPlan {
        let spec = context.spec, settings = context.settings, log = context.log
        let authority = try AssemblyError.authority { () throws(EvidenceError) in try SNPAuthority(seed: spec.seed) }
        var measured = context.measured
        let launch = try launchValues(settings, seed: spec.seed)
        for index in measured.registers.indices {
            if let value = launch[measured.registers[index].name] { measured.registers[index].initial = value }
        }
        return GuestPlan(measured: measured, backend: SoftwareBackend()) { providers throws(AssemblyError) in
            let registers = try AssemblyError.binding { () throws(RegisterBindingError) in
                try SNPRegisters(providers.measured, for: "the sev_guest report (configfs-tsm)")
            }
            func makeReports(svsm: SVSMServicesManifest?) -> SNPReportProvider {
                var reports = SNPReportProvider(
                    registers: registers, authority: authority, privlevelFloor: settings.privlevelFloor,
                    svsm: svsm, visibilityCallbacks: spec.kernel.has(.reportVisibilityCallbacks), log: log)
                (reports.reportedTCB, reports.committedTCB) = (settings.reportedTCB, settings.committedTCB)
                reports.launchTCB = settings.launchTCB
                reports.signingKey = settings.signingKey
                reports.authorKeyEnabled = settings.authorKeyDigest != nil
                return reports
            }
            // The vTPM first: an SVSM's manifest holds its EK; Azure's signs through the report path.
            let vtpm = try startVTPM(settings, hardware: makeReports(svsm: nil), context: context)
            let reports: SNPReportProvider
            do throws(AssemblyError) {
                reports = makeReports(svsm: try svsmManifest(settings, seed: spec.seed, vtpm: vtpm))
            } catch {
                vtpm?.stop()
                throw error
            }
            var faces = GuestFaces(reports: reports)
            if vtpm?.kind == .azure {
                // As on Azure: the paravisor keeps the SNP report; no configfs-tsm report, no device.
                faces.servesReports = false
            } else if spec.kernel.has(guestDevice) {
                faces.plainMiscDevices = [guestDeviceName]
                faces.files = [
                    (
                        "dev/\(guestDeviceName)",
                        SNPGuestDevice(
                            firmware: SNPFirmware(reports: reports, seed: spec.seed),
                            sizingSucceeds: sizingSucceeds(on: spec.kernel))
                    )
                ]
            }
            if let vtpm {
                // Its boot: a synthetic one (the SNP guest has no boot log of its own).
                try VTPMFaces.add(vtpm, boot: BootLog.synthetic(), to: &faces, context: context)
            }
            return faces
        }
    }
}

/// The kernel releases that show SEV-SNP's elements (see `KernelFeature`).
extension SNPGuest {
    /// Provider `sev_guest`: the extra item type, + privlevel, privlevel_floor (always 0), auxblob.
    /// f47906782c76 "virt: sevguest: Add TSM_REPORTS support for SNP_GET_EXT_REPORT".
    public static let reportsFeature = KernelFeature(
        KernelRelease(6, 7), commit: "f47906782c76",
        "sev_guest reports (+ privlevel, privlevel_floor, auxblob)")
    /// sev_guest's `privlevel_floor` is the VMPCK in use (the executing VMPL), no longer always 0.
    /// 614dc0fb7632 "sev-guest: configfs-tsm: Allow the privlevel_floor attribute to be updated".
    public static let vmpckFloor = KernelFeature(
        KernelRelease(6, 11), commit: "614dc0fb7632", "sev_guest privlevel_floor = the VMPCK in use (before: always 0)")
    /// sev_guest under an SVSM: service_provider, service_guid, service_manifest_version and
    /// manifestblob. 627dc671518b "x86/sev: Extend the config-fs attestation support for an SVSM"
    /// (merge 408323581b72, tag x86_sev_for_v6.11_rc1; the ABI doc's "v6.10" is stale).
    public static let svsmAttestation = KernelFeature(
        KernelRelease(6, 11), commit: "627dc671518b",
        "SVSM attestation (service_provider, service_guid, service_manifest_version, manifestblob)")

    public static var kernelFeatures: [KernelFeature] {
        [guestDevice, sizingReturnsZero, sizingFailsAgain, reportsFeature, vmpckFloor, svsmAttestation, svsmVTPM]
    }

    /// `/dev/sev-guest` (5.19): before configfs-tsm (6.7) the device is a client's only way.
    public static var minimumKernelFeature: KernelFeature { guestDevice }

    public static var kernelColumns: [KernelColumn] {
        [
            KernelColumn("sev_guest reports") { release in
                guard release.has(reportsFeature) else { return "-" }
                return release.has(.reportVisibilityCallbacks)
                    ? "7 (callbacks; floor = VMPCK)" : "7 (fixed set; floor 0)"
            },
            KernelColumn("SVSM attributes + manifestblob", marking: svsmAttestation),
            // `--vtpm svsm`: the same feature its refusal names (kernelRefusal below).
            KernelColumn(svsmVTPM.summary, marking: svsmVTPM),
            KernelColumn("/dev/sev-guest", marking: guestDevice),
            KernelColumn("EXT_REPORT sizing call") { sizingSucceeds(on: $0) ? "0" : "EIO" },
        ]
    }

    public static func kernelRefusal(_ values: GuestOptionValues, release: KernelRelease) -> KernelRelease.Refusal? {
        if values.has("--svsm") && !release.has(svsmAttestation) {
            return .lacks(svsmAttestation, option: "--svsm", release: release)
        }
        if values["--vtpm"] == VTPMKind.svsm.rawValue && !release.has(svsmVTPM) {
            return .lacks(svsmVTPM, option: "--vtpm svsm", release: release)
        }
        if let floor = values["--privlevel-floor"], floor != "0", !release.has(vmpckFloor) {
            return .lacks(vmpckFloor, option: "--privlevel-floor \(floor)", release: release)
        }
        return nil
    }
}
