import TSMBackends
import TSMEventLog
import TSMEvidence
import TSMModel
import TSMTree

/// An Intel TDX guest: the `tdx` provider's registers behind every face — the RFC v2 tree, the
/// 6.16 `tdx_guest` measurements, `/dev/tdx_guest`'s TDREPORT, configfs-tsm quotes signed by the
/// mock authority, and the CCEL boot log plus a runtime log of every extend.
enum TDXGuestAssembly: GuestAssembler {
    static let providerName = "tdx"

    static func assemble(_ spec: GuestSpec, journal: (any ChangeJournal)?, log: @escaping @Sendable (String) -> Void)
        throws(AssemblyError) -> GuestParts {
        let (descriptor, table) = try measured(spec, providerName, face: "--guest tdx (its quotes, TDREPORTs and event log)")
        // The RTMRs the event log records and starts: resolved on the table, before the provider
        // exists, because its backend and initial values depend on them.
        let rtmrs = try bind { () throws(RegisterBindingError) in
            try TDXRegisters.rtmrNeeds.map { need throws(RegisterBindingError) in
                try table.index(of: RegisterNeed.digest(need.name, .sha384, extensible: true), for: "the TDX event log")
            }
        }
        let eventLog: MeasurementLog
        do {
            eventLog = try MeasurementLog(boot: spec.bootLog ?? BootLog.synthetic())
        } catch {
            throw .eventLog(error)
        }
        let faults = FaultInjector(measured: table) { log("injected fault: \($0)") }
        try arm(spec.faults, in: faults)
        let backend = FaultInjectingBackend(
            wrapping: EventLoggingBackend(wrapping: SoftwareBackend(), log: eventLog, rtmrs: rtmrs), faults: faults)
        let providers = try self.providers(spec, measured: eventLog.applyingInitialRTMRs(to: descriptor, rtmrs: rtmrs),
                                           backend: backend, journal: journal)
        let sample: MeasurementProvider
        do {
            sample = try MeasurementProvider(spec.sample, backend: SoftwareBackend(), journal: journal)
        } catch {
            throw .registration(error)
        }
        guard let tdx = find(providerName, in: providers) else {
            throw .binding(RegisterBindingError(face: "--guest tdx", provider: providerName, need: nil, problem: .missingProvider))
        }
        let registers = try bind { () throws(RegisterBindingError) in try TDXRegisters(tdx, for: "the tdx_guest quote (configfs-tsm)") }
        let tdReport = try bind { () throws(RegisterBindingError) in try TDReportSource(tdx, for: "/dev/tdx_guest") }
        let authority = try self.authority(.tdx, seed: spec.seed)
        let device = IoctlDevice(command: TDReport.getReport0Command, inputSize: TDReport.reportDataSize,
                                 requestSize: TDReport.requestSize) { reportData in reportData + tdReport.make(reportData: reportData) }
        // Before 6.16 the misc device has no measurements/ and there is no sample device; the
        // sample's provider is still made, so a state journal serves every release.
        let tsmMR = spec.kernel.has(.tdxGuestMeasurements)
        let devices: [(device: MeasurementsDevice, provider: MeasurementProvider)] =
            (tsmMR ? [(BuiltinDevices.tdxGuest, tdx)] : [])
            + (spec.kernel.has(.tsmMRSample) ? [(BuiltinDevices.tsmMrSample, sample)] : [])
        return GuestParts(
            tsmProviders: providers, deviceOnlyProviders: [sample],
            devices: devices, plainMiscDevices: tsmMR ? [] : [BuiltinDevices.tdxGuest.device],
            reports: FaultInjectingReportProvider(wrapping: TDXReportProvider(registers: registers, authority: authority, log: log),
                                                  faults: faults),
            files: [
                ("dev/tdx_guest", device),
                // ACPI tables are 0400 root:root in sysfs.
                (EventLogPaths.ccelTable, BytesAttribute(eventLog.ccelTableBytes, permissions: 0o400)),
                (EventLogPaths.ccelData, BytesAttribute(eventLog.ccelDataBytes, permissions: 0o400)),
                (EventLogPaths.runtimeLog, BytesAttribute(size: { eventLog.runtimeLogSize },
                                                slice: { eventLog.runtimeLogBytes(offset: $0, count: $1) })),
            ],
            eventLog: eventLog, loggedProvider: tdx, faults: faults)
    }
}

/// Where a TDX sysroot serves the event logs, relative to its root: the ACPI CCEL table and its
/// log area at their Linux paths, and the runtime log (no Linux counterpart) under `tsmfs/`.
public enum EventLogPaths {
    public static let ccelTable = "sys/firmware/acpi/tables/CCEL"
    public static let ccelData = "sys/firmware/acpi/tables/data/CCEL"
    public static let runtimeLog = "tsmfs/runtime_log"
}
