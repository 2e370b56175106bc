import SystemPackage

/// The contents of one file in the tree: a sysfs attribute. Implementations apply the kernel's
/// rules for their kind of attribute and answer failures with the kernel's errno.
public protocol Attribute: Sendable {
    /// Permission bits (the kernel's attribute mode).
    var permissions: UInt16 { get }
    /// `st_size`: the binary attribute's size, or 4096 for text attributes.
    var size: UInt64 { get }
    func read(offset: Int64, count: Int) throws(Errno) -> [UInt8]
    func write(offset: Int64, data: UnsafeRawBufferPointer) throws(Errno) -> Int
}

extension Attribute {
    public func write(offset: Int64, data: UnsafeRawBufferPointer) throws(Errno) -> Int {
        throw .permissionDenied
    }
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
