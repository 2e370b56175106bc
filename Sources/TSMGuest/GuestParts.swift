import TSMBackends
import TSMEventLog
import TSMEvidence
import TSMModel
import TSMTree

/// One guest's faces, assembled: what the sysroot layout serves and what `tsmfs ctl` changes.
/// A new guest adds one ``GuestAssembler`` that returns these; nothing else changes.
struct GuestParts {
    /// The providers under `sys/kernel/tsm`, in order.
    var tsmProviders: [MeasurementProvider]
    /// Providers served only behind a device (the 6.16 sample).
    var deviceOnlyProviders: [MeasurementProvider] = []
    /// The merged-ABI (6.16) devices, each over its provider.
    var devices: [(device: MeasurementsDevice, provider: MeasurementProvider)] = []
    /// Misc devices the release shows without `measurements/` (before 6.16).
    var plainMiscDevices: [String] = []
    /// The guest driver behind configfs-tsm.
    var reports: any ReportProvider
    /// Device nodes, ACPI tables and logs by path relative to the sysroot.
    var files: [(path: String, attribute: any Attribute)] = []
    /// TDX: the event log that a reboot empties with its provider's RTMRs.
    var eventLog: MeasurementLog?
    /// The provider whose extends ``eventLog`` records.
    var loggedProvider: MeasurementProvider?
    var faults: FaultInjector
}

/// Builds one guest's providers and faces from a ``GuestSpec``, resolving every register a face
/// needs once and refusing a spec whose providers lack one.
protocol GuestAssembler {
    static func assemble(_ spec: GuestSpec, journal: (any ChangeJournal)?, log: @escaping @Sendable (String) -> Void)
        throws(AssemblyError) -> GuestParts
}

extension GuestAssembler {
    /// The provider named `name` among the spec's, validated; the guest's faces are made from it.
    static func measured(_ spec: GuestSpec, _ name: String, face: String) throws(AssemblyError) -> (ProviderDescriptor, RegisterTable) {
        guard let descriptor = spec.providers.first(where: { $0.name == name }) else {
            throw .binding(RegisterBindingError(face: face, provider: name, need: nil, problem: .missingProvider))
        }
        do {
            return (descriptor, try RegisterTable(validating: descriptor))
        } catch {
            throw .registration(error)
        }
    }

    /// Registers every provider of `spec` in order, `measured` from the given backend and
    /// descriptor, the others over the software model.
    static func providers(_ spec: GuestSpec, measured: ProviderDescriptor, backend: any MeasurementBackend,
                          journal: (any ChangeJournal)?) throws(AssemblyError) -> [MeasurementProvider] {
        do throws(RegistrationError) {
            return try spec.providers.map { descriptor throws(RegistrationError) in
                descriptor.name == measured.name
                    ? try MeasurementProvider(measured, backend: backend, journal: journal)
                    : try MeasurementProvider(descriptor, backend: SoftwareBackend(), journal: journal)
            }
        } catch {
            throw .registration(error)
        }
    }

    /// `provider` as registered among `providers` (the one whose name it has).
    static func find(_ name: String, in providers: [MeasurementProvider]) -> MeasurementProvider? {
        providers.first { $0.name == name }
    }

    /// The seed's mock attestation authority for `guest`.
    static func authority(_ guest: Guest, seed: String) throws(AssemblyError) -> MockAuthority {
        do {
            return try MockAuthority(guest: guest, seed: seed)
        } catch {
            throw .authority(error)
        }
    }

    static func arm(_ specs: [FaultSpec], in faults: FaultInjector) throws(AssemblyError) {
        do throws(FaultError) {
            for spec in specs { try faults.add(spec) }
        } catch {
            throw .fault(error)
        }
    }

    static func bind<T>(_ body: () throws(RegisterBindingError) -> T) throws(AssemblyError) -> T {
        do {
            return try body()
        } catch {
            throw .binding(error)
        }
    }
}
