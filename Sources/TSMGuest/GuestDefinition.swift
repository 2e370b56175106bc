import FoundationEssentials
import TSMBackends
import TSMEvidence
import TSMModel

/// One confidential-computing guest, whole: its built-in register table, the options that shape
/// it, the kernel releases that have it, its mock authority (trust anchor, certificates,
/// collateral), its verifier and its assembly. The kernel adds a TEE by filling one struct of
/// callbacks (`tsm_report_ops`); tsmfs adds a guest with one conforming type in a folder of its
/// own and one line in the list of guests (`Guests` in TSMGuests). Nothing else names a guest:
/// every other piece of code asks the definition.
public protocol GuestDefinition: SendableMetatype {
    /// `--guest NAME`, and the `guest` claim of its verified evidence.
    static var name: String { get }
    /// The vendor's short name, for messages ("TDX", "SEV-SNP").
    static var title: String { get }
    /// The configfs-tsm report provider its guest driver registers (`tdx_guest`, `sev_guest`).
    static var reportProviderName: String { get }
    /// The built-in table of the provider whose registers its evidence signs: what a sysroot
    /// serves under `sys/kernel/tsm/NAME` and measures.
    static var provider: ProviderDescriptor { get }
    /// Whether a plain mount (no `--sysroot`) serves ``provider`` by default.
    static var servedByDefault: Bool { get }
    /// The faces a message names when ``provider`` is not served ("--guest tdx (its quotes)").
    static var faces: String { get }

    /// What its guest options become once parsed.
    associatedtype Settings: Sendable
    /// The guest options that apply to it, with their help; any other is refused.
    static var options: [GuestOption] { get }
    /// Refuses a value no such guest could have, without reading any file.
    static func validate(_ values: GuestOptionValues) throws(GuestOptionError)
    /// Its options' values, files they name read.
    static func settings(_ values: GuestOptionValues) throws(GuestOptionError) -> Settings
    /// What a state journal of its sysroot is bound to beside the providers ("default").
    static func journalContext(_ settings: Settings) -> String

    /// The release its configfs-tsm report provider arrived in.
    static var reportsFeature: KernelFeature { get }
    /// What a release needs for `--guest NAME` at all: a release before it is refused, naming it
    /// and its commit; from it on the guest is served, its configfs-tsm reports from
    /// ``reportsFeature`` on (before, its device only). Default: ``reportsFeature``.
    static var minimumKernelFeature: KernelFeature { get }
    /// Every kernel ABI element it brings, ``reportsFeature`` among them (`tsmfs kernels`).
    static var kernelFeatures: [KernelFeature] { get }
    /// Its columns of the `tsmfs kernels` matrix.
    static var kernelColumns: [KernelColumn] { get }
    /// Why `release` cannot show what its options ask for; nil when it can.
    static func kernelRefusal(_ values: GuestOptionValues, release: KernelRelease) -> KernelRelease.Refusal?
    /// `--backend kernel`: its interfaces on a real guest kernel, if tsmfs can serve them.
    static var kernelInterface: (any KernelInterface.Type)? { get }

    /// The fault kinds it cannot inject (no register extends, say).
    static var refusedFaults: Set<FaultSpec.Kind> { get }

    /// Its part of a sysroot: the measured provider's table and backend (the generic assembly
    /// registers them, with the fault decorator outside the backend) and its faces over the
    /// registered providers (the generic assembly wraps the report provider in faults).
    static func plan(_ context: GuestContext<Settings>) throws(AssemblyError) -> GuestPlan

    /// `tsmfs trust-anchor`: what a verifier trusts, as PEM.
    static func trustAnchorPEM(seed: String) throws(EvidenceError) -> String
    /// `tsmfs certs`: the authority's certificates as the files its clients read; empty when it
    /// has no certificate hierarchy.
    static func certificates(seed: String) throws(EvidenceError) -> [CertificateFile]
    /// `tsmfs certs` with guest options (SEV-SNP's `--signing-key vlek`: the VLEK chain); default:
    /// ``certificates(seed:)``. The options are checked (``GuestCatalogue/check(_:for:)``) first.
    static func certificates(seed: String, options: GuestOptionValues) throws(EvidenceError) -> [CertificateFile]
    /// What `tsmfs certs` writes for it, for that command's help ("--guest NAME writes ...");
    /// nil when it has no certificates.
    static var certificatesSummary: String? { get }
    /// `tsmfs collateral`: what a verifier needs beside the evidence, issued at `now`; nil when
    /// the evidence carries all it needs.
    static func collateral(seed: String, at now: Date) throws(EvidenceError) -> String?
    /// What `tsmfs collateral` prints for it, for that command's help; nil when it has none.
    static var collateralSummary: String? { get }
    /// Which inputs `tsmfs verify` takes for it beside the evidence.
    static var verification: VerificationInputs { get }
    /// What `tsmfs verify` checks of its evidence, for that command's help: sentences that begin
    /// with its ``title``.
    static var verificationSummary: String { get }
    /// What `tsmfs trust-anchor` prints for it and how its anchor relates to the vendor's, for
    /// that command's help: sentences that name `--guest NAME`.
    static var trustAnchorSummary: String { get }
    /// The `--vtpm` kinds it can serve beside its own evidence (none by default), and so the vTPM
    /// bundles `tsmfs verify --vtpm` takes for it.
    static var vtpmKinds: [VTPMKind] { get }
    /// `tsmfs verify`'s policy flags that apply to it, beside `--allow-debug` (every guest's).
    static var policyOptions: [GuestOption] { get }
    /// Refuses policy values it cannot have (the flags' grammar), without reading any file.
    static func validatePolicy(_ values: GuestOptionValues) throws(GuestOptionError)
    /// Verifies its evidence against `request`'s anchor and returns what it vouches for.
    static func verify(_ request: VerifyRequest) throws(EvidenceError) -> VerifiedEvidence
}

extension GuestDefinition {
    public static func validate(_ values: GuestOptionValues) throws(GuestOptionError) {}
    public static func journalContext(_ settings: Settings) -> String { "default" }
    public static var minimumKernelFeature: KernelFeature { reportsFeature }
    public static func kernelRefusal(_ values: GuestOptionValues, release: KernelRelease) -> KernelRelease.Refusal? {
        nil
    }
    public static var kernelInterface: (any KernelInterface.Type)? { nil }
    public static var refusedFaults: Set<FaultSpec.Kind> { [] }
    public static var policyOptions: [GuestOption] { [] }
    public static var vtpmKinds: [VTPMKind] { [] }
    public static func validatePolicy(_ values: GuestOptionValues) throws(GuestOptionError) {}
    public static func certificates(seed: String) throws(EvidenceError) -> [CertificateFile] { [] }
    public static func certificates(
        seed: String, options: GuestOptionValues
    ) throws(EvidenceError) -> [CertificateFile] {
        try certificates(seed: seed)
    }
    public static func collateral(seed: String, at now: Date) throws(EvidenceError) -> String? { nil }
    public static var certificatesSummary: String? { nil }
    public static var collateralSummary: String? { nil }
}

/// A guest option: its long name with the dashes, its value's name (nil for a flag) and its help.
public struct GuestOption: Sendable, Equatable {
    public let name: String
    public let valueName: String?
    public let help: String

    public init(_ name: String, value valueName: String? = nil, _ help: String) {
        self.name = name
        self.valueName = valueName
        self.help = help
    }
}

/// One file `tsmfs certs` writes: its name in the directory and its PEM text.
public struct CertificateFile: Sendable, Equatable {
    public let name: String
    public let pem: String

    public init(_ name: String, _ pem: String) {
        self.name = name
        self.pem = pem
    }
}

/// What `tsmfs verify` takes for a guest beside the evidence, and how large each file may be:
/// a larger file is refused after reading at most one byte past its limit, before any parsing.
public struct VerificationInputs: Sendable {
    /// A second blob (the SEV-SNP certificate table) is required.
    public var auxblob: Bool
    /// Collateral may be given (TDX).
    public var collateral: Bool
    /// The evidence file's limit in bytes (the format's own maximum).
    public var evidenceLimit: Int
    /// The auxblob's limit in bytes.
    public var auxblobLimit: Int
    /// A certificate revocation list may be given (SEV-SNP: the ARK's, `--crl`).
    public var crl = false
    /// A CRL file's limit: AMD's are under 2 KiB.
    public static let crlLimit = 64 * 1024

    /// A trust anchor PEM file's limit: a root certificate or a public key is 1 to 3 KB.
    public static let trustAnchorLimit = 16 * 1024
    /// A collateral file's limit: Intel's TDX collateral (CRLs, TCB info, QE identity, two
    /// issuer chains) is about 15 KB.
    public static let collateralLimit = 256 * 1024

    public init(
        evidenceLimit: Int, auxblob: Bool = false, auxblobLimit: Int = 0, collateral: Bool = false, crl: Bool = false
    ) {
        self.crl = crl
        self.auxblob = auxblob
        self.collateral = collateral
        self.evidenceLimit = evidenceLimit
        self.auxblobLimit = auxblobLimit
    }
}

/// One `tsmfs verify` request, as read from its files.
public struct VerifyRequest: Sendable {
    public var evidence: [UInt8]
    public var auxblob: [UInt8]?
    /// The seed whose mock authority is trusted, unless ``trustAnchorPEM`` is given.
    public var seed: String
    /// A trust anchor given instead of the seed's (`--trust-anchor`).
    public var trustAnchorPEM: String?
    public var collateral: [UInt8]?
    /// A certificate revocation list to check the chain against (`--crl`; SEV-SNP: the ARK's, DER).
    public var crl: [UInt8]?
    /// The relying party's policy, applied after the cryptographic checks.
    public var policy: VerifyPolicy
    /// SEV-SNP without a certificate table (an Azure vTPM bundle): the VCEK (DER) and the ASK/ARK
    /// `cert_chain` (PEM) as AMD's KDS and `tsmfs kds` serve them; used when ``auxblob`` is nil.
    public var kdsCertificates: (vcek: [UInt8], certificateChainPEM: String)?

    public init(
        evidence: [UInt8], auxblob: [UInt8]? = nil, seed: String = MockSeed.default, trustAnchorPEM: String? = nil,
        collateral: [UInt8]? = nil, crl: [UInt8]? = nil, policy: VerifyPolicy = .default
    ) {
        self.crl = crl
        self.policy = policy
        self.evidence = evidence
        self.auxblob = auxblob
        self.seed = seed
        self.trustAnchorPEM = trustAnchorPEM
        self.collateral = collateral
    }
}

/// One column of the `tsmfs kernels` matrix: its header and what a release shows in it.
public struct KernelColumn: Sendable {
    public let header: String
    public let cell: @Sendable (KernelRelease) -> String

    public init(_ header: String, cell: @escaping @Sendable (KernelRelease) -> String) {
        self.header = header
        self.cell = cell
    }

    /// "yes" where the release has `feature`, "-" where not.
    public init(_ header: String, marking feature: KernelFeature) {
        self.init(header) { $0.has(feature) ? "yes" : "-" }
    }
}
