import TSMBackends
import TSMBytes
import TSMEventLog
import TSMEvidence
import TSMGuest
import TSMModel
import TSMTree

extension TDXGuest {
    /// The measured `tdx` provider logs every RTMR extend (the fault decorator goes outside the
    /// log: a failed extend logs nothing) and starts from the boot log's replay; its faces are
    /// the quote, `/dev/tdx_guest`, the 6.16 devices the release has and the event logs.
    public static func plan(_ context: GuestContext<Settings>) throws(AssemblyError) -> GuestPlan {
        let spec = context.spec, settings = context.settings, log = context.log
        // The RTMRs the event log records and starts: resolved on the table, before the provider
        // exists, because its backend and initial values depend on them.
        let rtmrs = try AssemblyError.binding { () throws(RegisterBindingError) in
            try TDXRegisters.rtmrs.map { need throws(RegisterBindingError) in
                try context.table.index(of: need, for: "the TDX event log")
            }
        }
        let eventLog: MeasurementLog
        do {
            eventLog = try MeasurementLog(boot: settings.bootLog ?? BootLog.synthetic())
        } catch {
            throw .eventLog(error)
        }
        let authority = try AssemblyError.authority { () throws(EvidenceError) in
            try TDXAuthority(seed: spec.seed, tcbStatus: settings.tcbStatus)
        }
        return GuestPlan(
            measured: TDXRegisters.withTDInfo(
                eventLog.applyingInitialRTMRs(to: context.measured, rtmrs: rtmrs),
                tdAttributes: settings.tdAttributes, xfam: settings.xfam,
                teeTCBInfo: settings.module15 ? .mock15 : .mock, cpuSVN: TEETCBInfo.mockCPUSVN(settings.tcbStatus)),
            backend: EventLoggingBackend(wrapping: SoftwareBackend(), log: eventLog, rtmrs: rtmrs)
        ) { providers throws(AssemblyError) in
            let tdx = providers.measured
            let sample: MeasurementProvider
            do throws(RegistrationError) {
                sample = try MeasurementProvider(spec.sample, backend: SoftwareBackend(), journal: providers.journal)
            } catch {
                throw .registration(error)
            }
            var registers = try AssemblyError.binding { () throws(RegisterBindingError) in
                try TDXRegisters(tdx, for: "the tdx_guest quote (configfs-tsm)")
            }
            registers.tdAttributes = settings.tdAttributes.littleEndianBytes
            registers.xfam = settings.xfam.littleEndianBytes
            let tdReport = try AssemblyError.binding { () throws(RegisterBindingError) in
                try TDReportSource(tdx, for: "/dev/tdx_guest")
            }
            let reportDevice = IoctlDevice(
                command: TDReport.getReport0Command, inputSize: TDReport.reportDataSize,
                requestSize: TDReport.requestSize
            ) { reportData in reportData + tdReport.make(reportData: reportData) }
            let reports = TDXReportProvider(
                registers: registers, authority: authority, td15: settings.module15, log: log)
            let device: any Attribute =
                settings.driver == .intel
                ? IntelTDXGuestDevice(report0: reportDevice, rtmrs: registers.rtmrHandles) {
                    reports.quote(tdReport: $0, source: tdReport)
                } : reportDevice
            // Before 6.16 the misc device has no measurements/ and there is no sample device; the
            // sample's provider is still made, so a state journal serves every release.
            let tsmMR = spec.kernel.has(measurementsFeature)
            var faces = GuestFaces(reports: reports)
            faces.deviceOnlyProviders = [sample]
            faces.devices =
                (tsmMR ? [(TDXDevices.tdxGuest, tdx)] : [])
                + (spec.kernel.has(sampleFeature) ? [(BuiltinDevices.tsmMrSample, sample)] : [])
            faces.plainMiscDevices = tsmMR ? [] : [TDXDevices.tdxGuest.device]
            faces.files = [
                ("dev/tdx_guest", device),
                // ACPI tables are 0400 root:root in sysfs.
                (EventLogPaths.ccelTable, BytesAttribute(eventLog.ccelTableBytes, permissions: 0o400)),
                (EventLogPaths.ccelData, BytesAttribute(eventLog.ccelDataBytes, permissions: 0o400)),
                (
                    EventLogPaths.runtimeLog,
                    BytesAttribute(
                        size: { eventLog.runtimeLogSize },
                        slice: { eventLog.runtimeLogBytes(offset: $0, count: $1) })
                ),
            ]
            faces.eventLog = eventLog
            faces.loggedProvider = tdx
            if let vtpm = settings.vtpm {
                try VTPMFaces.add(vtpm, boot: eventLog.boot, to: &faces, context: context)
            }
            return faces
        }
    }
}
