import CFuse
import Glibc
import SystemPackage

/// Why a session could not be set up.
public enum FuseError: Error, Equatable, CustomStringConvertible {
    /// `fuse_session_new` refused the options (it has printed why).
    case sessionRefused(options: [String])
    /// `fuse_session_mount` failed (it has printed why).
    case mountFailed(path: String)
    /// No `fusermount3` is on PATH to mount for this (non-root) user; whether /dev/fuse refused
    /// them too (the errno), nil when it did not.
    case fusermountMissing(path: String, device: Errno?)
    /// `fusermount3` ran but did not hand back a mounted /dev/fuse descriptor; why.
    case fusermountFailed(path: String, reason: String)
    /// /dev/fuse refuses this user (the errno) and so did `fusermount3` (why): it opens the device
    /// with its caller's permissions, so only root can use FUSE on this machine.
    case deviceClosed(path: String, device: Errno, reason: String)
    /// A mount option that cannot be passed to `fusermount3` (empty, a comma or NUL, too long).
    case badMountOption(String)
    /// The thread that stops the session (and its pipe) could not be made; the errno.
    case stopper(Errno)

    public var description: String {
        switch self {
        case .sessionRefused(let options): return "libfuse refused the session options \(options)"
        case .mountFailed(let path): return "could not mount on \(path)"
        case .fusermountMissing(let path, let device):
            let closed = device.map { "/dev/fuse cannot be opened (\($0)) and " } ?? "an ordinary user mounts through "
            return
                "cannot mount on \(path) as uid \(getuid()): \(closed)\(Fusermount.program), "
                + "which mounts for ordinary users, "
                + "is not on PATH; install fuse3 (it provides the setuid \(Fusermount.program)) or mount as root"
        case .fusermountFailed(let path, let reason):
            return "\(Fusermount.program) could not mount on \(path): \(reason)"
        case .deviceClosed(let path, let device, let reason):
            return
                "cannot mount on \(path) as uid \(getuid()): /dev/fuse refuses this user (\(device)), "
                + "and \(Fusermount.program) "
                + "too, since it opens the device with its caller's permissions (\(reason)); "
                + "only root can use FUSE here: "
                + "make /dev/fuse mode 0666 (udev's default) or mount as root"
        case .badMountOption(let option): return "mount option '\(option)' cannot be passed to \(Fusermount.program)"
        case .stopper(let errno): return "cannot start the thread that stops the FUSE session: \(errno)"
        }
    }
}

/// One libfuse low-level session: `fuse_session_new`, `_mount`, `_loop_mt`, `_unmount`, `_destroy`.
///
/// The session owns SIGINT, SIGTERM and SIGHUP once ``ownSignals()`` is called: each makes ``run()``
/// return, as ``exit()`` does, through a stop that lets every cache invalidation in flight finish
/// before the workers go (``SessionStopper``). Cleanup in `deinit` unwinds in reverse order: mount,
/// signal handlers, the stopper's thread, session, context. Use it from one thread; the filesystem
/// it serves is called from libfuse's workers.
public final class FuseSession {
    private let session: OpaquePointer
    private let context: Unmanaged<SessionContext>
    /// What invalidators reach the session through; closed before the session goes.
    private let handle: SessionHandle
    private var isMounted = false
    /// The `-o` options as given (with `max_read`): what `fusermount3` must pass to the kernel,
    /// since libfuse does not when it is handed a descriptor.
    private let mountOptions: [String]
    /// Set when `fusermount3` mounted: the real mount point and the helper that unmounts it.
    private var fusermounted: (mountpoint: String, executable: String)?
    /// The thread that stops the loop on ``exit()`` or a signal.
    private let stopper: SessionStopper
    private var ownsSignals = false
    /// Whether ``ownSignals()`` found SIGPIPE at its default and so handles it until ``unmount()``.
    private var ownsPipeSignal = false

    /// - Parameter options: `-o` options, e.g. `fsname=tsmfs`, `default_permissions`.
    /// - Parameter maxRead: the largest READ the kernel sends (`max_read`), 0 for libfuse's
    ///   default. The kernel pins that much of a direct-I/O reader's buffer per request.
    public init(filesystem: any FileSystemOperations, options: [String], maxRead: UInt32 = 0) throws(FuseError) {
        var args = cfuse_args_init()
        fuse_opt_add_arg(&args, "tsmfs")
        let options = maxRead > 0 ? options + ["max_read=\(maxRead)"] : options
        for option in options {
            fuse_opt_add_arg(&args, "-o")
            fuse_opt_add_arg(&args, option)
        }
        defer { fuse_opt_free_args(&args) }
        var ops = makeLowLevelOperations()
        let context = Unmanaged.passRetained(SessionContext(filesystem: filesystem, maxRead: maxRead))
        guard let session = fuse_session_new(&args, &ops, MemoryLayout<fuse_lowlevel_ops>.size, context.toOpaque())
        else {
            context.release()
            throw .sessionRefused(options: options)
        }
        let handle = SessionHandle(session)
        do {
            stopper = try SessionStopper(session: session, handle: handle)
        } catch {
            fuse_session_destroy(session)
            context.release()
            throw error
        }
        self.session = session
        self.mountOptions = options
        self.context = context
        self.handle = handle
    }

    /// Mounts the session. The mount is visible to every process when this returns.
    ///
    /// Root mounts directly (libfuse's `fuse_session_mount`). Any other user mounts through
    /// `fusermount3` from PATH, which passes the device back (see ``Fusermount``): libfuse tries
    /// the helper only after opening /dev/fuse itself and seeing `mount(2)` refused, and, handed
    /// the device as `/dev/fd/N`, neither mounts nor unmounts, so the options go to the helper
    /// here and ``unmount()`` runs `fusermount3 -u`. When the helper fails and /dev/fuse refuses
    /// the user too, the error says that only root can use FUSE on this machine.
    @discardableResult
    public func mount(at path: String) throws(FuseError) -> MountMethod {
        guard geteuid() != 0 else {
            guard fuse_session_mount(session, path) == 0 else { throw .mountFailed(path: path) }
            isMounted = true
            return .direct
        }
        guard let executable = Fusermount.locate(searchPath: getenv("PATH").map { String(cString: $0) }) else {
            throw .fusermountMissing(path: path, device: Self.deviceDenied())
        }
        let fd: Int32
        do {
            // fusermount3 forces nosuid and nodev for users; libfuse asks for them too.
            fd = try Fusermount.mount(path, options: ["nosuid", "nodev"] + mountOptions, executable: executable)
        } catch {
            if case .fusermountFailed(_, let reason) = error, let denied = Self.deviceDenied() {
                throw .deviceClosed(path: path, device: denied, reason: reason)
            }
            throw error
        }
        guard fuse_session_mount(session, "/dev/fd/\(fd)") == 0 else {
            close(fd)
            Fusermount.unmount(path, executable: executable)
            throw .mountFailed(path: path)
        }
        fusermounted = (path, executable)
        isMounted = true
        return .fusermount
    }

    /// Why this process cannot open /dev/fuse for read and write, when that is a matter of
    /// permission; nil when it can, or when the failure is another (libfuse reports those).
    static func deviceDenied() -> Errno? {
        let fd = open("/dev/fuse", O_RDWR | O_CLOEXEC)
        if fd >= 0 {
            close(fd)
            return nil
        }
        let error = Errno(rawValue: errno)
        return error == .permissionDenied || error == .notPermitted ? error : nil
    }

    /// Makes SIGINT, SIGTERM and SIGHUP end ``run()`` as ``exit()`` does, and ``run()`` report
    /// the first of them. The handlers are set whatever the signals' dispositions were (a shell
    /// starts background jobs with SIGINT ignored), and the signals are unblocked: a parent may
    /// have left them blocked, and the mask survives exec. SIGPIPE, when at its default, is
    /// caught and dropped, as libfuse's `fuse_set_signal_handlers` did. libfuse's handlers are not
    /// used: they end the loop at once (DECISIONS.md, "A stop that cannot hang").
    public func ownSignals() {
        guard !ownsSignals else { return }
        ownsPipeSignal = stopper.ownSignals()
        ownsSignals = true
    }

    /// Serves requests on a pool of worker threads (`fuse_session_loop_mt`) until a signal,
    /// ``exit()`` or an outside unmount, and says which of them ended it. When it returns, the
    /// invalidators do nothing any more: no worker is left to answer a READ a drop would wait for.
    ///
    /// - Parameter maxThreads: the most workers at once (libfuse's default is 10). A worker that
    ///   invalidates cached pages waits for the READs in flight on them, which need another
    ///   worker: the pool must outgrow the requests that may wait so.
    @discardableResult
    public func run(maxIdleThreads: UInt32 = 8, maxThreads: UInt32 = 10) -> LoopExit {
        guard let config = fuse_loop_cfg_create() else { return .failure(.noMemory) }
        defer { fuse_loop_cfg_destroy(config) }
        fuse_loop_cfg_set_clone_fd(config, 0)
        fuse_loop_cfg_set_max_threads(config, max(maxThreads, maxIdleThreads))
        fuse_loop_cfg_set_idle_threads(config, maxIdleThreads)
        stopper.enterLoop()
        let status = cfuse_session_loop_mt(session, config)
        stopper.leaveLoop()
        handle.shut()
        let signal = stopper.signal.load(ordering: .acquiring)
        return status == 0 && signal != 0 ? .signal(signal) : LoopExit(libfuseStatus: status)
    }

    /// What another thread may use to tell the kernel to forget names the filesystem removed on
    /// its own (not through a request). Safe to keep and call after the session is gone: from
    /// the start of a stop (``exit()``, a signal, the loop's end) on, it does nothing.
    public var invalidator: EntryInvalidator { EntryInvalidator(handle) }

    /// What a filesystem uses to drop an inode's cached pages when its contents change on their
    /// own; like ``invalidator``, it does nothing from the start of a stop on.
    public var inodeInvalidator: InodeInvalidator { InodeInvalidator(handle) }

    /// Asks ``run()`` to return, and returns at once; safe from any thread, a request handler
    /// included. The stop waits for the invalidations in flight (their READs are still answered),
    /// makes later ones do nothing, then ends the loop, also when no request is coming.
    public func exit() {
        stopper.requestExit()
    }

    /// Sets what a stop (``exit()`` or a signal) runs first, on the stopping thread, while the loop
    /// still answers and before the invalidators are cut off: the place to stop whatever else
    /// changes the files (a control socket), so that every change it acknowledged was invalidated.
    /// Not run when the loop ends otherwise (an outside unmount); replaces an earlier one.
    public func beforeStop(_ body: @escaping @Sendable () -> Void) {
        stopper.beforeStop(body)
    }

    /// Unmounts now (idempotent). `deinit` does it too. Invalidators are cut off first (waiting
    /// for one in flight; after ``run()`` returned none can start), so none writes to the
    /// session's descriptor once it is closed. The
    /// signal handlers go only after the mount: a second SIGTERM during shutdown must not kill the
    /// process with the mount still up.
    public func unmount() {
        handle.close()
        if isMounted {
            if let (mountpoint, executable) = fusermounted {
                // libfuse knows no mount point here. A connection that polls POLLERR is gone
                // already (an outside unmount ended the loop): nothing is left to unmount.
                var poll = pollfd(fd: fuse_session_fd(session), events: 0, revents: 0)
                let gone = Glibc.poll(&poll, 1, 0) == 1 && poll.revents & Int16(POLLERR) != 0
                if !gone { Fusermount.unmount(mountpoint, executable: executable) }
                fusermounted = nil
            } else {
                fuse_session_unmount(session)
            }
            isMounted = false
        }
        if ownsSignals {
            stopper.disownSignals(restoringPipe: ownsPipeSignal)
            ownsSignals = false
        }
    }

    deinit {
        unmount()
        stopper.finish()
        fuse_session_destroy(session)
        context.release()
    }
}

/// How ``FuseSession/mount(at:)`` mounted.
public enum MountMethod: Equatable, Sendable {
    /// Root: libfuse mounted with `mount(2)`.
    case direct
    /// Not root: `fusermount3` mounted and passed the device back.
    case fusermount
}

/// How ``FuseSession/run(maxIdleThreads:)`` ended: libfuse's loop result (0, a signal number, or a
/// negative errno), typed.
public enum LoopExit: Equatable, Sendable {
    /// ``FuseSession/exit()`` or an outside unmount ended the loop.
    case clean
    /// A signal the session owns (``FuseSession/ownSignals()``) ended it; its number (the first).
    case signal(Int32)
    /// The loop failed, e.g. ENOMEM when its threads could not be made.
    case failure(Errno)

    /// Reads `fuse_session_loop_mt`'s result: 0, a positive signal number, or -errno.
    init(libfuseStatus status: Int32) {
        if status == 0 {
            self = .clean
        } else if status > 0 {
            self = .signal(status)
        } else {
            self = .failure(Errno(rawValue: status == Int32.min ? EIO : -status))
        }
    }
}
