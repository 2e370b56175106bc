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
}

/// Assembles each kind of mount from what the command line gave: parse, then assemble (here),
/// then serve. Every register a face needs is resolved here, once, or the start is refused.
public enum Assembly {
    /// Where the daemon logs what happens at start and at run time (injected faults, evidence
    /// that could not be made, the state file's recovery).
    public typealias Log = @Sendable (String) -> Void

    /// A plain RFC v2 mount of `descriptors` over the software model, with `--state` at `state`.
    public static func plain(_ descriptors: [ProviderDescriptor], state: String?, log: @escaping Log) throws(AssemblyError) -> Served {
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
        try replay(recovery, into: operations)
        return Served(tree: RFCv2Layout.tree(providers), operations: operations, summary: providers.map(\.name).joined(separator: ", "))
    }

    /// A guest sysroot: the guest's assembly laid out at its Linux paths, with `--state` at `state`.
    /// A spec the release of `spec.kernel` cannot have is refused, naming the release that has it.
    public static func sysroot(_ spec: GuestSpec, state: String?, log: @escaping Log) throws(AssemblyError) -> Served {
        if let refusal = spec.kernelRefusal { throw .kernelRelease(refusal) }
        let bound = spec.journalContext
        let (journal, recovery) = try openState(state, bound.providers, context: bound.context, log: log)
        let parts = try spec.guest.assembler.assemble(spec, journal: journal, log: log)
        var seen = Set<ObjectIdentifier>()
        let all = (parts.tsmProviders + parts.deviceOnlyProviders).filter { seen.insert(ObjectIdentifier($0)).inserted }
        let operations = Operations(providers: all, eventLog: parts.eventLog, loggedProvider: parts.loggedProvider,
                                    journal: journal, faults: parts.faults)
        try replay(recovery, into: operations)
        var layout = SysrootLayout(tsmProviders: parts.tsmProviders, devices: parts.devices, reports: parts.reports)
        layout.files = parts.files
        layout.plainMiscDevices = parts.plainMiscDevices
        layout.unified = spec.unified
        layout.outblobMax = spec.kernel.outblobMax
        let tree: Tree
        do {
            tree = try layout.tree()
        } catch {
            throw .layout(error)
        }
        let names = parts.tsmProviders.map(\.name).joined(separator: ", ")
        return Served(tree: tree, operations: operations,
                      summary: "a \(spec.guest.rawValue) guest sysroot of Linux \(spec.kernel) (providers \(names)\(spec.unified ? "" : "; no RFC v2 tree"))")
    }

    /// `--backend kernel`: the guest the kernel under `root` is, served as its RFC v2 provider.
    public static func kernel(root: String, log: @escaping KernelLog) throws(AssemblyError) -> Served {
        do {
            let found = try KernelGuestSetup.detect(root: root, log: log)
            return Served(tree: RFCv2Layout.tree([found.provider]), operations: nil, summary: found.summary)
        } catch {
            throw .kernel(error)
        }
    }

    private static func openState(_ path: String?, _ descriptors: [ProviderDescriptor], context: String,
                                  log: Log) throws(AssemblyError) -> (StateJournal?, StateJournal.Recovery?) {
        guard let path else { return (nil, nil) }
        do {
            let (journal, recovery) = try StateJournal.open(path, fingerprint: StateJournal.fingerprint(descriptors, context: context))
            log("state \(path): \(recovery.summary)")
            return (journal, recovery)
        } catch {
            throw .state(error)
        }
    }

    private static func replay(_ recovery: StateJournal.Recovery?, into operations: Operations) throws(AssemblyError) {
        do {
            try recovery?.replay(into: operations)
        } catch {
            throw .replay(error)
        }
    }
}
