import TSMBytes
import Glibc
import Synchronization
import SystemPackage

/// The control socket of a running mount: a Unix stream socket, owner-only (0600), one request
/// line per connection (see `ControlRequest`) and the dispatcher's reply. This type only binds,
/// accepts and relays, on one thread of its own that `stop()` joins.
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
        /// The connection being served, shut down by `stop()` so that it cannot hold the thread.
        var connection: Int32?
        var thread: pthread_t?
    }

    /// A silent client is dropped after this long, so it cannot keep others (or `stop()`) waiting.
    static let connectionTimeout = timeval(tv_sec: 2, tv_usec: 0)
    /// The longest request line; a longer one is refused whole.
    static let maximumRequest = 8192

    public let path: String
    private let listener: Int32
    private let dispatcher: ControlDispatcher
    private let state = Mutex(State())

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
        guard bound, listen(fd, 8) == 0 else {
            let error = Errno(rawValue: errno)
            close(fd)
            throw .cannotListen(path: path, error)
        }
        listener = fd
        var thread = pthread_t()
        let context = Unmanaged.passRetained(self).toOpaque()
        let started = pthread_create(
            &thread, nil,
            { context in
                guard let context else { return nil }
                Unmanaged<ControlServer>.fromOpaque(context).takeRetainedValue().serve()
                return nil
            }, context)
        guard started == 0 else {
            Unmanaged<ControlServer>.fromOpaque(context).release()
            close(fd)
            unlink(path)
            throw .cannotStartThread(Errno(rawValue: started))
        }
        state.withLock { $0.thread = thread }
    }

    /// Stops accepting, cuts the connection being read, waits for the thread (and so for a request
    /// being executed) to finish, and removes the socket. Idempotent.
    public func stop() {
        // shutdown(), not close(): on Linux closing a listening socket does not wake accept().
        let thread = state.withLock { state -> pthread_t? in
            guard !state.stopping else { return nil }
            state.stopping = true
            shutdown(listener, Int32(SHUT_RDWR))
            if let connection = state.connection { shutdown(connection, Int32(SHUT_RDWR)) }
            defer { state.thread = nil }
            return state.thread
        }
        guard let thread else { return }
        pthread_join(thread, nil)
        close(listener)
        unlink(path)
    }

    private func serve() {
        while true {
            let connection = accept(listener, nil, nil)  // accept4 is not in Glibc's Swift overlay
            if connection < 0 {
                if (errno == EINTR || errno == ECONNABORTED) && !state.withLock({ $0.stopping }) { continue }
                return  // shut down by stop()
            }
            let admitted = state.withLock { state in
                if !state.stopping { state.connection = connection }
                return !state.stopping
            }
            guard admitted else {
                close(connection)
                return
            }
            _ = fcntl(connection, F_SETFD, FD_CLOEXEC)
            var timeout = Self.connectionTimeout
            setsockopt(connection, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            setsockopt(connection, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            let request = readLine(connection)
            // A line cut short by stop() is not executed.
            if !state.withLock({ $0.stopping }) {
                let reply: ControlReply
                switch request {
                case .line(let line): reply = dispatcher.reply(to: line)
                case .silent: reply = .error("no request within \(Self.connectionTimeout.tv_sec) seconds")
                case .tooLong: reply = .error("request longer than \(Self.maximumRequest) bytes; nothing done")
                }
                Array(reply.text.utf8).withUnsafeBytes {
                    _ = send(connection, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL))
                }
            }
            state.withLock { $0.connection = nil }
            close(connection)
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

    /// The first line the client sends (up to a newline or the end of its data), or why there is
    /// none.
    private func readLine(_ fd: Int32) -> Request {
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1024)
        while !bytes.contains(UInt8(ascii: "\n")) {
            let count = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count < 0 && errno == EINTR { continue }
            if count < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) && bytes.isEmpty { return .silent }
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
