import TSMBackends
import TSMEventLog
import TSMModel
import TSMTree

/// What a mount serves, assembled: the tree, what `tsmfs ctl` may change in it, and the phrase the
/// daemon's one line says.
public struct Served {
    public let tree: Tree
    /// What `tsmfs ctl` may change; nil where nothing may (the kernel backend).
    public let operations: Operations?
    public let summary: String
    /// Stops what the mount started beside the tree (a vTPM): run once, after the unmount.
    public let stop: @Sendable () -> Void

    public init(tree: Tree, operations: Operations?, summary: String, stop: @escaping @Sendable () -> Void = {}) {
        self.tree = tree
        self.operations = operations
        self.summary = summary
        self.stop = stop
    }
}

/// Assembles each kind of mount from what the command line gave: parse, then assemble (here),
/// then serve. Every register a face needs is resolved here, once, or the start is refused.
public enum Assembly {
    /// Where the daemon logs what happens at start and at run time (injected faults, evidence
    /// that could not be made, the state file's recovery).
    public typealias Log = @Sendable (String) -> Void

    /// A plain RFC v2 mount of `descriptors` over the software model, with `--state` at `state`.
    public static func plain(_ descriptors: [ProviderDescriptor], state: String?, log: @escaping Log)
        throws(AssemblyError) -> Served
    {
        let (journal, recovery) = try openState(state, descriptors, context: "rfc-v2", log: log)
        let providers: [MeasurementProvider]
        do throws(RegistrationError) {
            providers = try descriptors.map { descriptor throws(RegistrationError) in
                try MeasurementProvider(descriptor, backend: SoftwareBackend(), journal: journal)
            }
        } catch {
            throw .registration(error)
        }
        let operations = Operations(providers: providers, journal: journal)
        try replay(recovery, into: operations, journal: journal)
        return Served(
            tree: RFCv2Layout.tree(providers), operations: operations,
            summary: providers.map(\.name).joined(separator: ", "))
    }

    /// A guest sysroot: the guest's assembly laid out at its Linux paths, with `--state` at `state`.
    /// A spec the release of `spec.kernel` cannot have is refused, naming the release that has it.
    /// Failures at run time that a client sees as EIO (a vTPM gone) go to `errorLog` (default `log`).
    public static func sysroot(
        _ spec: GuestSpec, state: String?, log: @escaping Log, errorLog: Log? = nil
    ) throws(AssemblyError) -> Served {
        try sysroot(spec.guest, spec, state: state, log: log, errorLog: errorLog ?? log)
    }

    private static func sysroot<Guest: GuestDefinition>(
        _ guest: Guest.Type, _ spec: GuestSpec, state: String?,
        log: @escaping Log, errorLog: @escaping Log
    ) throws(AssemblyError) -> Served {
        if let refusal = spec.kernelRefusal { throw .kernelRelease(refusal) }
        let settings: Guest.Settings
        do {
            settings = try Guest.settings(spec.options)
        } catch {
            throw .options(error)
        }
        let context = "sysroot \(Guest.name) boot \(Guest.journalContext(settings))"
        let (journal, recovery) = try openState(state, spec.providers + [spec.sample], context: context, log: log)
        let (parts, faults) = try assemble(
            guest, spec, settings: settings, journal: journal, state: state, log: log, errorLog: errorLog)
        let stops = parts.faces.stops
        let stop: @Sendable () -> Void = { for stop in stops { stop() } }
        var succeeded = false
        defer { if !succeeded { stop() } }
        var seen = Set<ObjectIdentifier>()
        let all = (parts.tsmProviders + parts.faces.deviceOnlyProviders).filter {
            seen.insert(ObjectIdentifier($0)).inserted
        }
        let operations = Operations(
            providers: all, eventLog: parts.faces.eventLog, loggedProvider: parts.faces.loggedProvider,
            journal: journal, faults: faults, alongside: parts.faces.reboots)
        try replay(recovery, into: operations, journal: journal)
        // Before configfs-tsm (or the guest's provider) the release has no sys/kernel/config/tsm.
        var layout = SysrootLayout(
            tsmProviders: parts.tsmProviders + parts.faces.outsideProviders, devices: parts.faces.devices,
            reports: spec.servesReports && parts.faces.servesReports
                ? FaultInjectingReportProvider(wrapping: parts.faces.reports, faults: faults) : nil)
        layout.files = parts.faces.files
        layout.plainMiscDevices = parts.faces.plainMiscDevices
        layout.unified = spec.unified
        layout.outblobMax = spec.kernel.outblobMax
        let tree: Tree
        do {
            tree = try layout.tree()
        } catch {
            throw .layout(error)
        }
        let names = (parts.tsmProviders + parts.faces.outsideProviders).map(\.name).joined(separator: ", ")
        succeeded = true
        return Served(
            tree: tree, operations: operations,
            summary:
                """
                a \(Guest.name) guest sysroot of Linux \(spec.kernel) (providers \
                \(names)\(spec.unified ? "" : "; no RFC v2 tree"))
                """,
            stop: stop
        )
    }

    /// The guest's plan registered: faults armed once here for every guest, the fault decorator
    /// outside the guest's backend (a failed extend logs nothing), kinds the guest refuses refused.
    private static func assemble<Guest: GuestDefinition>(
        _ guest: Guest.Type, _ spec: GuestSpec, settings: Guest.Settings,
        journal: (any ChangeJournal)?, state: String?, log: @escaping Log, errorLog: @escaping Log
    )
        throws(AssemblyError) -> (
            parts: (tsmProviders: [MeasurementProvider], faces: GuestFaces), faults: FaultInjector
        )
    {
        guard let index = spec.providers.firstIndex(where: { $0.name == Guest.provider.name }) else {
            throw .binding(
                RegisterBindingError(
                    face: Guest.faces, provider: Guest.provider.name, need: nil, problem: .missingProvider))
        }
        let plan = try Guest.plan(
            GuestContext(
                spec: spec, settings: settings, measured: spec.providers[index],
                table: try validated(spec.providers[index]), journal: journal, log: log, state: state,
                errorLog: errorLog))
        let measured = try validated(plan.measured)
        let faults = FaultInjector(measured: Guest.refusedFaults.contains(.extend) ? nil : measured) {
            log("injected fault: \($0)")
        }
        // A report fault would never fire where no configfs-tsm report is served.
        if !spec.servesReports, let fault = spec.faults.first(where: { $0.kind != .extend }) {
            let missing = spec.kernel.has(.configfsTSMReport) ? Guest.reportsFeature : .configfsTSMReport
            throw .kernelRelease(.lacks(missing, option: "--inject-fault \(fault.kind.rawValue)", release: spec.kernel))
        }
        do throws(FaultError) {
            for fault in spec.faults {
                if fault.kind != .extend && Guest.refusedFaults.contains(fault.kind) {
                    throw .refusedKind(fault.kind, guest: Guest.name)
                }
                try faults.add(fault)
            }
        } catch {
            throw .fault(error)
        }
        let backend = FaultInjectingBackend(wrapping: plan.backend, faults: faults)
        let providers: [MeasurementProvider]
        do throws(RegistrationError) {
            providers = try spec.providers.indices.map { position throws(RegistrationError) in
                position == index
                    ? try MeasurementProvider(plan.measured, backend: backend, journal: journal)
                    : try MeasurementProvider(spec.providers[position], backend: SoftwareBackend(), journal: journal)
            }
        } catch {
            throw .registration(error)
        }
        let faces = try plan.faces(GuestProviders(measured: providers[index], all: providers, journal: journal))
        return ((providers, faces), faults)
    }

    private static func validated(_ descriptor: ProviderDescriptor) throws(AssemblyError) -> RegisterTable {
        do {
            return try RegisterTable(validating: descriptor)
        } catch {
            throw .registration(error)
        }
    }

    private static func openState(
        _ path: String?, _ descriptors: [ProviderDescriptor], context: String,
        log: @escaping Log
    ) throws(AssemblyError) -> (StateJournal?, StateJournal.Recovery?) {
        guard let path else { return (nil, nil) }
        do {
            let (journal, recovery) = try StateJournal.open(
                path, fingerprint: StateJournal.fingerprint(descriptors, context: context),
                compaction: try StateJournal.Compaction.fromEnvironment(), log: log)
            log("state \(path): \(recovery.summary)")
            return (journal, recovery)
        } catch {
            throw .state(error)
        }
    }

    /// Replays the state file, then lets its journal compact to the state the mount serves.
    private static func replay(
        _ recovery: StateJournal.Recovery?, into operations: Operations, journal: StateJournal?
    ) throws(AssemblyError) {
        do {
            try recovery?.replay(into: operations)
        } catch {
            throw .replay(error)
        }
        journal?.takeSnapshots { operations.snapshotRecords() }
    }
}
