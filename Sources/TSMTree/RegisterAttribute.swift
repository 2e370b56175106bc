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
