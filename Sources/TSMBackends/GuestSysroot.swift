import TSMEventLog
import TSMEvidence
import TSMModel

extension Guest {
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
        case missingProvider(guest: Guest, provider: String)
        case authority(EvidenceError)
        case eventLog(EventLogError)

        public var description: String {
            switch self {
            case .registration(let error): return error.description
            case .authority(let error): return "cannot set up the mock attestation authority: \(error)"
            case .eventLog(let error): return "cannot set up the boot event log: \(error)"
            case .missingProvider(let guest, let provider):
                return "--guest \(guest.rawValue) needs the '\(provider)' provider: its reports are made from its registers"
            }
        }
    }

    public let guest: Guest
    public let tsmProviders: [MeasurementProvider]
    public let devices: [(device: MeasurementsDevice, provider: MeasurementProvider)]
    /// The provider whose registers reports carry.
    public let measured: MeasurementProvider
    /// The configfs-tsm provider: signs the measured registers with the seed's mock authority.
    public let reports: any ReportProvider

    /// Where a sysroot serves the event logs, relative to its root: the ACPI CCEL table and its
    /// log area at their Linux paths, and the runtime log (no Linux counterpart) under `tsmfs/`.
    public static let ccelTablePath = "sys/firmware/acpi/tables/CCEL"
    public static let ccelDataPath = "sys/firmware/acpi/tables/data/CCEL"
    public static let runtimeLogPath = "tsmfs/runtime_log"

    /// TDX: the boot log that gave the RTMRs their initial values, and the runtime log of every
    /// extend since (through any face); nil for other guests.
    public let eventLog: MeasurementLog?

    /// What `tsmfs ctl` may change in this sysroot.
    public func operations(journal: (any ChangeJournal)?, faults: FaultInjector?) -> Operations {
        Operations(providers: allProviders, eventLog: eventLog, loggedProvider: eventLog == nil ? nil : measured.name,
                   journal: journal, faults: faults)
    }

    /// Every provider of the sysroot, each once: those under `sys/kernel/tsm` and those behind
    /// devices only (a journal replays into them by name).
    public var allProviders: [MeasurementProvider] {
        var seen = Set<String>()
        return (tsmProviders + devices.map(\.provider)).filter { seen.insert($0.name).inserted }
    }

    /// TDX: a TDREPORT over the given 64 bytes of report data and the current registers, as the
    /// `/dev/tdx_guest` TDX_CMD_GET_REPORT0 ioctl returns it; nil for other guests.
    public var tdReport: (@Sendable ([UInt8]) -> [UInt8])? {
        guard guest == .tdx else { return nil }
        let registers = measured
        return { reportData in TDReport.make(registers.snapshot(), reportData: reportData) }
    }

    /// - Parameters:
    ///   - descriptors: the providers under `sys/kernel/tsm` (the guest's defaults, or a selection).
    ///   - sample: the 6.16 sample's table (a config may replace it).
    /// - Parameter privlevelFloor: SEV-SNP's `privlevel_floor` (the VMPCK in use).
    ///   - svsm: SEV-SNP: the guest runs under an SVSM, which attests its services.
    ///   - faults: `--inject-fault`: failures to inject into reports and extends (testing only).
    ///   - bootLog: TDX: the boot whose replay gives the RTMRs their initial values (default: a
    ///     small synthetic boot).
    public init(guest: Guest, seed: String = MockAuthority.defaultSeed, privlevelFloor: UInt32 = 0, svsm: Bool = false,
                bootLog: TCGEventLog? = nil, journal: (any ChangeJournal)? = nil, descriptors: [ProviderDescriptor],
                sample: ProviderDescriptor = BuiltinProviders.tsmMrSample, faults: FaultInjector? = nil) throws(Problem) {
        guard descriptors.contains(where: { $0.name == guest.reportProviderName }) else {
            throw .missingProvider(guest: guest, provider: guest.reportProviderName)
        }
        var eventLog: MeasurementLog?
        if guest == .tdx {
            do {
                eventLog = try MeasurementLog(boot: bootLog ?? BootLog.synthetic())
            } catch {
                throw .eventLog(error)
            }
        }
        let providers: [MeasurementProvider]
        let sampleProvider: MeasurementProvider
        do throws(RegistrationError) {
            providers = try descriptors.map { descriptor throws(RegistrationError) in
                // The measured TDX provider's RTMRs start where the boot log leaves them, and
                // every extend through any face is logged.
                guard let eventLog, descriptor.name == guest.reportProviderName else {
                    return try MeasurementProvider(descriptor, backend: SoftwareBackend(), journal: journal)
                }
                let backend: any MeasurementBackend = EventLoggingBackend(wrapping: SoftwareBackend(), log: eventLog)
                return try MeasurementProvider(eventLog.applyingInitialRTMRs(to: descriptor),
                                               backend: faults.map { FaultInjectingBackend(wrapped: backend, faults: $0) } ?? backend,
                                               journal: journal)
            }
            sampleProvider = try MeasurementProvider(sample, backend: SoftwareBackend(), journal: journal)
        } catch {
            throw .registration(error)
        }
        let measured = providers.first { $0.name == guest.reportProviderName } ?? sampleProvider
        let authority: MockAuthority
        do {
            authority = try MockAuthority(guest: guest, seed: seed)
        } catch {
            throw .authority(error)
        }
        let reports: any ReportProvider
        switch guest {
        case .tdx: reports = TDXReportProvider(registers: measured, authority: authority)
        case .sevSNP: reports = SNPReportProvider(registers: measured, authority: authority, privlevelFloor: privlevelFloor,
                                                   svsm: svsm ? SVSMServicesManifest.mock(seed: seed) : nil)
        }
        self.reports = faults.map { FaultInjectingReportProvider(wrapped: reports, faults: $0) } ?? reports
        self.guest = guest
        self.eventLog = eventLog
        self.tsmProviders = providers
        self.measured = measured
        switch guest {
        case .tdx: devices = [(BuiltinDevices.tdxGuest, measured), (BuiltinDevices.tsmMrSample, sampleProvider)]
        case .sevSNP: devices = []
        }
    }
}
