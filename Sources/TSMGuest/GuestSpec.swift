import TSMBackends
import TSMEventLog
import TSMEvidence
import TSMModel
import TSMTree

/// What a guest sysroot is made of, as the command line gives it, before anything is built.
public struct GuestSpec: Sendable {
    public var guest: any GuestDefinition.Type
    /// The seed the mock attestation keys and certificates derive from.
    public var seed: String
    /// The guest's own options (``GuestDefinition/options``), as given.
    public var options: GuestOptionValues
    /// The providers under `sys/kernel/tsm` (the guest's defaults, or a selection).
    public var providers: [ProviderDescriptor]
    /// The 6.16 sample's table (a config may replace it).
    public var sample: ProviderDescriptor
    /// `--inject-fault`: failures to inject (testing only).
    public var faults: [FaultSpec]
    /// `--kernel`: the release whose ABI the sysroot shows (see ``KernelFeature``).
    public var kernel: KernelRelease
    /// The RFC v2 tree at `sys/kernel/tsm`, tsmfs's unified view that no release has; off for a
    /// release-exact image (`--no-unified`).
    public var unified: Bool

    public init(
        guest: any GuestDefinition.Type, seed: String = MockSeed.default,
        options: GuestOptionValues = GuestOptionValues(),
        providers: [ProviderDescriptor], sample: ProviderDescriptor = BuiltinProviders.tsmMrSample,
        faults: [FaultSpec] = [], kernel: KernelRelease = .newest, unified: Bool = true
    ) {
        self.guest = guest
        self.seed = seed
        self.options = options
        self.providers = providers
        self.sample = sample
        self.faults = faults
        self.kernel = kernel
        self.unified = unified
    }

    /// Why this spec cannot be what ``kernel`` shows, naming the release and the commit that first
    /// have what it asks for (the guest's ``GuestDefinition/minimumKernelFeature``, then what its
    /// options need); nil when it can.
    public var kernelRefusal: KernelRelease.Refusal? {
        let minimum = guest.minimumKernelFeature
        if !kernel.has(minimum) { return .lacks(minimum, option: "--guest \(guest.name)", release: kernel) }
        return guest.kernelRefusal(options, release: kernel)
    }

    /// Whether ``kernel`` serves the guest's configfs-tsm reports: configfs-tsm (6.7) and the
    /// guest's ``GuestDefinition/reportsFeature``. Without them a sysroot has no
    /// `sys/kernel/config/tsm` and its clients use the guest's device.
    public var servesReports: Bool { kernel.has(.configfsTSMReport) && kernel.has(guest.reportsFeature) }
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
    case options(GuestOptionError)
    /// The vTPM could not start or be provisioned: the message says why.
    case vtpm(String)

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
        case .options(let error): return error.description
        case .vtpm(let message): return message
        }
    }

    /// Runs `body`, a register binding, as an assembly step.
    public static func binding<T>(_ body: () throws(RegisterBindingError) -> T) throws(AssemblyError) -> T {
        do {
            return try body()
        } catch {
            throw .binding(error)
        }
    }

    /// Runs `body`, which sets up a mock authority, as an assembly step.
    public static func authority<T>(_ body: () throws(EvidenceError) -> T) throws(AssemblyError) -> T {
        do {
            return try body()
        } catch {
            throw .authority(error)
        }
    }
}
