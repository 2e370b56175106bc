import TSMBytes
import Glibc
import Synchronization
import SystemPackage
import Threads

/// The control socket of a running mount: a Unix stream socket, owner-only (0600), one request
/// line per connection (see `ControlRequest`) and the dispatcher's reply. This type only binds,
/// accepts and relays: one accepting thread and one thread per client (at most
/// ``maximumClients``), each with ``requestDeadline`` for its whole request line, so a silent or
/// trickling client holds up no other; requests execute one at a time. `stop()` joins them all.
///
/// The ABI tree has no control files: everything that is not the kernel's goes through here.
public final class ControlServer: Sendable {
    /// Why the socket cannot be served; the daemon then runs without it.
    public enum Failure: Error, CustomStringConvertible {
        case path(ControlSocketPath.Problem)
        case socket(Errno)
        case cannotListen(path: String, Errno)
        case cannotStartThread(Errno)

        public var description: String {
            switch self {
            case .path(let problem): problem.description
            case .socket(let errno): "control socket: \(errno)"
            case .cannotListen(let path, let errno): "cannot listen on the control socket \(path): \(errno)"
            case .cannotStartThread(let errno): "control socket: cannot start its thread: \(errno)"
            }
        }
    }

    private struct State {
        var stopping = false
        var thread: pthread_t?
        /// The connections being served and their threads, cut and joined by `stop()`.
        var workers: [Int32: pthread_t] = [:]
        /// Threads whose connection is done, joined by the accepting thread or `stop()`.
        var finished: [pthread_t] = []
    }

    /// How long a client has to send its whole request line, however it trickles it.
    static let requestDeadline: Duration = .seconds(2)
    /// How long sending the reply may block.
    static let sendTimeout = timeval(tv_sec: 2, tv_usec: 0)
    /// The longest request line; a longer one is refused whole.
    static let maximumRequest = 8192
    /// The most clients served at once; one more is told so and closed.
    static let maximumClients = 16

    public let path: String
    private let listener: Int32
    private let dispatcher: ControlDispatcher
    private let state = Mutex(State())
    /// Requests are read concurrently and executed one at a time, in the order their lines end.
    private let executing = Mutex(())

    /// Binds and listens on `path` (replacing a socket a killed daemon left) and starts serving.
    public init(path: String, dispatcher: ControlDispatcher) throws(Failure) {
        self.path = path
        self.dispatcher = dispatcher
        do {
            try ControlSocketPath.prepare(path)
        } catch {
            throw .path(error)
        }
        guard let address = try? UnixSocketAddress(path: path) else { throw .path(.tooLong(path)) }
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw .socket(Errno(rawValue: errno)) }
        // Linux gives the node the socket inode's mode (less the umask): 0600 from its creation,
        // with no process-wide umask change while other threads run.
        let bound = fchmod(fd, 0o600) == 0 && address.withSockaddr { bind(fd, $0, $1) } == 0
        guard bound, listen(fd, 32) == 0 else {
            let error = Errno(rawValue: errno)
            close(fd)
            throw .cannotListen(path: path, error)
        }
        listener = fd
        let started = Self.startThread { [self] in serve() }
        guard case .success(let thread) = started else {
            close(fd)
            unlink(path)
            if case .failure(let error) = started { throw .cannotStartThread(error) }
            return
        }
        state.withLock { $0.thread = thread }
    }

    /// Starts a joinable thread running `body`, with SIGINT, SIGTERM, SIGHUP and SIGQUIT blocked
    /// (it inherits the mask): a stop signal must reach the thread that runs the FUSE loop. libfuse's
    /// handler only sets a flag; taken on a control thread, it leaves the loop asleep and the daemon
    /// deaf to SIGTERM (seen under load, most often right after READY=1).
    private static func startThread(_ body: @escaping @Sendable () -> Void) -> Result<pthread_t, Errno> {
        PosixThread.start(blocking: [SIGINT, SIGTERM, SIGHUP, SIGQUIT], body).mapError { Errno(rawValue: $0.code) }
    }

    /// Stops accepting, cuts the connections being read, waits for every thread (and so for a
    /// request being executed) to finish, and removes the socket. Idempotent.
    public func stop() {
        // shutdown(), not close(): on Linux closing a listening socket does not wake accept().
        let thread = state.withLock { state -> pthread_t? in
            guard !state.stopping else { return nil }
            state.stopping = true
            shutdown(listener, Int32(SHUT_RDWR))
            for connection in state.workers.keys { shutdown(connection, Int32(SHUT_RDWR)) }
            defer { state.thread = nil }
            return state.thread
        }
        guard let thread else { return }
        pthread_join(thread, nil)
        // The accepting thread has ended: no worker is added any more.
        let workers = state.withLock { state in
            defer { state.finished = [] }
            return Array(state.workers.values) + state.finished
        }
        for worker in workers { pthread_join(worker, nil) }
        close(listener)
        unlink(path)
    }

    private func serve() {
        while true {
            let connection = accept(listener, nil, nil)  // accept4 is not in Glibc's Swift overlay
            joinFinished()
            if connection < 0 {
                let transient = [EINTR, ECONNABORTED, EMFILE, ENFILE, ENOBUFS, ENOMEM].contains(errno)
                if transient && !state.withLock({ $0.stopping }) {
                    if errno != EINTR && errno != ECONNABORTED { usleep(100_000) }  // out of descriptors
                    continue
                }
                return  // shut down by stop()
            }
            _ = fcntl(connection, F_SETFD, FD_CLOEXEC)
            var timeout = Self.sendTimeout
            setsockopt(connection, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            let admitted = state.withLock { state -> Bool? in
                guard !state.stopping else { return nil }
                return state.workers.count < Self.maximumClients
            }
            guard let admitted else {
                close(connection)
                return
            }
            guard admitted else {
                reply(.error("too many control clients (\(Self.maximumClients) at once); try again"), on: connection)
                close(connection)
                continue
            }
            // The worker registers itself under the lock its removal takes, so stop() sees it.
            state.withLock { current in
                let started = Self.startThread { [self] in
                    serveConnection(connection)
                    state.withLock { done in
                        if let me = done.workers.removeValue(forKey: connection) { done.finished.append(me) }
                    }
                    close(connection)
                }
                switch started {
                case .success(let thread): current.workers[connection] = thread
                case .failure: close(connection)
                }
            }
        }
    }

    /// Joins the threads whose connections are done.
    private func joinFinished() {
        let finished = state.withLock { state in
            defer { state.finished = [] }
            return state.finished
        }
        for thread in finished { pthread_join(thread, nil) }
    }

    /// Reads one request line within ``requestDeadline`` and answers it.
    private func serveConnection(_ connection: Int32) {
        let request = readLine(connection, until: ContinuousClock.now + Self.requestDeadline)
        // A line cut short by stop() is not executed.
        guard !state.withLock({ $0.stopping }) else { return }
        let answer: ControlReply
        switch request {
        case .line(let line): answer = executing.withLock { _ in dispatcher.reply(to: line) }
        case .silent:
            answer = .error("no whole request line within \(Self.requestDeadline.components.seconds) seconds")
        case .tooLong: answer = .error("request longer than \(Self.maximumRequest) bytes; nothing done")
        }
        reply(answer, on: connection)
    }

    private func reply(_ answer: ControlReply, on connection: Int32) {
        Array(answer.text.utf8).withUnsafeBytes {
            _ = send(connection, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL))
        }
    }

    /// What one connection sent.
    enum Request: Equatable {
        case line(String)
        /// Nothing within the timeout.
        case silent
        /// No newline within ``maximumRequest`` bytes.
        case tooLong
    }

    /// The first line the client sends (up to a newline or the end of its data) before
    /// `deadline`, or why there is none: the deadline is for the whole line, not each recv.
    private func readLine(_ fd: Int32, until deadline: ContinuousClock.Instant) -> Request {
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1024)
        while !bytes.contains(UInt8(ascii: "\n")) {
            let left = deadline - ContinuousClock.now
            guard left > .zero else { return .silent }
            let (seconds, attoseconds) = left.components
            var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let ready = poll(&poller, 1, Int32(seconds * 1000 + attoseconds / 1_000_000_000_000_000 + 1))
            if ready < 0 && errno == EINTR { continue }
            if ready == 0 { return .silent }
            let count = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
            if count < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK) { continue }
            if count <= 0 { break }
            bytes += chunk[0..<count]
            if bytes.count > Self.maximumRequest && !bytes.prefix(Self.maximumRequest + 1).contains(UInt8(ascii: "\n"))
            {
                return .tooLong
            }
        }
        let line =
            bytes.split(separator: UInt8(ascii: "\n"), maxSplits: 1, omittingEmptySubsequences: false).first ?? []
        return .line(String(decoding: line, as: UTF8.self))
    }
}
