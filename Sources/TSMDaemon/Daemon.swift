import CLinux
import FuseKit
import Glibc
import Logging
import SystemPackage
import TSMBackends
import TSMControl
import TSMGuest
import TSMHost
import TSMTree

/// How a daemon serves what it was given: the mount's options, its control socket, the process
/// it ends with.
public struct DaemonConfiguration: Sendable, Equatable, Codable {
    /// Let other users see the mount (FUSE's allow_other).
    public var allowOther: Bool
    /// Serve register files from the kernel's page cache, dropped on every change.
    public var pageCache: Bool
    /// The control socket (`--control`, absolute); nil: the mount point's default.
    public var controlSocket: String?
    /// Set by `tsmfs exec`: end with this process, and detach its bind mounts before unmounting.
    public var exitWithParent: Int32?

    public init(
        allowOther: Bool = false, pageCache: Bool = true, controlSocket: String? = nil, exitWithParent: Int32? = nil
    ) {
        self.allowOther = allowOther
        self.pageCache = pageCache
        self.controlSocket = controlSocket
        self.exitWithParent = exitWithParent
    }

    /// The FUSE mount options.
    public var mountOptions: [String] {
        ["fsname=tsmfs", "subtype=tsmfs", "default_permissions"] + (allowOther ? ["allow_other"] : [])
    }

    /// The control socket's path: `controlSocket`, which must be absolute, or the default of
    /// `mountpoint` (which must exist: the default names its canonical path).
    public func controlSocketPath(mountpoint: String) throws(ControlSocketPath.Problem) -> String {
        guard let explicit = controlSocket else { return try ControlSocketPath.defaultPath(for: mountpoint) }
        try ControlSocketPath.checkExplicit(explicit)
        return explicit
    }
}

/// Why a daemon could not start, or ended badly. The description is the user-facing message.
public enum DaemonError: Error, CustomStringConvertible {
    /// The process to end with (`DaemonConfiguration.exitWithParent`) is not the parent any more.
    case parentGone(Int32)
    case mountPoint(MountPoint.Problem)
    case controlSocket(ControlSocketPath.Problem)
    case fuse(FuseError)
    case controlServer(ControlServer.Failure)
    /// The FUSE loop failed after serving; already logged, and everything is unmounted.
    case loopFailed(Errno)

    public var description: String {
        switch self {
        case .parentGone(let parent): "the tsmfs exec that started this daemon (pid \(parent)) is gone"
        case .mountPoint(let problem): problem.description
        case .controlSocket(let problem): problem.description
        case .fuse(let error): error.description
        case .controlServer(let failure): failure.description
        case .loopFailed(let errno): "the FUSE loop ended with \(errno)"
        }
    }
}

/// The mount lifecycle: prepare the mount point, mount, serve the control socket, say so (log
/// and systemd), serve until a signal or an outside unmount, then undo it all.
public enum Daemon {
    /// Ends this process (SIGTERM) when `parent` does; fails if it already has.
    public static func watchParent(_ parent: Int32) throws(DaemonError) {
        // The signal fires when the parent's spawning thread exits; checked after it is set,
        // so a parent that died before cannot be missed.
        guard clinux_set_parent_death_signal(SIGTERM) == 0, getppid() == parent else { throw .parentGone(parent) }
    }

    /// Serves `served` at `mountpoint` in the foreground until SIGTERM, SIGINT, SIGHUP or an
    /// outside unmount, then unmounts. Call `watchParent` first when `exitWithParent` is set.
    public static func serve(
        _ served: Served, at mountpoint: String, configuration: DaemonConfiguration,
        logger: Logger
    ) throws(DaemonError) {
        // What the mount started beside the tree (a vTPM) stops once the tree is unmounted, or
        // when the mount fails.
        defer { served.stop() }
        let filesystem = TSMFileSystem(tree: served.tree, time: Int64(Glibc.time(nil)), owner: (getuid(), getgid()))
        do throws(MountPoint.Problem) {
            switch try MountPoint.prepare(mountpoint) {
            case .created: logger.info("created mount point \(mountpoint)")
            case .clearedStale: logger.notice("cleared a stale mount at \(mountpoint) (its daemon had died)")
            case .ready: break
            }
        } catch {
            throw .mountPoint(error)
        }
        // Checked before anything is mounted: a mount never runs without the socket ctl expects.
        let controlPath = try controlSocketPath(
            configuration, mountpoint: mountpoint, controlled: served.operations != nil)

        let session: FuseSession
        let method: MountMethod
        do throws(FuseError) {
            session = try FuseSession(filesystem: filesystem, options: configuration.mountOptions, maxRead: 4096)
            // Register files from the kernel's page cache, dropped on every change (DECISIONS.md,
            // "Page cache for register files").
            if configuration.pageCache { filesystem.servePageCache(session.inodeInvalidator) }
            // Before the mount: a signal from here on ends the loop cleanly (even before it starts)
            // instead of killing the process and leaving a stale mount behind.
            session.ownSignals()
            method = try session.mount(at: mountpoint)
        } catch {
            throw .fuse(error)
        }
        var control: ControlServer?
        if let operations = served.operations, let path = controlPath {
            do throws(ControlServer.Failure) {
                control = try ControlServer(path: path, dispatcher: dispatcher(operations, filesystem, session, logger))
            } catch {
                session.unmount()
                throw .controlServer(error)
            }
        }
        // A stop first closes the control socket, while the FUSE loop still answers the READs
        // that a change's page drops wait for (DECISIONS.md, "A stop that cannot hang").
        if let control { session.beforeStop { control.stop() } }
        // Said before READY=1: whoever waits for READY=1 (systemd, the tests) finds the line logged.
        logger.notice("\(servingLine(served.summary, at: mountpoint, method: method, controlSocket: control?.path))")
        SystemdNotifier.notify("READY=1\nSTATUS=serving \(mountpoint)")

        // A write waits in its worker for the READs in flight on the pages it drops: more workers
        // than libfuse's 10 (DECISIONS.md, "Page cache").
        let end = session.run(maxThreads: 128)
        // Already stopped by a signal's stop; not after an outside unmount (its drops do nothing).
        control?.stop()
        SystemdNotifier.notify("STOPPING=1")
        if configuration.exitWithParent != nil { ExecLeftovers.detachBindMounts(of: mountpoint) }
        session.unmount()
        switch end {
        case .failure(let errno):
            let error = DaemonError.loopFailed(errno)
            logger.error("\(error.description)")
            throw error
        case .signal(let number): logger.notice("stopped by signal \(number); unmounted \(mountpoint)")
        case .clean: logger.notice("stopped (unmounted from outside, or the session ended); unmounted \(mountpoint)")
        }
    }

    /// The control socket a mount at `mountpoint` listens on: none when it serves nothing
    /// `tsmfs ctl` may change (`controlled` false: the kernel backend).
    public static func controlSocketPath(
        _ configuration: DaemonConfiguration, mountpoint: String,
        controlled: Bool
    ) throws(DaemonError) -> String? {
        guard controlled else { return nil }
        do throws(ControlSocketPath.Problem) {
            return try configuration.controlSocketPath(mountpoint: mountpoint)
        } catch {
            throw .controlSocket(error)
        }
    }

    /// The daemon's one line once it serves.
    public static func servingLine(
        _ summary: String, at mountpoint: String, method: MountMethod, controlSocket: String?
    ) -> String {
        let via = method == .fusermount ? " (mounted by fusermount3)" : ""
        return "serving \(summary) at \(mountpoint)\(via)\(controlSocket.map { "; control socket \($0)" } ?? "")"
    }

    /// The control requests of a mount: the model's operations, and a reboot that drops every
    /// report entry from the filesystem and from the kernel's caches.
    static func dispatcher(
        _ operations: Operations, _ filesystem: TSMFileSystem, _ session: FuseSession,
        _ logger: Logger
    ) -> ControlDispatcher {
        let invalidator = session.invalidator
        return ControlDispatcher(
            operations: operations,
            onReboot: {
                let dropped = filesystem.dropAllItems()
                for (parent, name) in dropped { invalidator.invalidate(parent: parent, name: name) }
                return dropped.count
            }, log: { logger.notice("\($0)") })
    }
}
