import Synchronization

/// A registered provider: a validated register table, its values, the backend, and the one lock
/// and one "in sync" flag of RFC v2's `struct tsm_measurement` (ABI.md 2.6).
///
/// `in sync` starts false (RFC v2 does not refresh at registration). A read of a live (L) register
/// while out of sync calls the backend's refresh first; a successful write of any register clears it.
public final class MeasurementProvider: Sendable {
    public let table: RegisterTable
    public let backend: any MeasurementBackend
    /// Where changes are made durable before they take effect, or nil.
    public let journal: (any ChangeJournal)?

    private struct State {
        var registers: RegisterValues
        var inSync = false
        var refreshCount = 0
        /// Bumped by every change of a value that is not a refresh (write, extend, set, reboot,
        /// replay): what a cache of the values must follow.
        var generation: UInt64 = 0
    }

    private let state: Mutex<State>
    /// Called after each change, on the changing thread, with the lock released: see ``onChange(_:)``.
    private let observers = Mutex<[@Sendable () -> Void]>([])

    /// Validates `descriptor` (as `tsm_register_measurement` does) and registers it with `backend`.
    public init(
        _ descriptor: ProviderDescriptor, backend: any MeasurementBackend,
        journal: (any ChangeJournal)? = nil
    ) throws(RegistrationError) {
        let table = try RegisterTable(validating: descriptor)
        self.table = table
        self.backend = backend
        self.journal = journal
        self.state = Mutex(State(registers: RegisterValues(table: table)))
    }

    public var name: String { table.name }

    /// Reads up to `count` bytes of register `index` at `offset`, refreshing first when the
    /// register is live and the provider is out of sync. Empty at or past the end.
    public func read(_ index: Int, offset: Int64, count: Int) throws(MRError) -> [UInt8] {
        let register = table.registers[index]
        guard register.flags.contains(.readable) else { throw .accessDenied }
        let range = AttributeRules.readRange(offset: offset, count: count, size: register.size)
        if range.isEmpty { return [] }
        return try state.withLock { (state: inout State) throws(MRError) -> [UInt8] in
            if register.flags.contains(.live) && !state.inSync {
                try refresh(&state)
            }
            return Array(state.registers.values[index][range])
        }
    }

    /// Writes `data` at `offset` to register `index` under the sysfs and tsm-mr rules: extends
    /// through the backend when X is set, else overwrites. Returns the count accepted.
    public func write(_ index: Int, offset: Int64, data: UnsafeRawBufferPointer) throws(MRError) -> Int {
        let register = table.registers[index]
        guard register.flags.contains(.writable) else { throw .accessDenied }
        return try store(index, offset: offset, data: data, extend: register.flags.contains(.extensible))
    }

    /// The merged (6.16) ABI's `tm->write()`: a write to a writable `measurements/` file extends
    /// register `index` through the backend, whatever its RFC v2 flags (the file's mode decides
    /// who may write). Same sysfs and tsm-mr rules as ``write(_:offset:data:)``.
    public func extend(_ index: Int, offset: Int64, data: UnsafeRawBufferPointer) throws(MRError) -> Int {
        guard table.registers[index].hash != nil else { throw .accessDenied }
        return try store(index, offset: offset, data: data, extend: true)
    }

    private func store(_ index: Int, offset: Int64, data: UnsafeRawBufferPointer, extend: Bool) throws(MRError) -> Int {
        let accepted = try AttributeRules.acceptedWrite(
            offset: offset, count: data.count, size: table.registers[index].size)
        if accepted == 0 { return 0 }
        let change = RegisterChange(
            provider: table.name, register: index, kind: extend ? .extend : .overwrite,
            data: Array(data.prefix(accepted)))
        try journaled(change)
        changed()
        return accepted
    }

    /// `tsmfs ctl set`: overwrites register `index` with `value` (exactly its size), whatever its
    /// flags, journaled like a write. For launch values a running guest cannot change itself.
    public func set(_ index: Int, to value: [UInt8]) throws(MRError) {
        guard table.registers.indices.contains(index), value.count == table.registers[index].size else {
            throw .invalidWrite
        }
        let change = RegisterChange(provider: table.name, register: index, kind: .overwrite, data: value)
        try journaled(change)
        changed()
    }

    /// A reboot: every extensible (X) register back to its boot value. `alongside` runs under the
    /// same lock (an event log emptied at the same instant). Not journaled: the caller records
    /// one reboot for all providers.
    public func resetExtensible(alongside: () -> Void = {}) {
        state.withLock { state in
            for (index, register) in table.registers.enumerated() where register.flags.contains(.extensible) {
                state.registers.values[index] = register.initialValue
            }
            alongside()
            state.inSync = false
            state.generation &+= 1
        }
        changed()
    }

    /// Marks the provider out of sync without a change of its own: its backend's values changed
    /// outside it (a TPM command through a device file), so the next live read refreshes.
    public func markOutOfSync() {
        state.withLock { $0.inSync = false }
    }

    /// Replays a change a journal recorded (at start, before serving): through the backend, not
    /// journaled again.
    public func replay(_ change: RegisterChange) throws(MRError) {
        guard change.kind == .extend || change.kind == .overwrite else { throw .invalidWrite }
        guard table.registers.indices.contains(change.register),
            change.data.count == table.registers[change.register].size
        else { throw .invalidWrite }
        try state.withLock { (state: inout State) throws(MRError) in
            try apply(change, to: &state, journaled: false)
        }
        changed()
    }

    /// Applies a change under the lock, inside the journal's transaction when there is one.
    private func journaled(_ change: RegisterChange) throws(MRError) {
        let body = { () throws(MRError) in
            try self.state.withLock { (state: inout State) throws(MRError) in
                try self.apply(change, to: &state, journaled: true)
            }
        }
        if let journal { try journal.transaction(body) } else { try body() }
    }

    /// Computes the change; with a journal, on a copy that takes effect only once the change is
    /// durable.
    private func apply(_ change: RegisterChange, to state: inout State, journaled: Bool) throws(MRError) {
        guard journaled, let journal else {
            try compute(change, in: &state.registers)
            state.inSync = false
            state.generation &+= 1
            return
        }
        var registers = state.registers
        try compute(change, in: &registers)
        try journal.record(change)
        state.registers = registers
        state.inSync = false
        state.generation &+= 1
    }

    private func compute(_ change: RegisterChange, in registers: inout RegisterValues) throws(MRError) {
        switch change.kind {
        case .extend: try backend.extend(change.register, with: change.data, in: &registers)
        case .overwrite: registers.values[change.register] = change.data
        // Not register changes: see resetExtensible and the state journal's snapshots.
        case .reboot, .runtimeLog, .checkpoint: throw .invalidWrite
        }
    }

    private func refresh(_ state: inout State) throws(MRError) {
        state.refreshCount += 1
        do {
            try backend.refresh(&state.registers)
            state.inSync = true
        } catch {
            state.inSync = false
            throw error
        }
    }

    /// Runs `body` after every change of a value (write, extend, ``set(_:to:)``,
    /// ``resetExtensible(alongside:)``, ``replay(_:)``) on the thread that made it, once the lock
    /// is released and before that call returns: so a cache of the values (the kernel's page
    /// cache) is dropped before the change is acknowledged, and `body` may wait for readers,
    /// which take the lock. A refresh is not a change: it brings only live registers up to date,
    /// and it runs only on the first live read after a change, which already called `body`.
    public func onChange(_ body: @escaping @Sendable () -> Void) {
        observers.withLock { $0.append(body) }
    }

    private func changed() {
        for observer in observers.withLock({ $0 }) { observer() }
    }

    /// How many changes there were (refreshes are not changes); see ``onChange(_:)``.
    public var generation: UInt64 {
        state.withLock { $0.generation }
    }

    /// The current values, without refreshing (tests, diagnostics, persistence).
    public func snapshot() -> RegisterValues {
        state.withLock { $0.registers }
    }

    /// How many refreshes ran: the observable of ABI.md 2.6's timing.
    public var refreshCount: Int {
        state.withLock { $0.refreshCount }
    }

    /// Whether the next live read refreshes.
    public var inSync: Bool {
        state.withLock { $0.inSync }
    }
}
