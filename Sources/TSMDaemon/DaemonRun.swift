import Glibc
import Logging
import TSMGuest
import TSMHost

extension Daemon {
    /// Why ``run(_:guests:)`` stopped with an error.
    public enum RunFailure: Error, CustomStringConvertible {
        /// The spec cannot be served; nothing was mounted.
        case refused(DaemonSpec.Refusal)
        case daemon(DaemonError)

        public var description: String {
            switch self {
            case .refused(let refusal): refusal.description
            case .daemon(let error): error.description
            }
        }
    }

    /// `tsmfs mount` once its options are a spec: logs to stderr at the spec's level, ends with
    /// the parent the spec names, assembles what to serve from `guests` and serves it until a
    /// signal or an outside unmount. Bootstraps the process's logging: call once per process.
    public static func run(_ spec: DaemonSpec, guests: GuestCatalogue) throws(RunFailure) {
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = .trace
            return handler
        }
        var logger = Logger(label: "tsmfs")
        logger.logLevel = Logger.Level(rawValue: spec.logLevel) ?? .notice
        do throws(DaemonError) {
            if let parent = spec.daemon.exitWithParent { try watchParent(parent) }
        } catch {
            throw .daemon(error)
        }
        let served: Served
        do throws(DaemonSpec.Refusal) {
            served = try spec.assemble(
                guests: guests, log: { [logger] in logger.notice("\($0)") },
                kernelLog: { [logger] in logger.error("kernel: \($0)") },
                errorLog: { [logger] in logger.error("\($0)") })
        } catch {
            throw .refused(error)
        }
        // A daemon whose exec died (SIGKILL leaves exec no cleanup) removes exec's directory.
        defer {
            if let parent = spec.daemon.exitWithParent, getppid() != parent {
                ExecLeftovers.removeDirectory(ofRoot: spec.mountpoint, execPID: parent)
            }
        }
        do throws(DaemonError) {
            try serve(served, at: spec.mountpoint, configuration: spec.daemon, logger: logger)
        } catch {
            throw .daemon(error)
        }
    }
}
