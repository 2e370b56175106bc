import TSMBackends

/// Executes control requests against a running mount's model: one request, one reply; errors are
/// replies, never crashes. Knows nothing of sockets or of FUSE: what the filesystem must do after
/// a reboot comes in as `onReboot`.
public final class ControlDispatcher: Sendable {
    /// Why a well-formed request cannot run on this mount.
    public enum Failure: Error, CustomStringConvertible, Equatable {
        /// A fault request on a mount without a fault injector (not a sysroot).
        case noFaultInjection

        public var description: String {
            switch self {
            case .noFaultInjection: "fault injection needs a --sysroot mount"
            }
        }
    }

    private let operations: Operations
    private let onReboot: @Sendable () -> Int
    private let log: @Sendable (String) -> Void

    /// - Parameters:
    ///   - operations: what requests change.
    ///   - onReboot: called after the model rebooted: drops the filesystem's report entries (and
    ///     tells the kernel) and returns how many it dropped.
    ///   - log: one line per change made, for the daemon's log.
    public init(
        operations: Operations, onReboot: @escaping @Sendable () -> Int,
        log: @escaping @Sendable (String) -> Void = { _ in }
    ) {
        self.operations = operations
        self.onReboot = onReboot
        self.log = log
    }

    /// Parses the line and executes it. A fault spec that does not parse on a mount without
    /// faults is answered as a mount without faults: the mount is the first thing wrong.
    public func reply(to line: String) -> ControlReply {
        do {
            return execute(try ControlRequest(parsing: line))
        } catch .notAFault where operations.faults == nil {
            return .error(Failure.noFaultInjection.description)
        } catch {
            return .error(error.description)
        }
    }

    /// Executes one parsed request.
    public func execute(_ request: ControlRequest) -> ControlReply {
        switch request {
        case .set(let register, let hex):
            do {
                try operations.set(register, hex: hex)
            } catch {
                return .error("\(error)")
            }
            log("ctl: set \(register)")
            return .ok()
        case .extend(let register, let hex, let event):
            do {
                try operations.extend(register, hex: hex, event: Array(event.utf8))
            } catch {
                return .error("\(error)")
            }
            log("ctl: extend \(register)")
            return .ok()
        case .reboot:
            // What reboots beside the registers (a vTPM) failing leaves the registers rebooted:
            // the entries go too, and the reply is an error naming what did not reboot.
            var alongside: String?
            do throws(Operations.Failure) {
                try operations.reboot()
            } catch .alongside(let reason) {
                alongside = reason
            } catch {
                return .error("\(error)")
            }
            let dropped = onReboot()
            if let alongside {
                log("ctl: reboot (\(dropped) report entries removed); \(alongside)")
                return .error("rebooted; \(dropped) report entries removed; but \(alongside)")
            }
            log("ctl: reboot (\(dropped) report entries removed)")
            return .ok(detail: "rebooted; \(dropped) report entries removed")
        case .listFaults:
            guard let faults = operations.faults else { return .error(Failure.noFaultInjection.description) }
            let lines = faults.armed.map(Self.line)
            return .ok(lines: lines, detail: "\(lines.count) armed")
        case .clearFaults:
            guard let faults = operations.faults else { return .error(Failure.noFaultInjection.description) }
            faults.clear()
            log("ctl: faults cleared")
            return .ok()
        case .fault(let spec):
            guard let faults = operations.faults else { return .error(Failure.noFaultInjection.description) }
            do {
                try faults.add(spec)
            } catch {
                return .error("\(error)")
            }
            return .ok()
        }
    }

    /// One armed fault as `faults` lists it: `KIND[@REGISTER] ERRNO count N|all skip N`.
    static func line(_ spec: FaultSpec) -> String {
        let target = spec.register.map { "@" + $0 } ?? ""
        let count = spec.count == Int.max ? "all" : String(spec.count)
        return "\(spec.kind.rawValue)\(target) \(spec.errno) count \(count) skip \(spec.skip)"
    }
}
