import TSMBytes
import SystemPackage
import TSMEventLog
import TSMModel

/// What `tsmfs ctl` changes in a running mount's register model: static values, a reboot, and the
/// armed faults. The ABI tree itself has no control files; these come through the control socket.
public final class Operations: Sendable {
    /// Why a request was refused; the description is the reply's text.
    public enum Failure: Error, Equatable, CustomStringConvertible {
        case noRegister(String)
        case notHex(String)
        case wrongSize(String, size: Int, given: Int)
        case refused(String, Errno)
        case cannotRecordReboot(Errno)
        case derived(String)
        case logged(String)
        case notExtensible(String)
        case eventTooLong(Int)
        /// The registers rebooted (and the reboot was recorded), but what reboots beside them
        /// (a vTPM) did not: its reasons.
        case alongside(String)

        public var description: String {
            switch self {
            case .noRegister(let path): return "no register \(path) (give PROVIDER/REGISTER, e.g. tdx/mrconfigid)"
            case .notHex(let text): return "\(text) is not hex"
            case .wrongSize(let path, let size, let given): return "\(path) holds \(size) bytes, not \(given)"
            case .refused(let path, let errno): return "\(path): \(errno)"
            case .cannotRecordReboot(let errno): return "cannot record the reboot: \(errno)"
            case .notExtensible(let path): return "\(path) does not extend (no flag X); set it instead"
            case .eventTooLong(let count): return "event data of \(count) bytes; at most \(Operations.maximumEvent)"
            case .derived(let path): return "\(path) is derived from other registers; set those instead"
            case .alongside(let reason): return reason
            case .logged(let path):
                return
                    """
                    \(path) is a runtime register whose extends the event log records; a set would make the log's \
                    replay disagree (extend it through the tree, or reboot)
                    """
            }
        }
    }

    public let providers: [MeasurementProvider]
    /// A TDX sysroot's event log, emptied by a reboot together with its provider's RTMRs.
    let eventLog: MeasurementLog?
    /// The provider whose RTMR extends ``eventLog`` records.
    let loggedProvider: MeasurementProvider?
    let journal: (any ChangeJournal)?
    /// The sysroot's faults, armed and cleared at run time; nil for a plain mount.
    public let faults: FaultInjector?
    /// What reboots beside the registers (a vTPM's power cycle and boot), after them.
    let alongside: [@Sendable () throws -> Void]

    public init(
        providers: [MeasurementProvider], eventLog: MeasurementLog? = nil, loggedProvider: MeasurementProvider? = nil,
        journal: (any ChangeJournal)? = nil, faults: FaultInjector? = nil,
        alongside: [@Sendable () throws -> Void] = []
    ) {
        self.providers = providers
        self.eventLog = eventLog
        self.loggedProvider = loggedProvider
        self.journal = journal
        self.faults = faults
        self.alongside = alongside
    }

    /// `set PROVIDER/REGISTER HEX`: a new value for a register, of exactly its size. Refused for a
    /// derived register (the next refresh would undo it) and for an RTMR whose extends an event
    /// log records (the log's replay would no longer give it).
    public func set(_ path: String, hex: String) throws(Failure) {
        let (provider, index) = try register(path)
        let register = provider.table.registers[index]
        guard register.derivation == nil else { throw .derived(path) }
        if provider === loggedProvider, register.flags.contains(.extensible) { throw .logged(path) }
        guard let value = Hex.decode(hex) else { throw .notHex(hex) }
        let size = provider.table.registers[index].size
        guard value.count == size else { throw .wrongSize(path, size: size, given: value.count) }
        do {
            try provider.set(index, to: value)
        } catch {
            throw .refused(path, error.errno)
        }
    }

    /// `extend PROVIDER/REGISTER HEX [EVENT]`: extends an extensible register, as a write to its
    /// file would, and records `event` as the event data of the runtime log's record (a TDX
    /// sysroot's RTMRs; other registers have no log). At most 1 KiB of event data.
    public func extend(_ path: String, hex: String, event: [UInt8]) throws(Failure) {
        let (provider, index) = try register(path)
        let register = provider.table.registers[index]
        guard register.flags.contains(.extensible) else { throw .notExtensible(path) }
        guard event.count <= Self.maximumEvent else { throw .eventTooLong(event.count) }
        guard let value = Hex.decode(hex) else { throw .notHex(hex) }
        guard value.count == register.size else { throw .wrongSize(path, size: register.size, given: value.count) }
        do {
            try MeasurementLog.withEvent(event) { () throws(MRError) in
                let result: Result<Int, MRError> = value.withUnsafeBytes { data in
                    Result { () throws(MRError) -> Int in try provider.extend(index, offset: 0, data: data) }
                }
                _ = try result.get()
            }
        } catch {
            throw .refused(path, error.errno)
        }
    }

    /// The most event data one extend records.
    public static let maximumEvent = 1024

    private func register(_ path: String) throws(Failure) -> (MeasurementProvider, Int) {
        let parts = path.split(separator: "/", maxSplits: 1).map(String.init)
        guard parts.count == 2, let provider = providers.first(where: { $0.name == parts[0] }),
            let index = provider.table.indexByName[parts[1]]
        else {
            throw .noRegister(path)
        }
        return (provider, index)
    }

    /// `reboot`: every extensible register back to its boot value and the runtime event log
    /// emptied; static values stay. With `--state` the reboot is recorded first, once, and no
    /// snapshot sees it half made. Then, when `alongside`, what reboots beside the registers (a
    /// vTPM), each once even when another failed: a failure is ``Failure/alongside(_:)``, thrown
    /// after the registers rebooted. A recorded reboot replayed at start passes false for both: a
    /// vTPM's start is its power-on.
    public func reboot(record: Bool = true, alongside: Bool = true) throws(Failure) {
        let body = { () throws(MRError) in
            if record, let journal = self.journal {
                try journal.record(RegisterChange(provider: "", register: 0, kind: .reboot, data: []))
            }
            for provider in self.providers {
                if provider === self.loggedProvider, let eventLog = self.eventLog {
                    provider.resetExtensible { eventLog.runtime.clear() }
                } else {
                    provider.resetExtensible()
                }
            }
        }
        do {
            if record, let journal { try journal.transaction(body) } else { try body() }
        } catch {
            throw .cannotRecordReboot(error.errno)
        }
        guard alongside else { return }
        var failures: [String] = []
        for reboot in self.alongside {
            do {
                try reboot()
            } catch {
                failures.append("\(error)")
            }
        }
        if !failures.isEmpty { throw .alongside(failures.joined(separator: "; ")) }
    }

    /// The largest runtime log record of a snapshot: whole 8 KiB pieces of the log's bytes.
    static let runtimeLogPiece = 8192

    /// The whole state as a state file's snapshot: every provider's register values (an
    /// overwrite record each) and a TDX sysroot's runtime log (`runtimeLog` records, in pieces).
    /// The journal takes it inside its gate, when no change is half made.
    public func snapshotRecords() -> [RegisterChange] {
        var records: [RegisterChange] = []
        for provider in providers {
            for (index, value) in provider.snapshot().values.enumerated() {
                records.append(RegisterChange(provider: provider.name, register: index, kind: .overwrite, data: value))
            }
            if provider === loggedProvider, let eventLog {
                let bytes = eventLog.runtimeLogBytes()
                for start in stride(from: 0, to: bytes.count, by: Self.runtimeLogPiece) {
                    let piece = Array(bytes[start..<min(start + Self.runtimeLogPiece, bytes.count)])
                    records.append(RegisterChange(provider: provider.name, register: 0, kind: .runtimeLog, data: piece))
                }
            }
        }
        return records
    }
}

/// Why something that reboots beside the registers (a vTPM) did not; the text says what.
public struct RebootFailure: Error, Equatable, CustomStringConvertible {
    public let description: String

    public init(_ description: String) {
        self.description = description
    }
}
