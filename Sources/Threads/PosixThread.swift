import Glibc

/// A POSIX thread running a Swift closure: the one home of `pthread_create` with a retained
/// context, for the threads that must be real threads (a signal mask of their own, a parent-death
/// signal tied to them, a blocking loop outside Swift concurrency's pool).
public enum PosixThread {
    /// The closure a thread runs, retained across `pthread_create` and released by the thread.
    private final class Body: Sendable {
        let run: @Sendable () -> Void
        init(_ run: @escaping @Sendable () -> Void) { self.run = run }
    }

    /// Starts a thread running `body`: joinable (`pthread_join` it) unless `detached`, with
    /// `blocking` signals blocked in it (a thread inherits its creator's mask, set around the
    /// creation here). Returns the thread, or `pthread_create`'s error number (EAGAIN, ...).
    public static func start(
        detached: Bool = false, blocking signals: [Int32] = [], _ body: @escaping @Sendable () -> Void
    ) -> Result<pthread_t, ThreadError> {
        var blocked = sigset_t(), previous = sigset_t()
        sigemptyset(&blocked)
        for signal in signals { sigaddset(&blocked, signal) }
        if !signals.isEmpty { pthread_sigmask(SIG_BLOCK, &blocked, &previous) }
        defer { if !signals.isEmpty { pthread_sigmask(SIG_SETMASK, &previous, nil) } }
        var thread = pthread_t()
        let context = Unmanaged.passRetained(Body(body)).toOpaque()
        let started = pthread_create(
            &thread, nil,
            { context in
                guard let context else { return nil }
                Unmanaged<Body>.fromOpaque(context).takeRetainedValue().run()
                return nil
            }, context)
        guard started == 0 else {
            Unmanaged<Body>.fromOpaque(context).release()
            return .failure(ThreadError(code: started))
        }
        if detached { pthread_detach(thread) }
        return .success(thread)
    }
}

/// `pthread_create`'s failure: its error number.
public struct ThreadError: Error, Equatable, Sendable {
    public let code: Int32
}
