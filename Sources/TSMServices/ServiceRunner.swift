import Dispatch
import Glibc
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import Synchronization

/// Where a local service listens: `ADDR:PORT`, loopback by default.
public struct ListenAddress: Sendable, Equatable, CustomStringConvertible {
    /// The IPv4 or IPv6 address (no brackets) or host name.
    public let host: String
    /// The TCP port; 0 lets the kernel pick one (the ready line says which).
    public let port: Int

    /// Why a listen address is refused.
    public enum ParseError: Error, Equatable, CustomStringConvertible {
        /// Not `ADDR:PORT`.
        case malformed(String)
        /// The port is not a number from 0 to 65535.
        case badPort(String)
        /// Longer than ``ListenAddress/maximumLength`` bytes.
        case tooLong(Int)

        /// What is wrong, with an example of what is right.
        public var description: String {
            switch self {
            case .malformed(let text):
                return "listen address \"\(text)\" is not ADDR:PORT (e.g. 127.0.0.1:8081 or [::1]:8081)"
            case .badPort(let text): return "listen port \"\(text.prefix(40))\" is not a number from 0 to 65535"
            case .tooLong(let length):
                return "listen address of \(length) bytes is longer than \(ListenAddress.maximumLength)"
            }
        }
    }

    /// A host and port as given.
    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// The longest `ADDR:PORT` accepted, in bytes.
    public static let maximumLength = 300

    /// Parses `ADDR:PORT` or `[IPv6]:PORT`; at most ``maximumLength`` bytes.
    public init(parsing text: String) throws(ParseError) {
        guard text.utf8.count <= Self.maximumLength else { throw .tooLong(text.utf8.count) }
        guard let colon = text.lastIndex(of: ":") else { throw .malformed(text) }
        var host = String(text[..<colon])
        let portText = String(text[text.index(after: colon)...])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty, !host.contains(where: { $0 == "[" || $0 == "]" || $0 == " " }) else {
            throw .malformed(text)
        }
        guard let port = Int(portText), (0...65_535).contains(port) else { throw .badPort(portText) }
        self.host = host
        self.port = port
    }

    /// `ADDR:PORT`, an IPv6 address in brackets.
    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}

/// Runs a Hummingbird router as a local service the way every tsmfs service runs: bound to
/// one address, one line `tsmfs NAME: ready on http://ADDR:PORT` on stdout (flushed, with the
/// port the kernel picked) once it accepts connections, and a graceful stop on SIGTERM or
/// SIGINT. Logs go to stderr. Connections are held to `limits` (``ServiceLimits``): idle ones
/// closed, at most so many at once, accept paused when descriptors run out.
public enum ServiceRunner {
    /// Serves `router` at `address` until SIGTERM or SIGINT.
    public static func run(
        name: String, router: Router<BasicRequestContext>, address: ListenAddress, limits: ServiceLimits
    ) async throws(ServiceFailure) {
        var logger = Logger(label: "tsmfs \(name)")
        logger.logLevel = .warning
        let ready = Mutex(false)
        let app = Application(
            router: router,
            server: HTTPServerBuilder { responder in ServiceChannel(responder: responder, limits: limits) },
            configuration: .init(
                address: .hostname(address.host, port: address.port), serverName: "tsmfs-\(name)",
                availableConnectionsDelegate: MaximumAvailableConnections(limits.maximumConnections, logger: logger)),
            onServerRunning: { channel in
                try? await channel.eventLoop.submit {
                    try channel.pipeline.syncOperations.addHandler(AcceptPauseHandler(), position: .first)
                }.get()
                let port = channel.localAddress?.port ?? address.port
                let bound = ListenAddress(host: address.host, port: port)
                ready.withLock { $0 = true }
                // One write(2), not print: stdout may be a file or pipe, where print would buffer.
                let line = Array("tsmfs \(name): ready on http://\(bound)\n".utf8)
                _ = line.withUnsafeBytes { write(STDOUT_FILENO, $0.baseAddress, $0.count) }
            },
            logger: logger)
        do {
            try await app.runService(gracefulShutdownSignals: [.sigterm, .sigint])
        } catch {
            throw ServiceFailure(error, address: address, listening: ready.withLock { $0 })
        }
    }
}

extension ServiceRunner {
    /// Runs the service on the concurrency pool and waits for it on this thread, so that the
    /// synchronous command line keeps its threads and signals as they were.
    /// `makeRouter` builds the routes on the pool (a router is not Sendable).
    public static func runBlocking(
        name: String, address: ListenAddress, limits: ServiceLimits,
        makeRouter: @escaping @Sendable () -> Router<BasicRequestContext>
    ) throws(ServiceFailure) {
        final class Outcome: Sendable {
            let error = Mutex<ServiceFailure?>(nil)
        }
        let outcome = Outcome()
        let done = DispatchSemaphore(value: 0)
        Task.detached {
            do throws(ServiceFailure) {
                try await run(name: name, router: makeRouter(), address: address, limits: limits)
            } catch {
                outcome.error.withLock { $0 = error }
            }
            done.signal()
        }
        done.wait()
        if let error = outcome.error.withLock({ $0 }) { throw error }
    }
}

/// Why a local service stopped with an error: it could not listen at its address (in use, not
/// an address of this host, a privileged port), or the server failed later.
public struct ServiceFailure: Error, CustomStringConvertible {
    public let description: String

    init(_ error: any Error, address: ListenAddress, listening: Bool) {
        var reason = "\(error)"
        if let error = error as? IOError {
            // NIO's text names its own call ("bind(descriptor:ptr:bytes:): ..."): the errno says it.
            let code = error.errnoCode
            reason = "\(String(cString: strerror(code))) (errno \(code))"
            if code == EADDRINUSE { reason += "; another process listens there: give another --listen" }
            if code == EACCES { reason += "; ports below 1024 need root" }
            if code == EADDRNOTAVAIL { reason += "; the address is not one of this host's" }
        }
        description = listening ? "the service stopped: \(reason)" : "cannot listen on \(address): \(reason)"
    }
}
