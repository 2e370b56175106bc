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

/// The faults a sysroot was asked to inject, counted down as they fire. Off (empty) by default;
/// every injected failure is logged.
public final class FaultInjector: Sendable {
    private let remaining: Mutex<[FaultSpec]>
    private let log: @Sendable (String) -> Void

    public init(_ specs: [FaultSpec], log: @escaping @Sendable (String) -> Void) {
        self.remaining = Mutex(specs)
        self.log = log
    }

    public var isEmpty: Bool { remaining.withLock { $0.isEmpty } }

    /// The faults still armed (`tsmfs ctl faults`).
    public var armed: [FaultSpec] { remaining.withLock { $0 } }

    /// Arms another fault (`tsmfs ctl fault ...`).
    public func add(_ spec: FaultSpec) {
        remaining.withLock { $0.append(spec) }
        log("armed \(spec.kind.rawValue): \(spec.errno) x\(spec.count)")
    }

    /// Disarms every fault (`tsmfs ctl faults clear`).
    public func clear() {
        remaining.withLock { $0.removeAll() }
    }

    /// The fault of `kind` to inject now, if one is left; counts it down and logs it.
    public func take(_ kind: FaultSpec.Kind, at place: String) -> FaultSpec? {
        let fired = remaining.withLock { (specs: inout [FaultSpec]) -> FaultSpec? in
            guard let index = specs.firstIndex(where: { spec in
                spec.kind == kind && spec.register.map { place.hasSuffix("/" + $0) } != false
            }) else { return nil }
            if specs[index].skip > 0 {
                specs[index].skip -= 1
                return nil
            }
            let spec = specs[index]
            if specs[index].count != Int.max { specs[index].count -= 1 }
            if specs[index].count <= 0 { specs.remove(at: index) }
            return spec
        }
        if let fired {
            let what = kind == .generation ? "generation bumped"
                : kind == .empty ? "empty outblob" : "\(fired.errno) (errno \(fired.errno.rawValue))"
            log("\(kind.rawValue) at \(place): \(what)")
        }
        return fired
    }
}

/// A report provider that fails report generations as ``FaultInjector`` says, and bumps
/// generations for ``ReportEntry`` through ``ReportGenerationFault``.
struct FaultInjectingReportProvider: ReportProvider, ReportGenerationFault {
    let wrapped: any ReportProvider
    let faults: FaultInjector

    var name: String { wrapped.name }
    var privlevelFloor: UInt32 { wrapped.privlevelFloor }
    func isVisible(_ attribute: ReportAttribute) -> Bool { wrapped.isVisible(attribute) }

    func makeReport(_ request: ReportRequest) throws(Errno) -> ReportBlobs {
        if let fault = faults.take(.outblob, at: "\(name) report") { throw fault.errno }
        if faults.take(.empty, at: "\(name) report") != nil { return ReportBlobs(outblob: []) }
        return try wrapped.makeReport(request)
    }

    func bumpsGeneration() -> Bool {
        faults.take(.generation, at: "\(name) outblob read") != nil
    }

    func mkdirFailure() -> Errno? {
        faults.take(.mkdir, at: "report mkdir")?.errno
    }
}

/// A measurement backend whose extends fail as ``FaultInjector`` says.
struct FaultInjectingBackend: MeasurementBackend {
    let wrapped: any MeasurementBackend
    let faults: FaultInjector

    func refresh(_ registers: inout RegisterValues) throws(MRError) {
        try wrapped.refresh(&registers)
    }

    func extend(_ index: Int, with data: [UInt8], in registers: inout RegisterValues) throws(MRError) {
        if let fault = faults.take(.extend, at: "\(registers.table.name)/\(registers.table.registers[index].name)") {
            throw .backend(fault.errno)
        }
        try wrapped.extend(index, with: data, in: &registers)
    }
}
