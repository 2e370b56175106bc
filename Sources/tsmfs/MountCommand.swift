import ArgumentParser
import Glibc
import TSMBackends
import TSMDaemon
import TSMGuests

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

    @Option(
        help: ArgumentHelp(
            """
            Serve a guest's paths relative to / under DIR instead: sys/kernel/tsm, sys/kernel/config/tsm/report, \
            and the merged-kernel measurements devices.
            """,
            valueName: "DIR"))
    var sysroot: String?

    @Option(
        help: ArgumentHelp(
            """
            What stands behind the registers: software (an in-memory model) or kernel (a real TDX or SEV-SNP \
            guest's kernel interfaces under --kernel-root).
            """,
            valueName: "KIND"))
    var backend: BackendKind = .software

    @Option(
        name: .customLong("kernel-root"),
        help: ArgumentHelp(
            """
            With --backend kernel: where the kernel's files are (sys/devices/virtual/misc/tdx_guest/measurements, \
            sys/kernel/config/tsm/report, dev/tdx_guest).
            """,
            valueName: "PATH"))
    var kernelRoot: String = "/"

    @Option(
        help: ArgumentHelp(
            """
            The control socket for `tsmfs ctl`, an absolute path (default: NAME-HASH.sock for the mount point's \
            absolute path, in /run/tsmfs as root, else $XDG_RUNTIME_DIR/tsmfs or /tmp/tsmfs-UID).
            """,
            valueName: "PATH"))
    var control: String?

    @OptionGroup var daemonOptions: DaemonOptions

    @OptionGroup var guestOptions: GuestOptions

    @OptionGroup var providerOptions: ProviderOptions

    /// Set by `tsmfs exec`: serve the spec in FILE (JSON), not this command line's options.
    @Option(name: .customLong("spec"), help: .hidden)
    var specFile: String?

    /// The rules between options (MountRules), then the guest's (``GuestOptions/check()``), checked
    /// at the start of `run()`, not in `validate()`: ArgumentParser calls `validate()` before it
    /// looks for unknown options, so a misspelt option's value (`--guset tdx`) would be taken for
    /// MOUNTPOINT and refused as such; from `run()` the unknown option is named first ("did you
    /// mean"). A ValidationError thrown here is the same usage error (exit 64).
    func checkRules() throws {
        if specFile != nil { return }
        let request = MountRequest(
            mountpoint: mountpoint, sysroot: sysroot, kernelBackend: backend == .kernel, state: daemonOptions.state,
            selectsProviders: !providerOptions.providers.isEmpty || providerOptions.config != nil,
            injectsFaults: !daemonOptions.injectFaults.isEmpty, guestOptions: guestOptions.given,
            allowOther: allowOther, uid: getuid())
        if let violation = MountRules.check(request) {
            throw ValidationError(violation.description)
        }
        // The guest's own rules after: a guest option without --sysroot was refused above as such.
        try guestOptions.check()
    }

    @Flag(
        name: .customLong("allow-other"),
        help: "Let other users see the mount (needs root, or user_allow_other in /etc/fuse.conf).")
    var allowOther = false

    func run() throws {
        do {
            try checkRules()
        } catch let error as ValidationError {
            // Thrown from run(), ArgumentParser would show the root's usage: show mount's, as a
            // usage error from validate() does, and exit 64 (EX_USAGE) as it does.
            let usage = TSMFS.usageString(for: Self.self)
            let text = "Error: \(error.message)\nUsage: \(usage)\n  See 'tsmfs mount --help' for more information.\n"
            _ = text.utf8CString.withUnsafeBufferPointer { write(2, $0.baseAddress, $0.count - 1) }
            throw ExitCode.validationFailure
        }
        let spec = try self.spec()
        do throws(Daemon.RunFailure) {
            try Daemon.run(spec, guests: Guests.catalogue)
        } catch .daemon(.loopFailed) {
            // The daemon logged it.
            throw ExitCode.failure
        } catch {
            throw Failure(error.description)
        }
    }

    /// What to serve: the spec file exec wrote, or this command line's options.
    func spec() throws -> DaemonSpec {
        if let specFile {
            do {
                return try DaemonSpec.read(specFile)
            } catch {
                throw Failure(error.description)
            }
        }
        let source: DaemonSpec.Source = backend == .kernel ? .kernel : sysroot == nil ? .plain : .sysroot
        var spec = daemonOptions.spec(
            source, mountpoint: mountpoint ?? sysroot ?? "", guest: guestOptions,
            providers: providerOptions, defaultLevel: .notice)
        spec.kernelRoot = kernelRoot
        spec.daemon = DaemonConfiguration(
            allowOther: allowOther, pageCache: daemonOptions.pageCache, controlSocket: control)
        return spec
    }
}

/// A fatal, user-facing error: printed as `tsmfs: error: ...`, exit status 1.
struct Failure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// `--backend`: what stands behind the registers of a plain mount.
enum BackendKind: String, ExpressibleByArgument {
    case software, kernel
}

extension FaultSpec: ExpressibleByArgument {
    public init?(argument: String) {
        self.init(parsing: argument)
    }
}
