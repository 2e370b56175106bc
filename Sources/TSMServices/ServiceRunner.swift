import Dispatch
import Glibc
import Hummingbird
import Logging
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

        /// What is wrong, with an example of what is right.
        public var description: String {
            switch self {
            case .malformed(let text):
                return "listen address \"\(text)\" is not ADDR:PORT (e.g. 127.0.0.1:8081 or [::1]:8081)"
            case .badPort(let text): return "listen port \"\(text)\" is not 0 to 65535"
            }
        }
    }

    /// A host and port as given.
    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// Parses `ADDR:PORT` or `[IPv6]:PORT`; at most 300 characters.
    public init(parsing text: String) throws(ParseError) {
        guard text.utf8.count <= 300, let colon = text.lastIndex(of: ":") else { throw .malformed(text) }
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
/// SIGINT. Logs go to stderr.
public enum ServiceRunner {
    /// Serves `router` at `address` until SIGTERM or SIGINT.
    public static func run(name: String, router: Router<BasicRequestContext>, address: ListenAddress) async throws {
        var logger = Logger(label: "tsmfs \(name)")
        logger.logLevel = .warning
        let app = Application(
            router: router,
            configuration: .init(address: .hostname(address.host, port: address.port), serverName: "tsmfs-\(name)"),
            onServerRunning: { channel in
                let port = channel.localAddress?.port ?? address.port
                let bound = ListenAddress(host: address.host, port: port)
                // One write(2), not print: stdout may be a file or pipe, where print would buffer.
                let line = Array("tsmfs \(name): ready on http://\(bound)\n".utf8)
                _ = line.withUnsafeBytes { write(STDOUT_FILENO, $0.baseAddress, $0.count) }
            },
            logger: logger)
        try await app.runService(gracefulShutdownSignals: [.sigterm, .sigint])
    }
}

extension ServiceRunner {
    /// Runs the service on the concurrency pool and waits for it on this thread, so that the
    /// synchronous command line keeps its threads and signals as they were. The error, if any,
    /// comes back as its description.
    /// `makeRouter` builds the routes on the pool (a router is not Sendable).
    public static func runBlocking(
        name: String, address: ListenAddress,
        makeRouter: @escaping @Sendable () -> Router<BasicRequestContext>
    ) throws(ServiceFailure) {
        final class Outcome: Sendable {
            let error = Mutex<String?>(nil)
        }
        let outcome = Outcome()
        let done = DispatchSemaphore(value: 0)
        Task.detached {
            do { try await run(name: name, router: makeRouter(), address: address) } catch {
                outcome.error.withLock { $0 = "\(error)" }
            }
            done.signal()
        }
        done.wait()
        if let error = outcome.error.withLock({ $0 }) { throw ServiceFailure(description: error) }
    }
}

/// Why a local service stopped with an error.
public struct ServiceFailure: Error, CustomStringConvertible {
    public let description: String
}
