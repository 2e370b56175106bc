import FuseKit
import Synchronization
import SystemPackage
import TSMModel

/// A register's value as a sysfs binary attribute. Reads and writes go through the provider,
/// which applies the sysfs and tsm-mr rules and the refresh timing.
public struct RegisterAttribute: Attribute {
    /// Which ABI the file belongs to.
    public enum Face: Sendable, Equatable {
        /// RFC v2's `digest` file or F file: the mode follows R and W; a write extends with X and
        /// overwrites without.
        case rfcV2
        /// A merged-ABI (6.16) `measurements/NAME[:HASH]` file: its own mode (0444, 0200 or
        /// 0644), and a write goes to the driver's write callback, which extends.
        case merged(permissions: UInt16)
    }

    public let provider: MeasurementProvider
    public let index: Int
    public let face: Face

    public init(provider: MeasurementProvider, index: Int, face: Face = .rfcV2) {
        self.provider = provider
        self.index = index
        self.face = face
    }

    public var register: RegisterDescriptor { provider.table.registers[index] }
    public var size: UInt64 { UInt64(register.size) }

    public var permissions: UInt16 {
        switch face {
        case .rfcV2: return register.flags.fileMode
        case .merged(let permissions): return permissions
        }
    }

    /// sysfs ignores O_APPEND: such a descriptor writes at its own position, which starts at 0,
    /// while FUSE sends its writes at the cached size. Only O_APPEND writers need a handle.
    public func open(flags: OpenFlags) throws(Errno) -> (any OpenFile)? {
        flags.append && flags.wantsWrite ? PositionedWriter(self) : nil
    }

    public func read(offset: Int64, count: Int) throws(Errno) -> [UInt8] {
        do {
            return try provider.read(index, offset: offset, count: count)
        } catch {
            throw error.errno
        }
    }

    public func write(offset: Int64, data: UnsafeRawBufferPointer) throws(Errno) -> Int {
        do {
            switch face {
            case .rfcV2: return try provider.write(index, offset: offset, data: data)
            case .merged: return try provider.extend(index, offset: offset, data: data)
            }
        } catch {
            throw error.errno
        }
    }
}

/// An open file that writes at its own position instead of the offset FUSE sends.
final class PositionedWriter: OpenFile {
    private let attribute: any Attribute
    private let position = Mutex<Int64>(0)

    init(_ attribute: any Attribute) {
        self.attribute = attribute
    }

    func read(offset: Int64, count: Int) throws(Errno) -> [UInt8] {
        try attribute.read(offset: offset, count: count)
    }

    func write(offset: Int64, data: UnsafeRawBufferPointer) throws(Errno) -> Int {
        try position.withLock { (position: inout Int64) throws(Errno) -> Int in
            let written = try attribute.write(offset: position, data: data)
            position += Int64(written)
            return written
        }
    }
}
