import ArgumentParser
import CLinux
import FuseKit
import Glibc
import Logging
import TSMBackends
import TSMControl
import TSMEvidence
import TSMGuest
import TSMGuests
import TSMHost
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


    @Option(help: ArgumentHelp("The control socket for `tsmfs ctl`, an absolute path (default: NAME-HASH.sock for the mount point's absolute path, in /run/tsmfs as root, else $XDG_RUNTIME_DIR/tsmfs or /tmp/tsmfs-UID).", valueName: "PATH"))
    var control: String?


    @OptionGroup var daemonOptions: DaemonOptions

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
        if backend == .kernel && daemonOptions.state != nil {
            throw ValidationError("--state keeps a software model's registers; with --backend kernel the kernel keeps them")
        }
        if backend == .kernel && (!providerOptions.providers.isEmpty || providerOptions.config != nil) {
            throw ValidationError("--backend kernel serves the guest's own provider; --provider and --config do not apply")
        }
        if !daemonOptions.injectFaults.isEmpty && sysroot == nil { throw ValidationError("--inject-fault needs --sysroot") }
        if sysroot == nil, let option = guestOptions.given.first {
            throw ValidationError("\(option) shapes a guest sysroot: it needs --sysroot DIR")
        }
    }

    /// Set by `tsmfs exec`: the daemon ends (SIGTERM) when that process does, and detaches exec's
    /// bind mounts of its filesystem before it unmounts.
    @Option(name: .customLong("exit-with-parent"), help: .hidden)
    var exitWithParent: Int32?

    @Flag(name: .customLong("allow-other"), help: "Let other users see the mount (needs root, or user_allow_other in /etc/fuse.conf).")
    var allowOther = false


    func run() throws {
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = .trace
            return handler
        }
        var logger = Logger(label: "tsmfs")
        logger.logLevel = daemonOptions.logLevel
        if let parent = exitWithParent {
            // The signal fires when the parent's spawning thread exits; checked after it is set,
            // so a parent that died before cannot be missed.
            guard clinux_set_parent_death_signal(SIGTERM) == 0, getppid() == parent else {
                throw Failure("the tsmfs exec that started this daemon (pid \(parent)) is gone")
            }
        }

        let assembled = try assemble(logger: logger)
        let (tree, served, operations) = (assembled.tree, assembled.summary, assembled.operations)
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
        // Checked before anything is mounted: a mount never runs without the socket ctl expects.
        let controlPath = operations == nil ? nil : try controlSocketPath(mountpoint: mountpoint)

        var options = ["fsname=tsmfs", "subtype=tsmfs", "default_permissions"]
        if allowOther { options.append("allow_other") }
        let session: FuseSession
        let method: MountMethod
        do {
            session = try FuseSession(filesystem: filesystem, options: options, maxRead: 4096)
            // Register files from the kernel's page cache, dropped on every change (DECISIONS.md,
            // "Page cache for register files").
            if daemonOptions.pageCache { filesystem.servePageCache(session.inodeInvalidator) }
            // Before the mount: a signal from here on ends the loop cleanly (even before it starts)
            // instead of killing the process and leaving a stale mount behind.
            session.ownSignals()
            method = try session.mount(at: mountpoint)
        } catch {
            throw Failure(error.description)
        }
        var control: ControlServer?
        if let operations, let path = controlPath {
            let controlLogger = logger
            do {
                let invalidator = session.invalidator
                let dispatcher = ControlDispatcher(operations: operations, onReboot: {
                    let dropped = filesystem.dropAllItems()
                    for (parent, name) in dropped { invalidator.invalidate(parent: parent, name: name) }
                    return dropped.count
                }, log: { controlLogger.notice("\($0)") })
                control = try ControlServer(path: path, dispatcher: dispatcher)
            } catch {
                session.unmount()
                throw Failure(error.description)
            }
        }
        SystemdNotifier.notify("READY=1\nSTATUS=serving \(mountpoint)")
        let via = method == .fusermount ? " (mounted by fusermount3)" : ""
        logger.notice("serving \(served) at \(mountpoint)\(via)\(control.map { "; control socket \($0.path)" } ?? "")")

        // A write waits in its worker for the READs in flight on the pages it drops: more workers
        // than libfuse's 10 (DECISIONS.md, "Page cache").
        let end = session.run(maxThreads: 128)
        control?.stop()
        SystemdNotifier.notify("STOPPING=1")
        if exitWithParent != nil { ExecLeftovers.detachBindMounts(of: mountpoint) }
        session.unmount()
        if case .failure(let errno) = end {
            logger.error("the FUSE loop ended with \(errno)")
            throw ExitCode.failure
        }
        switch end {
        case .signal(let number): logger.notice("stopped by signal \(number); unmounted \(mountpoint)")
        default: logger.notice("stopped (unmounted from outside, or the session ended); unmounted \(mountpoint)")
        }
    }
}

extension MountCommand {
    /// Whether /etc/fuse.conf lets ordinary users mount with allow_other, read as fusermount3 reads it.
    static func userAllowOther() -> Bool {
        (try? FuseConfiguration.read())?.userAllowOther ?? false
    }

    /// The control socket's path: `--control`, which must be absolute, or the mount point's default.
    func controlSocketPath(mountpoint: String) throws -> String {
        do throws(ControlSocketPath.Problem) {
            guard let explicit = control else { return try ControlSocketPath.defaultPath(for: mountpoint) }
            try ControlSocketPath.checkExplicit(explicit)
            return explicit
        } catch {
            throw Failure(error.description)
        }
    }

    /// Parse -> **assemble** -> serve: what this command line serves, every register a face
    /// needs resolved, or a clear refusal.
    func assemble(logger: Logger) throws -> Served {
        let log: Assembly.Log = { logger.notice("\($0)") }
        do {
            if backend == .kernel {
                // Before anything is mounted: a host without the interfaces is refused here.
                return try Assembly.kernel(root: kernelRoot, guests: Guests.catalogue) { logger.error("kernel: \($0)") }
            }
            guard sysroot != nil else {
                return try Assembly.plain(try providerOptions.descriptors(), state: daemonOptions.state, log: log)
            }
            let providers = try providerOptions.descriptors(defaults: Guests.catalogue.sysrootProviders(guestOptions.definition))
            return try Assembly.sysroot(try guestOptions.spec(providers: providers, faults: daemonOptions.injectFaults), state: daemonOptions.state, log: log)
        } catch let error as AssemblyError {
            throw Failure(error.description)
        } catch let error as ProviderSelection.Failure {
            throw Failure(error.description)
        } catch let error as GuestOptionError {
            throw Failure(error.description)
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
