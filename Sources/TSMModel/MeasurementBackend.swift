/// The register values of one provider, as a backend sees them while it holds the provider lock:
/// the driver's `mr_value` buffers.
public struct RegisterValues: Sendable, Equatable {
    public let table: RegisterTable
    /// One buffer per register, in table order; each exactly the register's size.
    public var values: [[UInt8]]

    public init(table: RegisterTable) {
        self.table = table
        self.values = table.registers.map(\.initialValue)
    }

    public subscript(name: String) -> [UInt8]? {
        table.indexByName[name].map { values[$0] }
    }
}

/// What stands behind a provider: RFC v2's two driver callbacks, `refresh` and `extend`.
///
/// Both are called with the provider's lock held exclusively, so a backend sees and changes the
/// values consistently. A software model computes; a hardware backend talks to the kernel. Neither
/// the tree nor the FUSE layer knows which one serves them.
public protocol MeasurementBackend: Sendable {
    /// `tsm_measurement.refresh(tm, mr)`: bring every live register up to date. Called on the first
    /// read of a live register after any successful write. A thrown error fails that read.
    func refresh(_ registers: inout RegisterValues) throws(MRError)

    /// `tsm_measurement.extend(tm, mr, data)`: extend register `index` with `data`, exactly the
    /// register's size. Called for writes to extensible (X) registers only; W without X overwrites
    /// in the core. A thrown error fails the write and leaves the provider in sync as it was.
    func extend(_ index: Int, with data: [UInt8], in registers: inout RegisterValues) throws(MRError)

    /// Whether ``refresh(_:)`` can fail (it asks something outside, such as the kernel). The page
    /// cache then leaves the provider's live registers uncached: a page-cache read retries a
    /// failed READ once, which would hide the refresh's errno from the reader.
    var refreshMayFail: Bool { get }
}

extension MeasurementBackend {
    /// A computed refresh cannot fail.
    public var refreshMayFail: Bool { false }
}
