import Synchronization
import SystemPackage
import TSMModel

/// One `--inject-fault KIND[:ERRNO][:COUNT]` of a sysroot: make the next COUNT operations of a
/// kind fail, so clients (the kernel backend among them) can be tested on the kernel's error paths.
public struct FaultSpec: Sendable, Equatable {
    public enum Kind: String, Sendable, CaseIterable {
        /// A report generation (`report_new`, reached by an outblob/auxblob read) fails with the errno.
        case outblob
        /// An outblob read bumps the entry's write generation behind the reader's back, as a
        /// concurrent writer sharing the entry would.
        case generation
        /// An RTMR extend of the measured provider (the 6.16 `rtmrN:sha384` write, or an RFC v2
        /// extend of the same register) fails with the errno, as TDG.MR.RTMR.EXTEND can.
        case extend
        /// A `mkdir` under `report/` fails with the errno (ENXIO is what a kernel without a
        /// provider answers).
        case mkdir
        /// A report generation succeeds with an empty outblob (and auxblob): reads return 0 bytes.
        case empty
    }

    /// The errnos a spec may name, as the kernel's drivers return them.
    public static let errnos: [(String, Errno)] = [
        ("EBUSY", .resourceBusy), ("EIO", .ioError), ("ETIMEDOUT", .timedOut), ("ENXIO", .noSuchAddressOrDevice),
        ("EINVAL", .invalidArgument), ("EINTR", .interrupted), ("ENOMEM", .noMemory),
    ]

    public var kind: Kind
    public var errno: Errno
    public var count: Int
    /// How many operations of the kind pass before the first fault (`+N`).
    public var skip: Int

    /// Only operations on this register (`extend@rtmr2`); nil for every one of the kind.
    public var register: String?

    public init(kind: Kind, errno: Errno = .ioError, count: Int = 1, skip: Int = 0, register: String? = nil) {
        self.kind = kind
        self.errno = errno
        self.count = count
        self.skip = skip
        self.register = register
    }

    /// `KIND[@REGISTER][:ERRNO][:COUNT|all][:+SKIP]`, e.g. `outblob:EBUSY:2`, `generation`,
    /// `extend@rtmr2:ENXIO:all`, `outblob:EIO:+1` (the first report succeeds, the next fails);
    /// nil if malformed.
    public init?(parsing text: String) {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        guard let first = parts.first, parts.count <= 4 else { return nil }
        let head = first.split(separator: "@", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        guard let name = head.first, let kind = Kind(rawValue: name) else { return nil }
        let register = head.count == 2 ? head[1] : nil
        if register?.isEmpty == true { return nil }
        self.init(kind: kind, register: register)
        for part in parts.dropFirst() {
            if part.hasPrefix("+"), let number = Int(part.dropFirst()), number >= 0 {
                skip = number
            } else if part == "all" {
                count = Int.max
            } else if let number = Int(part), number > 0 {
                count = number
            } else if let named = Self.errnos.first(where: { $0.0 == part.uppercased() }) {
                errno = named.1
            } else {
                return nil
            }
        }
    }
}

extension FaultSpec {
    /// The spec as `--inject-fault` takes it: `KIND[@REGISTER]:ERRNO:COUNT|all:+SKIP`.
    public var text: String {
        let name = Self.errnos.first { $0.1 == errno }?.0 ?? "EIO"
        let target = register.map { "@" + $0 } ?? ""
        return "\(kind.rawValue)\(target):\(name):\(count == Int.max ? "all" : String(count)):+\(skip)"
    }
}

/// Why a fault cannot be armed in this guest.
public enum FaultError: Error, Equatable, CustomStringConvertible {
    /// Only extend faults act on one register.
    case registerOnKind(FaultSpec.Kind, register: String)
    /// The register is not one whose extends can fail here.
    case unknownRegister(String, known: [String])
    /// The guest has no register an extend fault could act on.
    case nothingToExtend
    /// The guest cannot inject faults of this kind.
    case refusedKind(FaultSpec.Kind, guest: String)

    public var description: String {
        switch self {
        case .registerOnKind(let kind, let register):
            return "\(kind.rawValue)@\(register): only extend faults take a register"
        case .unknownRegister(let register, let known):
            return "extend@\(register): no such extensible register; known: \(known.joined(separator: ", "))"
        case .nothingToExtend:
            return "extend faults need registers that extend, and this guest has none"
        case .refusedKind(let kind, let guest):
            return "\(kind.rawValue) faults cannot be injected in a \(guest) guest"
        }
    }
}

/// The faults a sysroot was asked to inject, counted down as they fire. Off (empty) by default;
/// every injected failure is logged. Extend faults act on the registers given at start (those of
/// the backend the ``FaultInjectingBackend`` wraps); a register target is resolved when the fault
/// is armed, never matched by name afterwards.
public final class FaultInjector: Sendable {
    private struct Armed {
        var spec: FaultSpec
        /// The register index an extend fault is limited to.
        var register: Int?
    }

    private let remaining = Mutex<[Armed]>([])
    /// The registers extend faults may act on: index and name.
    private let extensible: [(index: Int, name: String)]
    private let log: @Sendable (String) -> Void

    /// - Parameter measured: the table of the provider whose backend the
    ///   ``FaultInjectingBackend`` wraps (its extensible registers are what extend faults act
    ///   on), or nil when no backend is wrapped.
    public init(measured: RegisterTable?, log: @escaping @Sendable (String) -> Void) {
        self.extensible =
            measured.map { table in
                table.registers.enumerated().filter { $0.element.flags.contains(.extensible) }.map {
                    ($0.offset, $0.element.name)
                }
            } ?? []
        self.log = log
    }

    public var isEmpty: Bool { remaining.withLock { $0.isEmpty } }

    /// The faults still armed (`tsmfs ctl faults`).
    public var armed: [FaultSpec] { remaining.withLock { $0.map(\.spec) } }

    /// Arms a fault (`--inject-fault`, `tsmfs ctl fault ...`), refusing a register target that
    /// does not mean something here.
    public func add(_ spec: FaultSpec) throws(FaultError) {
        var armed = Armed(spec: spec)
        if spec.kind == .extend && extensible.isEmpty { throw .nothingToExtend }
        if let register = spec.register {
            guard spec.kind == .extend else { throw .registerOnKind(spec.kind, register: register) }
            guard let target = extensible.first(where: { $0.name == register }) else {
                throw .unknownRegister(register, known: extensible.map(\.name))
            }
            armed.register = target.index
        }
        remaining.withLock { $0.append(armed) }
        log("armed \(spec.text)")
    }

    /// Disarms every fault (`tsmfs ctl faults clear`).
    public func clear() {
        remaining.withLock { $0.removeAll() }
    }

    /// The fault of `kind` to inject now, if one is left (for extends, one for any register or
    /// for register `index`); counts it down and logs it with `place`.
    public func take(_ kind: FaultSpec.Kind, register index: Int? = nil, at place: String) -> FaultSpec? {
        let fired = remaining.withLock { (specs: inout [Armed]) -> FaultSpec? in
            guard
                let position = specs.firstIndex(where: { armed in
                    armed.spec.kind == kind && (armed.register == nil || armed.register == index)
                })
            else { return nil }
            if specs[position].spec.skip > 0 {
                specs[position].spec.skip -= 1
                return nil
            }
            let spec = specs[position].spec
            if specs[position].spec.count != Int.max { specs[position].spec.count -= 1 }
            if specs[position].spec.count <= 0 { specs.remove(at: position) }
            return spec
        }
        if let fired {
            let what =
                kind == .generation
                ? "generation bumped"
                : kind == .empty ? "empty outblob" : "\(fired.errno) (errno \(fired.errno.rawValue))"
            log("\(kind.rawValue) at \(place): \(what)")
        }
        return fired
    }
}

/// A report provider that fails report generations as ``FaultInjector`` says, refuses entries
/// (`mkdir` faults) and stores behind a reader's back (`generation` faults) through the
/// provider's hooks.
public struct FaultInjectingReportProvider: ReportProvider {
    let wrapped: any ReportProvider
    let faults: FaultInjector

    public init(wrapping wrapped: any ReportProvider, faults: FaultInjector) {
        self.wrapped = wrapped
        self.faults = faults
    }

    public var name: String { wrapped.name }
    public var privlevelFloor: UInt32 { wrapped.privlevelFloor }
    public func isVisible(_ attribute: ReportAttribute) -> Bool { wrapped.isVisible(attribute) }

    public func makeReport(_ request: ReportRequest) throws(Errno) -> ReportBlobs {
        if let fault = faults.take(.outblob, at: "\(name) report") { throw fault.errno }
        if faults.take(.empty, at: "\(name) report") != nil { return ReportBlobs(outblob: []) }
        return try wrapped.makeReport(request)
    }

    public func admitEntry() throws(Errno) {
        if let fault = faults.take(.mkdir, at: "report mkdir") { throw fault.errno }
        try wrapped.admitEntry()
    }

    /// A `generation` fault: the same inblob stored again, as a concurrent writer sharing the
    /// entry would, so the reader's generation check fails.
    public func didServeBlob(of entry: ReportEntry) {
        wrapped.didServeBlob(of: entry)
        guard faults.take(.generation, at: "\(name) outblob read") != nil else { return }
        try? entry.storeInblob(entry.request.inblob)
    }
}

/// A measurement backend whose extends fail as ``FaultInjector`` says.
public struct FaultInjectingBackend: MeasurementBackend {
    let wrapped: any MeasurementBackend
    let faults: FaultInjector

    public init(wrapping wrapped: any MeasurementBackend, faults: FaultInjector) {
        self.wrapped = wrapped
        self.faults = faults
    }

    public func refresh(_ registers: inout RegisterValues) throws(MRError) {
        try wrapped.refresh(&registers)
    }

    public var refreshMayFail: Bool { wrapped.refreshMayFail }

    public func extend(_ index: Int, with data: [UInt8], in registers: inout RegisterValues) throws(MRError) {
        if let fault = faults.take(
            .extend, register: index, at: "\(registers.table.name)/\(registers.table.registers[index].name)")
        {
            throw .backend(fault.errno)
        }
        try wrapped.extend(index, with: data, in: &registers)
    }
}
