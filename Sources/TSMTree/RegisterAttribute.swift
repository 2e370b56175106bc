import FuseKit
import Synchronization
import SystemPackage
import TSMModel

/// A register's value as a sysfs binary attribute: RFC v2's `digest` file, or the file of an F
/// register. Reads and writes go through the provider, which applies the sysfs and tsm-mr rules
/// and the refresh timing.
public struct RegisterAttribute: Attribute {
    public let provider: MeasurementProvider
    public let index: Int

    public init(provider: MeasurementProvider, index: Int) {
        self.provider = provider
        self.index = index
    }

    public var register: RegisterDescriptor { provider.table.registers[index] }
    public var permissions: UInt16 { register.flags.fileMode }
    public var size: UInt64 { UInt64(register.size) }

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
            return try provider.write(index, offset: offset, data: data)
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

/// A register as a merged-ABI (6.16) `measurements/NAME[:HASH]` file: the mode is the file's own
/// (0444, 0200 or 0644), and a write goes to the driver's write callback, which extends.
public struct MeasurementAttribute: Attribute {
    public let provider: MeasurementProvider
    public let index: Int
    public let permissions: UInt16

    public init(provider: MeasurementProvider, index: Int, permissions: UInt16) {
        self.provider = provider
        self.index = index
        self.permissions = permissions
    }

    public var size: UInt64 { UInt64(provider.table.registers[index].size) }

    public func read(offset: Int64, count: Int) throws(Errno) -> [UInt8] {
        do {
            return try provider.read(index, offset: offset, count: count)
        } catch {
            throw error.errno
        }
    }

    public func write(offset: Int64, data: UnsafeRawBufferPointer) throws(Errno) -> Int {
        do {
            return try provider.extend(index, offset: offset, data: data)
        } catch {
            throw error.errno
        }
    }
}
