import CFuse
import Glibc
import Synchronization
import SystemPackage
import Threads

/// The write end of the pipe of the stopper that owns SIGINT, SIGTERM and SIGHUP (-1: none), for
/// the signal handler, which may only make async-signal-safe calls.
private let signalPipe = Atomic<Int32>(-1)

/// The handler of SIGINT, SIGTERM and SIGHUP: hands the signal's number to the stopper's thread.
private func forwardSignal(_ number: Int32) {
    let saved = errno
    var byte = UInt8(truncatingIfNeeded: number)
    _ = write(signalPipe.load(ordering: .acquiring), &byte, 1)
    errno = saved
}

/// SIGURG's handler: interrupts the `sem_wait` of the thread in libfuse's loop (SIGURG is ignored
/// by default, so a stray one changes nothing).
private func interrupt(_: Int32) {}

/// SIGPIPE's handler while signals are owned, as libfuse's `do_nothing`: unlike SIG_IGN, it does
/// not survive into a program the daemon executes.
private func ignoreSignal(_: Int32) {}

/// Stops a session's loop without leaving a worker stuck (DECISIONS.md, "A stop that cannot hang").
///
/// A worker dropping cached pages (``InodeInvalidator``) waits in the kernel for the READs in
/// flight on them, and a READ still queued needs another worker to take it. libfuse's own stop
/// (`fuse_session_exit`, its signal handlers) ends the workers as they come back, joins the busy
/// ones, and so waits for ever for a worker whose drop waits for a READ no worker is left to take.
/// Here a stop runs on a thread of its own, in order: (1) no drop starts any more and the ones in
/// flight finish while every worker still answers (``SessionHandle/close()``); (2)
/// `fuse_session_exit`; (3) a wake-up, since libfuse 3.14's flag is read only when a worker
/// finishes a request or a signal interrupts the loop thread's `sem_wait`: SIGURG to that thread,
/// sent again every 5 ms until the loop returns (one that lands between libfuse's check of the
/// flag and its `sem_wait` is lost). A `FUSE_NOTIFY_RETRIEVE` of the root, which would make the
/// kernel send a request, is refused (EINVAL) by Linux 6.18. Requests come through a pipe:
/// ``FuseSession/exit()`` and the signal handler only write a byte.
final class SessionStopper: Sendable {
    /// A byte on the pipe: a signal's number, or one of these.
    private static let quitByte: UInt8 = 0
    private static let exitByte: UInt8 = 255

    private struct Session: @unchecked Sendable {
        /// A `struct fuse_session *`; destroyed only after ``finish()`` joined the thread.
        let pointer: OpaquePointer
    }

    private let session: Session
    private let handle: SessionHandle
    private let readEnd: Int32
    private let writeEnd: Int32
    private let thread = Mutex<pthread_t?>(nil)
    private let quitting = Atomic<Bool>(false)
    private let stopped = Atomic<Bool>(false)
    /// The number of the signal that stopped the session; 0 for none.
    let signal = Atomic<Int32>(0)
    /// The thread in libfuse's loop (``FuseSession/run(maxIdleThreads:maxThreads:)``), while it is.
    private let runner = Mutex<pthread_t?>(nil)
    /// What runs first in a stop (``FuseSession/beforeStop(_:)``). A class: a `Mutex` of a bare
    /// closure rewraps it in a thunk on every `withLock`.
    private let hook = Mutex<Hook?>(nil)

    private final class Hook: Sendable {
        let body: @Sendable () -> Void
        init(_ body: @escaping @Sendable () -> Void) { self.body = body }
    }

    init(session: OpaquePointer, handle: SessionHandle) throws(FuseError) {
        self.session = Session(pointer: session)
        self.handle = handle
        var ends: [Int32] = [-1, -1]
        guard pipe(&ends) == 0 else { throw .stopper(Errno(rawValue: errno)) }
        for end in ends { _ = fcntl(end, F_SETFD, FD_CLOEXEC) }
        // The handler must never block; a full pipe already holds a wake-up.
        _ = fcntl(ends[1], F_SETFL, fcntl(ends[1], F_GETFL) | O_NONBLOCK)
        (readEnd, writeEnd) = (ends[0], ends[1])
        var action = sigaction()
        action.__sigaction_handler.sa_handler = interrupt
        sigemptyset(&action.sa_mask)
        action.sa_flags = 0  // no SA_RESTART: the sem_wait must return EINTR
        sigaction(SIGURG, &action, nil)
        switch PosixThread.start({ [self] in serve() }) {
        case .success(let thread): self.thread.withLock { $0 = thread }
        case .failure(let error):
            close(readEnd)
            close(writeEnd)
            throw .stopper(Errno(rawValue: error.code))
        }
    }

    /// Called by the thread about to enter libfuse's loop.
    func enterLoop() {
        var set = sigset_t()
        sigemptyset(&set)
        sigaddset(&set, SIGURG)
        pthread_sigmask(SIG_UNBLOCK, &set, nil)
        runner.withLock { $0 = pthread_self() }
    }

    /// Called by that thread once the loop returned.
    func leaveLoop() {
        runner.withLock { $0 = nil }
    }

    /// Asks for a stop; returns at once. Safe from any thread, a request handler included.
    func requestExit() { post(Self.exitByte) }

    /// Sets what a stop runs first, while the loop still answers.
    func beforeStop(_ body: @escaping @Sendable () -> Void) {
        hook.withLock { $0 = Hook(body) }
    }

    private func post(_ byte: UInt8) {
        var byte = byte
        _ = write(writeEnd, &byte, 1)
    }

    /// Sends SIGINT, SIGTERM and SIGHUP here from now on (whatever their dispositions; unblocked),
    /// and keeps SIGPIPE from killing the process as libfuse's handlers did. Returns whether
    /// SIGPIPE was at its default (and so is to be restored by ``disownSignals(restoringPipe:)``).
    func ownSignals() -> Bool {
        signalPipe.store(writeEnd, ordering: .releasing)
        var set = sigset_t()
        sigemptyset(&set)
        for number in [SIGINT, SIGTERM, SIGHUP] {
            Self.handle(number, with: forwardSignal)
            sigaddset(&set, number)
        }
        pthread_sigmask(SIG_UNBLOCK, &set, nil)
        var current = sigaction()
        guard sigaction(SIGPIPE, nil, &current) == 0, current.__sigaction_handler.sa_handler == nil else {
            return false
        }
        Self.handle(SIGPIPE, with: ignoreSignal)
        return true
    }

    /// Gives the signals back to their defaults: they kill the process again.
    func disownSignals(restoringPipe: Bool) {
        for number in [SIGINT, SIGTERM, SIGHUP] { Glibc.signal(number, SIG_DFL) }
        if restoringPipe { Glibc.signal(SIGPIPE, SIG_DFL) }
        _ = signalPipe.compareExchange(expected: writeEnd, desired: -1, ordering: .acquiringAndReleasing)
    }

    private static func handle(_ number: Int32, with handler: @escaping @convention(c) (Int32) -> Void) {
        var action = sigaction()
        action.__sigaction_handler.sa_handler = handler
        sigemptyset(&action.sa_mask)
        action.sa_flags = SA_RESTART
        sigaction(number, &action, nil)
    }

    /// The thread: waits for requests and stops on the first, then wakes the loop every 5 ms
    /// until it returned.
    private func serve() {
        var waking = false
        while !quitting.load(ordering: .acquiring) {
            var poller = pollfd(fd: readEnd, events: Int16(POLLIN), revents: 0)
            let ready = poll(&poller, 1, waking ? 5 : -1)
            if ready == 0 {
                waking = wake()
                continue
            }
            var byte: UInt8 = 0
            guard ready > 0, read(readEnd, &byte, 1) == 1 else { continue }
            guard byte != Self.quitByte else { break }
            // The first request stops; later ones (a second SIGTERM) change nothing.
            guard !stopped.exchange(true, ordering: .acquiringAndReleasing) else { continue }
            if byte != Self.exitByte { signal.store(Int32(byte), ordering: .releasing) }
            hook.withLock { $0 }?.body()
            handle.close()
            fuse_session_exit(session.pointer)
            // The flag is a plain int in libfuse: published before the signal that has it read.
            atomicMemoryFence(ordering: .sequentiallyConsistent)
            waking = wake()
        }
    }

    /// Interrupts the loop thread's wait, if a thread is in the loop; says whether one is.
    private func wake() -> Bool {
        runner.withLock { runner in
            guard let runner else { return false }
            pthread_kill(runner, SIGURG)
            return true
        }
    }

    /// Ends the thread and waits for it (a stop in progress finishes first). Idempotent.
    func finish() {
        quitting.store(true, ordering: .releasing)
        post(Self.quitByte)
        guard
            let thread = thread.withLock({ current in
                defer { current = nil }; return current
            })
        else { return }
        pthread_join(thread, nil)
        close(readEnd)
        close(writeEnd)
    }
}
