import FoundationEssentials
import TSMBackends
import TSMBytes
import TSMEvidence
import TSMGuest
import TSMModel

/// An Arm CCA realm: the `cca` provider's RIM and REMs in the RFC v2 tree, and configfs-tsm
/// reports from `arm_cca_guest` whose outblob is a CCA attestation token over those registers,
/// the realm token signed by the seed's RAK and the platform token by its CPAK
/// (`CCAAuthority`). It has no certificate hierarchy: a verifier trusts the CPAK's public key.
public enum CCAGuest: GuestDefinition {
    public static let name = "cca"
    public static let title = "CCA"
    public static let reportProviderName = "arm_cca_guest"
    public static var provider: ProviderDescriptor { CCARegisters.table }
    public static let servedByDefault = true
    public static let faces = "--guest cca (its attestation tokens)"

    /// What the CCA options give.
    public struct Settings: Sendable {
        /// The realm personalization value (64 bytes) the host gave the realm.
        public var personalization = [UInt8](repeating: 0, count: 64)
        /// The collection the token comes in.
        public var format = CCAToken.Format.tag399
        /// The platform token's lifecycle (`--cca-lifecycle`).
        public var lifecycle = CCALifecycle.default
        /// The platform token's configuration (`--cca-platform-config`); nil: the mock's.
        public var platformConfig: [UInt8]?
        /// Software components replacing or added to the mock's (`--cca-sw-component`).
        public var components: [CCASoftwareComponent.Entry] = []
    }

    public static let options = [
        GuestOption(
            "--realm-personalization", value: "HEX",
            "CCA: the realm personalization value, 64 bytes as 128 hex digits (default: zeros)."),
        GuestOption(
            "--cca-token-format", value: "FORMAT",
            "CCA: tag399 (RMM 1.0, the default) or cmw (the tag-907 CMW collection of TF-RMM v0.9)."),
        GuestOption(
            "--cca-lifecycle", value: "STATE",
            "CCA: the platform's security lifecycle in the platform token: "
                + CCALifecycle.states.map(\.name).joined(separator: ", ")
                + ", debug (non-cca-platform-rot-debug) or a value 0xN0XX in a state's range "
                + "(default: secured, 0x3000)."),
        GuestOption(
            "--cca-platform-config", value: "HEX",
            "CCA: the platform token's platform config claim (2401), 1 to \(CCAPlatformClaims.maxConfigSize) bytes "
                + "as hex (default: the bytes of \"tsmfs mock\")."),
        GuestOption(
            "--cca-sw-component", value: "NAME:HEX[:VERSION[:SIGNER]]",
            "CCA: a software component of the platform token (claim 2399), repeatable or comma-separated: one "
                + "named as a mock component (BL1, BL2, BL31, RMM) replaces its measurement, another is added; "
                + "the measurement's size (32, 48, 64 bytes) names its hash algorithm."),
    ]

    public static func validate(_ values: GuestOptionValues) throws(GuestOptionError) {
        _ = try settings(values)
    }

    public static func settings(_ values: GuestOptionValues) throws(GuestOptionError) -> Settings {
        var settings = Settings()
        if let text = values["--realm-personalization"] {
            guard let bytes = Hex.decode(text), bytes.count == 64 else {
                throw GuestOptionError("--realm-personalization is 64 bytes: 128 hex digits")
            }
            settings.personalization = bytes
        }
        if let text = values["--cca-token-format"] {
            guard let format = CCAToken.Format(rawValue: text) else {
                throw GuestOptionError("--cca-token-format \(text): tag399 or cmw")
            }
            settings.format = format
        }
        if let text = values["--cca-lifecycle"] {
            switch CCALifecycle.parse(text, option: "--cca-lifecycle") {
            case .success(let value): settings.lifecycle = value
            case .failure(let error): throw GuestOptionError(error.description)
            }
        }
        if let text = values["--cca-platform-config"] {
            switch CCAPlatformClaims.parseConfig(text, option: "--cca-platform-config") {
            case .success(let bytes): settings.platformConfig = bytes
            case .failure(let error): throw GuestOptionError(error.description)
            }
        }
        if let text = values["--cca-sw-component"] {
            switch CCASoftwareComponent.entries(text, option: "--cca-sw-component") {
            case .success(let entries): settings.components = entries
            case .failure(let error): throw GuestOptionError(error.description)
            }
        }
        return settings
    }

    /// Provider `arm_cca_guest`: no visibility callbacks, so all 11 attributes.
    /// 7999edc484ca "virt: arm-cca-guest: TSM_REPORT support for realms" (arm64-upstream, 6.13).
    public static let reportsFeature = KernelFeature(
        KernelRelease(6, 13), commit: "7999edc484ca", "arm_cca_guest reports (all 11 attributes)")
    public static var kernelFeatures: [KernelFeature] { [reportsFeature] }
    public static var kernelColumns: [KernelColumn] { [KernelColumn("arm_cca_guest reports", marking: reportsFeature)] }

    /// The CPAK's public key (PEM SubjectPublicKeyInfo), which signs every platform token.
    public static func trustAnchorPEM(seed: String) throws(EvidenceError) -> String {
        try CCAAuthority(seed: seed).cpakPEM
    }

    public static let verification = VerificationInputs(evidenceLimit: CCAToken.maxSize)
    public static let verificationSummary = """
        CCA: the realm token's signature by the RAK it carries, the platform challenge's binding \
        of that RAK, and the platform token's signature by the CPAK.
        """
    public static let trustAnchorSummary = """
        For --guest cca the CPAK's public key (PEM SubjectPublicKeyInfo), which signs every platform token.
        """

    /// The realm token's signature by the RAK it carries, the platform challenge's binding of
    /// that RAK, and the platform token's signature by the CPAK (the trust anchor's key); then the
    /// policy's lifecycle states and reference values (platform config, software components).
    public static func verify(_ request: VerifyRequest) throws(EvidenceError) -> VerifiedEvidence {
        let token: CCAToken
        if let pem = request.trustAnchorPEM {
            token = try CCAToken.verify(request.evidence, cpak: try CCAToken.cpak(pem: pem))
        } else {
            token = try CCAToken.verify(request.evidence, cpak: try CCAAuthority(seed: request.seed).cpakPublicKey)
        }
        try applyPolicy(request.policy, platform: token.platformClaims)
        return VerifiedEvidence(token: token, guest: name)
    }

    /// The measured `cca` provider over the software model; its face is the token.
    public static func plan(_ context: GuestContext<Settings>) throws(AssemblyError) -> GuestPlan {
        let spec = context.spec, settings = context.settings, log = context.log
        return GuestPlan(measured: context.measured, backend: SoftwareBackend()) { providers throws(AssemblyError) in
            let registers = try AssemblyError.binding { () throws(RegisterBindingError) in
                try CCARegisters(providers.measured, for: "the arm_cca_guest token (configfs-tsm)")
            }
            var authority = CCAAuthority(seed: spec.seed)
            authority.platformTemplate.lifecycle = settings.lifecycle
            if let config = settings.platformConfig { authority.platformTemplate.config = config }
            authority.platformTemplate.softwareComponents = CCASoftwareComponent.applying(
                settings.components, to: authority.platformTemplate.softwareComponents)
            return GuestFaces(
                reports: CCAReportProvider(
                    registers: registers, authority: authority,
                    personalizationValue: settings.personalization,
                    format: settings.format, log: log))
        }
    }
}
