import TSMBackends
import TSMEventLog
import TSMEvidence
import TSMModel
import TSMTree

/// What a guest sysroot is made of, as the command line gives it, before anything is built.
public struct GuestSpec: Sendable {
    public var guest: Guest
    /// The seed the mock attestation keys and certificates derive from.
    public var seed: String
    /// SEV-SNP's `privlevel_floor` (the VMPCK in use).
    public var privlevelFloor: UInt32
    /// SEV-SNP: the guest runs under an SVSM, which attests its services.
    public var svsm: Bool
    /// TDX: the boot whose replay gives the RTMRs their initial values; nil for a synthetic boot.
    public var bootLog: TCGEventLog?
    /// The providers under `sys/kernel/tsm` (the guest's defaults, or a selection).
    public var providers: [ProviderDescriptor]
    /// The 6.16 sample's table (a config may replace it).
    public var sample: ProviderDescriptor
    /// `--inject-fault`: failures to inject (testing only).
    public var faults: [FaultSpec]
    /// CCA: the realm personalization value (64 bytes) the host gave the realm.
    public var realmPersonalization = [UInt8](repeating: 0, count: 64)
    /// CCA: the collection the token comes in.
    public var ccaTokenFormat = CCAToken.Format.tag399
    /// `--kernel`: the release whose ABI the sysroot shows (see ``KernelFeature``).
    public var kernel: KernelRelease
    /// The RFC v2 tree at `sys/kernel/tsm`, tsmfs's unified view that no release has; off for a
    /// release-exact image (`--no-unified`).
    public var unified: Bool

    public init(guest: Guest, seed: String = MockAuthority.defaultSeed, privlevelFloor: UInt32 = 0, svsm: Bool = false,
                bootLog: TCGEventLog? = nil, providers: [ProviderDescriptor]? = nil,
                sample: ProviderDescriptor = BuiltinProviders.tsmMrSample, faults: [FaultSpec] = [],
                kernel: KernelRelease = .newest, unified: Bool = true) {
        self.guest = guest
        self.seed = seed
        self.privlevelFloor = privlevelFloor
        self.svsm = svsm
        self.bootLog = bootLog
        self.providers = providers ?? guest.defaultProviders
        self.sample = sample
        self.faults = faults
        self.kernel = kernel
        self.unified = unified
    }

    /// What a state journal of this sysroot is bound to: every provider it serves and the boot.
    var journalContext: (providers: [ProviderDescriptor], context: String) {
        (providers + [sample], "sysroot \(guest.rawValue) boot \(bootLog.map { "\($0.encoded())" } ?? "default")")
    }
}

extension Guest {
    /// The providers a sysroot of this guest serves under `sys/kernel/tsm` by default.
    public var defaultProviders: [ProviderDescriptor] {
        switch self {
        case .tdx: return BuiltinProviders.all
        case .sevSNP: return BuiltinProviders.all + [BuiltinProviders.sevSNP]
        case .cca: return BuiltinProviders.all
        }
    }

    /// The one assembly that knows this guest's faces.
    var assembler: any GuestAssembler.Type {
        switch self {
        case .tdx: return TDXGuestAssembly.self
        case .sevSNP: return SNPGuestAssembly.self
        case .cca: return CCAGuestAssembly.self
        }
    }
}

/// Why a mount cannot be assembled: every message names what is missing or wrong.
public enum AssemblyError: Error, CustomStringConvertible {
    case registration(RegistrationError)
    case binding(RegisterBindingError)
    case fault(FaultError)
    case authority(EvidenceError)
    case eventLog(EventLogError)
    case layout(MergedLayout.Problem)
    case state(StateJournal.Failure)
    case replay(StateJournal.ReplayFailure)
    case kernel(KernelGuestSetup.Failure)
    case kernelRelease(KernelRelease.Refusal)

    public var description: String {
        switch self {
        case .registration(let error): return error.description
        case .binding(let error): return error.description
        case .fault(let error): return "--inject-fault \(error)"
        case .authority(let error): return "cannot set up the mock attestation authority: \(error)"
        case .eventLog(let error): return "cannot set up the boot event log: \(error)"
        case .layout(let error): return error.description
        case .state(let error): return error.description
        case .replay(let error): return error.description
        case .kernel(let error): return error.description
        case .kernelRelease(let refusal): return refusal.description
        }
    }
}
