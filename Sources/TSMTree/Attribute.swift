import FuseKit
import SystemPackage

/// The contents of one file in the tree: a sysfs or configfs attribute. Implementations apply the
/// kernel's rules for their kind of attribute and answer failures with the kernel's errno.
///
/// The filesystem checks the mode at open (for root too) before ``open(flags:)`` runs.
public protocol Attribute: Sendable {
    /// Permission bits (the kernel's attribute mode).
    var permissions: UInt16 { get }
    /// `st_size`: the binary attribute's size, or 4096 for text attributes.
    var size: UInt64 { get }
    /// State kept per open file (configfs buffers, snapshots, a write position), or nil when reads
    /// and writes go straight to the attribute: the fast path, with no handle to look up.
    func open(flags: OpenFlags) throws(Errno) -> (any OpenFile)?
    func read(offset: Int64, count: Int) throws(Errno) -> [UInt8]
    func write(offset: Int64, data: UnsafeRawBufferPointer) throws(Errno) -> Int
    /// A restricted ioctl: the kernel has copied in the request's `input` (the command's _IOC
    /// size) and copies back the reply's output, at most `outputSize` bytes, before returning its
    /// errno. ENOTTY for commands it does not know.
    func ioctl(_ request: IoctlRequest) throws(Errno) -> IoctlReply
}

extension Attribute {
    public func open(flags: OpenFlags) throws(Errno) -> (any OpenFile)? { nil }

    public func ioctl(_ request: IoctlRequest) throws(Errno) -> IoctlReply {
        throw .inappropriateIOCTLForDevice
    }

    public func write(offset: Int64, data: UnsafeRawBufferPointer) throws(Errno) -> Int {
        throw .permissionDenied
    }
}

/// One open file of an attribute that keeps per-open state (the kernel's `struct file` private
/// data). Calls on one open file may come from several threads: implementations lock.
public protocol OpenFile: AnyObject, Sendable {
    func read(offset: Int64, count: Int) throws(Errno) -> [UInt8]
    func write(offset: Int64, data: UnsafeRawBufferPointer) throws(Errno) -> Int
    /// Runs with every close(2) of a descriptor of this open file.
    func flush() throws(Errno)
    /// Runs once, after the last descriptor is gone.
    func release()
    /// The file cannot seek: lseek and pread answer ESPIPE (`nonseekable_open`).
    var nonSeekable: Bool { get }
}

extension OpenFile {
    public var nonSeekable: Bool { false }
    public func flush() throws(Errno) {}
    public func release() {}
}

/// A read-only sysfs text attribute whose show function prints a fixed string, such as
/// `hash_algo` (no trailing newline). `st_size` is 4096, as for every sysfs text attribute.
public struct TextAttribute: Attribute {
    public let text: [UInt8]
    public let permissions: UInt16 = 0o444
    public let size: UInt64 = 4096

    public init(_ text: String) {
        self.text = Array(text.utf8)
    }

    public func read(offset: Int64, count: Int) throws(Errno) -> [UInt8] {
        guard offset >= 0, offset < Int64(text.count), count > 0 else { return [] }
        let start = Int(offset)
        return Array(text[start..<min(text.count, start + count)])
    }
}

/// A read-only binary attribute whose contents come from a closure: ACPI tables and logs.
/// `st_size` is the contents' current size, as for a sysfs binary attribute of that size.
public struct BytesAttribute: Attribute {
    public let permissions: UInt16
    private let sizeOf: @Sendable () -> Int
    private let slice: @Sendable (_ offset: Int, _ count: Int) -> [UInt8]

    /// Fixed contents.
    public init(_ bytes: [UInt8], permissions: UInt16 = 0o444) {
        self.permissions = permissions
        self.sizeOf = { bytes.count }
        self.slice = { offset, count in Array(bytes[offset..<min(bytes.count, offset + count)]) }
    }

    /// Contents that grow: `size` and `slice` are asked at each call.
    public init(
        permissions: UInt16 = 0o444, size: @escaping @Sendable () -> Int,
        slice: @escaping @Sendable (_ offset: Int, _ count: Int) -> [UInt8]
    ) {
        self.permissions = permissions
        self.sizeOf = size
        self.slice = slice
    }

    public var size: UInt64 { UInt64(sizeOf()) }

    public func read(offset: Int64, count: Int) throws(Errno) -> [UInt8] {
        guard offset >= 0, count > 0, offset < Int64(sizeOf()) else { return [] }
        return slice(Int(offset), count)
    }
}
