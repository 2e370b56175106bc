import CFuse
import Synchronization

/// The session pointer as other threads may use it: open until ``shut()`` or ``close()``, then
/// gone. The lock is held across each use, so ``close()`` returns only when no use is in flight
/// and none can start.
final class SessionHandle: Sendable {
    /// A `struct fuse_session *`; libfuse's notify calls are safe from any thread.
    private struct Pointer: @unchecked Sendable {
        let session: OpaquePointer
    }

    private let session: Mutex<Pointer?>
    /// Set by ``shut()``: no use starts any more, not even one already waiting for the lock.
    private let isShut = Atomic<Bool>(false)

    init(_ session: OpaquePointer) {
        self.session = Mutex(Pointer(session: session))
    }

    /// Runs `body` with the session while it is open; nil once shut.
    func withSession<Result: Sendable>(_ body: (OpaquePointer) -> Result) -> Result? {
        guard !isShut.load(ordering: .acquiring) else { return nil }
        return session.withLock { pointer in
            guard !isShut.load(ordering: .acquiring) else { return nil }
            return pointer.map { body($0.session) }
        }
    }

    /// No use starts from now on; returns at once, while a use in flight may still run.
    func shut() {
        isShut.store(true, ordering: .releasing)
    }

    /// Cuts every user off (idempotent): ``shut()``, then waits for the use in flight. Call before
    /// `fuse_session_unmount` and `_destroy`.
    ///
    /// Trap: the kernel may hold a notification in flight until a request is answered (a READ of
    /// a page it drops, a LOOKUP in a directory it drops a name of); so close while the loop still
    /// answers (the stop does, ``SessionStopper``), or once nothing can wait so.
    func close() {
        shut()
        session.withLock { $0 = nil }
    }
}

/// Tells the kernel to forget cached names (`fuse_lowlevel_notify_inval_entry`). Safe from any
/// thread and after its session is gone (then it does nothing); never call it from inside a
/// request handler: the kernel may wait for that very request.
public final class EntryInvalidator: Sendable {
    private let handle: SessionHandle

    init(_ handle: SessionHandle) {
        self.handle = handle
    }

    /// Drops `name` under `parent` from the kernel's cache. True when the kernel took the notice;
    /// false, doing nothing, once a stop began (``FuseSession/exit()``, a signal, the loop's end),
    /// or when the kernel refused it (ENOENT: nothing was cached).
    @discardableResult
    public func invalidate(parent: InodeNumber, name: String) -> Bool {
        handle.withSession { session in
            fuse_lowlevel_notify_inval_entry(session, parent.rawValue, name, name.utf8.count) == 0
        } ?? false
    }
}

/// Tells the kernel to drop an inode's cached pages and attributes
/// (`fuse_lowlevel_notify_inval_inode` over the whole file). Safe from any thread and after its
/// session is gone; from the start of a stop on it does nothing: the stop waits for the drops in
/// flight while the workers still answer their READs, and ends the workers after.
///
/// Trap: the kernel waits for the lock of every cached page, and a page stays locked while the
/// READ that fills it is in flight. So never call it while holding anything such a READ needs (a
/// lock the read handler takes), and never from a READ handler of the same inode.
public final class InodeInvalidator: Sendable {
    private let handle: SessionHandle

    init(_ handle: SessionHandle) {
        self.handle = handle
    }

    /// Drops every cached page of `inode`. True when the kernel took the notice; false, doing
    /// nothing, once a stop began, or when the kernel knows no such inode (ENOENT: nothing cached).
    @discardableResult
    public func invalidateData(_ inode: InodeNumber) -> Bool {
        handle.withSession { session in
            fuse_lowlevel_notify_inval_inode(session, inode.rawValue, 0, 0) == 0
        } ?? false
    }
}
