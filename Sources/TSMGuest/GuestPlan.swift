import TSMBackends
import TSMEventLog
import TSMModel
import TSMTree

/// What a guest's ``GuestDefinition/plan(_:)`` is given: the spec, its own settings, and the
/// measured provider's table as the spec serves it (built-in or from `--config`), validated.
public struct GuestContext<Settings: Sendable> {
    public let spec: GuestSpec
    public let settings: Settings
    /// The spec's descriptor of the guest's provider.
    public let measured: ProviderDescriptor
    public let table: RegisterTable
    public let journal: (any ChangeJournal)?
    public let log: Assembly.Log
    /// `--state`'s file, or nil: what persists with the guest goes beside it.
    public let state: String?
    /// Where failures at run time go that a client sees as EIO (a vTPM gone): the daemon's error level.
    public let errorLog: Assembly.Log
}

/// A guest's part of a sysroot, before the generic assembly registers it.
public struct GuestPlan {
    /// The measured provider's table to register (the spec's, initial values adjusted).
    public var measured: ProviderDescriptor
    /// The innermost backend of the measured provider; the fault decorator goes outside it.
    public var backend: any MeasurementBackend
    /// The guest's faces, made from the registered providers.
    public var faces: (GuestProviders) throws(AssemblyError) -> GuestFaces

    public init(
        measured: ProviderDescriptor, backend: any MeasurementBackend,
        faces: @escaping (GuestProviders) throws(AssemblyError) -> GuestFaces
    ) {
        self.measured = measured
        self.backend = backend
        self.faces = faces
    }
}

/// The providers a sysroot registered, handed to a guest's faces.
public struct GuestProviders {
    /// The guest's own provider, over its backend wrapped in faults.
    public let measured: MeasurementProvider
    /// Every provider under `sys/kernel/tsm`, in order, the measured one among them.
    public let all: [MeasurementProvider]
    public let journal: (any ChangeJournal)?
}

/// One guest's faces: what the sysroot layout serves beside the providers and what `tsmfs ctl`
/// needs of them.
public struct GuestFaces {
    /// The guest driver behind configfs-tsm (the generic assembly wraps it in faults).
    public var reports: any ReportProvider
    /// False when the guest gives no configfs-tsm report even where the release has it (an Azure
    /// vTPM's guest, whose paravisor keeps the SNP report to itself).
    public var servesReports = true
    /// Providers served only behind a device (the 6.16 sample).
    public var deviceOnlyProviders: [MeasurementProvider] = []
    /// The merged-ABI (6.16) devices, each over its provider.
    public var devices: [(device: MeasurementsDevice, provider: MeasurementProvider)] = []
    /// Misc devices the release shows without `measurements/` (before 6.16).
    public var plainMiscDevices: [String] = []
    /// Device nodes, ACPI tables and logs by path relative to the sysroot.
    public var files: [(path: String, attribute: any Attribute)] = []
    /// The event log that a reboot empties with ``loggedProvider``'s extensible registers.
    public var eventLog: MeasurementLog?
    public var loggedProvider: MeasurementProvider?
    /// Providers laid out under `sys/kernel/tsm` after the spec's, whose values live outside
    /// tsmfs (the vTPM's PCRs): not journaled, not changed by `tsmfs ctl`.
    public var outsideProviders: [MeasurementProvider] = []
    /// What runs when the mount stops (or its assembly fails after the plan): a vTPM's process
    /// stopped.
    public var stops: [@Sendable () -> Void] = []
    /// What `tsmfs ctl reboot` reboots beside the registers: a vTPM power-cycled and its boot
    /// measured again (``Operations/reboot(record:alongside:)``).
    public var reboots: [@Sendable () throws -> Void] = []

    public init(reports: any ReportProvider) {
        self.reports = reports
    }
}
