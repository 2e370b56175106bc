import ArgumentParser
import FuseKit
import Glibc
import Logging
import TSMBackends
import TSMEvidence
import TSMModel
import TSMTree
import SystemPackage

/// `tsmfs mount`: serve the tree in the foreground until SIGTERM, SIGINT, SIGHUP or an outside
/// unmount, then unmount and exit 0.
struct MountCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mount",
        abstract: "Mount the RFC v2 /sys/kernel/tsm tree on MOUNTPOINT and serve it in the foreground.",
        discussion: """
            Creates a missing MOUNTPOINT, clears a stale mount left by a killed daemon, and refuses a \
            MOUNTPOINT that a live filesystem occupies. Stops on SIGTERM, SIGINT, SIGHUP or an outside \
            unmount (fusermount3 -u). Sends READY=1 and STOPPING=1 to systemd when NOTIFY_SOCKET is set.
            """
    )

    @Argument(help: "The directory to mount on; it plays /sys/kernel/tsm.")
    var mountpoint: String?

    @Option(help: ArgumentHelp("Serve a guest's paths relative to / under DIR instead: sys/kernel/tsm, sys/kernel/config/tsm/report, and the merged-kernel measurements devices.", valueName: "DIR"))
    var sysroot: String?

    @Option(help: ArgumentHelp("What stands behind the registers: software (an in-memory model) or kernel (a real TDX or SEV-SNP guest's kernel interfaces under --kernel-root).", valueName: "KIND"))
    var backend: BackendKind = .software

    @Option(name: .customLong("kernel-root"), help: ArgumentHelp("With --backend kernel: where the kernel's files are (sys/devices/virtual/misc/tdx_guest/measurements, sys/kernel/config/tsm/report, dev/tdx_guest).", valueName: "PATH"))
    var kernelRoot: String = "/"

    @Option(name: .customLong("inject-fault"), help: ArgumentHelp("With --sysroot, for testing clients: make the next COUNT (default 1) operations of KIND fail. outblob: report generations fail with ERRNO (EBUSY, EIO, ETIMEDOUT, ENXIO, EINVAL; default EIO); generation: outblob reads bump the entry's generation behind the reader's back; extend: RTMR extends fail with ERRNO; mkdir: mkdirs under report/ fail with ERRNO; empty: report generations give an empty outblob. +SKIP lets the first SKIP operations of KIND pass. Repeatable; off by default; each injected failure is logged.", valueName: "KIND[:ERRNO][:COUNT][:+SKIP]"))
    var injectFaults: [FaultSpec] = []

    @Option(help: ArgumentHelp("The control socket for `tsmfs ctl` (default: /run/tsmfs/MOUNT.sock as root, else $XDG_RUNTIME_DIR/tsmfs or /tmp/tsmfs-UID).", valueName: "PATH"))
    var control: String?

    @Option(help: ArgumentHelp("Keep the registers in FILE across restarts: every change is written and fsync'd before the write returns.", valueName: "FILE"))
    var state: String?

    @OptionGroup var guestOptions: GuestOptions

    @OptionGroup var providerOptions: ProviderOptions

    func validate() throws {
        guard (mountpoint == nil) != (sysroot == nil) else {
            throw ValidationError("give either MOUNTPOINT or --sysroot DIR")
        }
        if allowOther && getuid() != 0 && !Self.userAllowOther() {
            throw ValidationError("--allow-other needs root, or user_allow_other in /etc/fuse.conf (fusermount3 refuses it otherwise)")
        }
        if backend == .kernel && sysroot != nil { throw ValidationError("--backend kernel serves a MOUNTPOINT, not a --sysroot") }
        if backend == .kernel && state != nil {
            throw ValidationError("--state keeps a software model's registers; with --backend kernel the kernel keeps them")
        }
        if backend == .kernel && (!providerOptions.providers.isEmpty || providerOptions.config != nil) {
            throw ValidationError("--backend kernel serves the guest's own provider; --provider and --config do not apply")
        }
        if !injectFaults.isEmpty && sysroot == nil { throw ValidationError("--inject-fault needs --sysroot") }
    }

    @Flag(name: .customLong("allow-other"), help: "Let other users see the mount (needs root, or user_allow_other in /etc/fuse.conf).")
    var allowOther = false

    @Option(name: .customLong("log-level"), help: "How much to log to stderr.")
    var logLevel: Logger.Level = .notice

    func run() throws {
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = .trace
            return handler
        }
        var logger = Logger(label: "tsmfs")
        logger.logLevel = logLevel

        let (tree, served, operations) = try makeTree(logger: logger)
        let mountpoint = self.mountpoint ?? sysroot ?? ""
        let filesystem = TSMFileSystem(tree: tree, time: Int64(Glibc.time(nil)), owner: (getuid(), getgid()))
        do {
            switch try MountPoint.prepare(mountpoint) {
            case .created: logger.info("created mount point \(mountpoint)")
            case .clearedStale: logger.notice("cleared a stale mount at \(mountpoint) (its daemon had died)")
            case .ready: break
            }
        } catch {
            throw Failure(error.description)
        }

        var options = ["fsname=tsmfs", "subtype=tsmfs", "default_permissions"]
        if allowOther { options.append("allow_other") }
        let session: FuseSession
        do {
            session = try FuseSession(filesystem: filesystem, options: options, maxRead: 4096)
            // Before the mount: a signal from here on ends the loop cleanly (even before it starts)
            // instead of killing the process and leaving a stale mount behind.
            session.ownSignals()
            try session.mount(at: mountpoint)
        } catch {
            throw Failure(error.description)
        }
        var control: ControlServer?
        if let operations {
            let path = self.control ?? ControlServer.defaultPath(for: mountpoint)
            let controlLogger = logger
            do {
                control = try ControlServer(path: path, operations: operations, filesystem: filesystem,
                                            invalidator: session.invalidator) { controlLogger.notice("\($0)") }
            } catch {
                // The tree is what clients need; without the socket only `tsmfs ctl` is missing.
                logger.warning("no control socket: \(error.description)")
            }
        }
        SystemdNotifier.notify("READY=1\nSTATUS=serving \(mountpoint)")
        logger.notice("serving \(served) at \(mountpoint)\(control.map { "; control socket \($0.path)" } ?? "")")

        let end = session.run()
        control?.stop()
        SystemdNotifier.notify("STOPPING=1")
        session.unmount()
        if case .failure(let errno) = end {
            logger.error("the FUSE loop ended with \(errno)")
            throw ExitCode.failure
        }
        logger.info("unmounted \(mountpoint)")
    }
}

extension MountCommand {
    /// Whether /etc/fuse.conf lets ordinary users mount with allow_other.
    static func userAllowOther() -> Bool {
        guard let bytes = try? ProviderSelection.readFile("/etc/fuse.conf") else { return false }
        return String(decoding: bytes, as: UTF8.self).split(separator: "\n").contains {
            $0.trimmingPrefix(while: \.isWhitespace).hasPrefix("user_allow_other")
        }
    }

    /// The journal of `--state`, with the changes to replay, or nil without `--state`.
    func openState(_ descriptors: [ProviderDescriptor], context: String, logger: Logger) throws -> OpenedState? {
        guard let state else { return nil }
        do {
            let (journal, recovery) = try StateJournal.open(state, fingerprint: StateJournal.fingerprint(descriptors, context: context))
            logger.notice("state \(state): \(recovery.summary)")
            return OpenedState(journal: journal, changes: recovery.changes, path: state)
        } catch {
            throw Failure(error.description)
        }
    }

    /// The tree to serve, a phrase saying what it holds, and what `tsmfs ctl` may change in it.
    func makeTree(logger: Logger) throws -> (Tree, String, Operations?) {
        if backend == .kernel {
            // Before anything is mounted: a host without the interfaces is refused here.
            let found: KernelGuestSetup.Found
            do {
                found = try KernelGuestSetup.detect(root: kernelRoot) { logger.error("kernel: \($0)") }
            } catch {
                throw Failure(error.description)
            }
            return (RFCv2Layout.tree([found.provider]), found.summary, nil)
        }
        do {
            if sysroot == nil {
                let descriptors = try ProviderSelection.descriptors(providerOptions)
                let journal = try openState(descriptors, context: "rfc-v2", logger: logger)
                let providers = try descriptors.map { descriptor throws(RegistrationError) in
                    try MeasurementProvider(descriptor, backend: SoftwareBackend(), journal: journal?.journal)
                }
                let operations = Operations(providers: providers, journal: journal?.journal)
                try journal?.replay(into: providers, operations: operations)
                return (RFCv2Layout.tree(providers), providers.map(\.name).joined(separator: ", "), operations)
            }
            let guest = guestOptions.guest
            let descriptors = try ProviderSelection.descriptors(providerOptions, defaults: guest.defaultProviders)
            let bootLog = try guestOptions.loadBootLog()
            let journal = try openState(descriptors + [BuiltinProviders.tsmMrSample],
                                        context: "sysroot \(guest.rawValue) boot \(bootLog.map { "\($0.encoded())" } ?? "default")",
                                        logger: logger)
            // Always there in a sysroot, so that `tsmfs ctl fault` can arm faults at run time.
            let faults = FaultInjector(injectFaults) { logger.notice("injected fault: \($0)") }
            let model = try GuestSysroot(guest: guest, seed: guestOptions.seed, privlevelFloor: guestOptions.privlevelFloor,
                                         svsm: guestOptions.svsm, bootLog: bootLog, journal: journal?.journal,
                                         descriptors: descriptors, faults: faults)
            let operations = model.operations(journal: journal?.journal, faults: faults)
            try journal?.replay(into: model.allProviders, operations: operations)
            let device = model.tdReport.map { make in TDXGuestDevice { (reportData: [UInt8]) throws(Errno) in make(reportData) } }
            var layout = SysrootLayout(tsmProviders: model.tsmProviders, devices: model.devices, reports: model.reports,
                                       tdxGuest: device)
            if let log = model.eventLog {
                // ACPI tables are 0400 root:root in sysfs.
                layout.files = [
                    (GuestSysroot.ccelTablePath, BytesAttribute(log.ccelTableBytes, permissions: 0o400)),
                    (GuestSysroot.ccelDataPath, BytesAttribute(log.ccelDataBytes, permissions: 0o400)),
                    (GuestSysroot.runtimeLogPath, BytesAttribute(size: { log.runtimeLogSize },
                                                                 slice: { log.runtimeLogBytes(offset: $0, count: $1) })),
                ]
            }
            let names = model.tsmProviders.map(\.name).joined(separator: ", ")
            return (try layout.tree(), "a \(guest.rawValue) guest sysroot (providers \(names))", operations)
        } catch {
            throw Failure("\(error)")
        }
    }
}

/// A state journal just opened, and what it holds to replay.
struct OpenedState {
    let journal: StateJournal
    let changes: [RegisterChange]
    let path: String

    /// Replays the journal's changes into the providers they name; a reboot record reboots.
    func replay(into providers: [MeasurementProvider], operations: Operations) throws {
        let byName = Dictionary(providers.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        for (index, change) in changes.enumerated() {
            if change.kind == .reboot {
                try operations.reboot(record: false)
                continue
            }
            guard let provider = byName[change.provider] else {
                throw Failure("\(path): change \(index + 1) names provider '\(change.provider)', which is not served; refusing the file")
            }
            do {
                try provider.replay(change)
            } catch {
                throw Failure("\(path): change \(index + 1) does not apply to provider '\(change.provider)' (\(error.errno)); refusing the file")
            }
        }
    }
}

/// A fatal, user-facing error: printed as `tsmfs: error: ...`, exit status 1.
struct Failure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

extension Logger.Level: @retroactive ExpressibleByArgument {}

/// `--backend`: what stands behind the registers of a plain mount.
enum BackendKind: String, ExpressibleByArgument {
    case software, kernel
}

extension FaultSpec: ExpressibleByArgument {
    public init?(argument: String) {
        self.init(parsing: argument)
    }
}
