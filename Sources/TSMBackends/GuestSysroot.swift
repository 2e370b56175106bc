import TSMModel

/// The kind of confidential guest a sysroot plays.
public enum GuestKind: String, CaseIterable, Sendable {
    case tdx
    case sevSNP = "sev-snp"

    /// The providers a sysroot of this guest serves under `sys/kernel/tsm` by default.
    public var defaultProviders: [ProviderDescriptor] {
        switch self {
        case .tdx: return BuiltinProviders.all
        case .sevSNP: return BuiltinProviders.all + [BuiltinProviders.sevSNP]
        }
    }

    /// The provider whose registers the guest's reports are signed over.
    public var reportProviderName: String {
        switch self {
        case .tdx: return "tdx"
        case .sevSNP: return "sev-snp"
        }
    }
}

/// Everything a guest sysroot serves, wired to one register model: the providers of the RFC v2
/// tree, the merged-ABI devices over the same provider objects, and the configfs-tsm report
/// provider that signs their current values.
public struct GuestSysroot {
    public enum Problem: Error, CustomStringConvertible {
        case registration(RegistrationError)
        case missingProvider(guest: GuestKind, provider: String)

        public var description: String {
            switch self {
            case .registration(let error): return error.description
            case .missingProvider(let guest, let provider):
                return "--guest \(guest.rawValue) needs the '\(provider)' provider: its reports are made from its registers"
            }
        }
    }

    public let guest: GuestKind
    public let tsmProviders: [MeasurementProvider]
    public let devices: [(device: MeasurementsDevice, provider: MeasurementProvider)]
    /// The provider whose registers reports carry.
    public let measured: MeasurementProvider

    /// - Parameters:
    ///   - descriptors: the providers under `sys/kernel/tsm` (the guest's defaults, or a selection).
    ///   - sample: the 6.16 sample's table (a config may replace it).
    public init(guest: GuestKind, descriptors: [ProviderDescriptor],
                sample: ProviderDescriptor = BuiltinProviders.tsmMrSample) throws(Problem) {
        guard descriptors.contains(where: { $0.name == guest.reportProviderName }) else {
            throw .missingProvider(guest: guest, provider: guest.reportProviderName)
        }
        let providers: [MeasurementProvider]
        let sampleProvider: MeasurementProvider
        do throws(RegistrationError) {
            providers = try descriptors.map { descriptor throws(RegistrationError) in
                try MeasurementProvider(descriptor, backend: SoftwareBackend())
            }
            sampleProvider = try MeasurementProvider(sample, backend: SoftwareBackend())
        } catch {
            throw .registration(error)
        }
        let measured = providers.first { $0.name == guest.reportProviderName } ?? sampleProvider
        self.guest = guest
        self.tsmProviders = providers
        self.measured = measured
        switch guest {
        case .tdx: devices = [(BuiltinDevices.tdxGuest, measured), (BuiltinDevices.tsmMrSample, sampleProvider)]
        case .sevSNP: devices = []
        }
    }
}
