import SystemPackage

/// The operations of a libfuse low-level filesystem (`struct fuse_lowlevel_ops`), one method each.
///
/// Methods run synchronously on libfuse's worker threads, several at once: implementations keep
/// their state behind locks. A failure is thrown as an `Errno` and reaches the caller unchanged.
/// Every operation has a default that answers `ENOSYS`, as an unset libfuse op does, except the
/// ones a tree cannot do without.
public protocol FileSystemOperations: AnyObject, Sendable {
    /// How long the kernel may cache names and attributes, in seconds.
    var cacheTimeout: Double { get }

    func lookup(parent: InodeNumber, name: String) throws(Errno) -> FileAttributes
    func getattr(_ inode: InodeNumber) throws(Errno) -> FileAttributes
    func setattr(_ inode: InodeNumber, changes: AttributeChanges, handle: FileHandle?) throws(Errno) -> FileAttributes
    func readlink(_ inode: InodeNumber) throws(Errno) -> String

    func open(_ inode: InodeNumber, flags: OpenFlags, context: RequestContext) throws(Errno) -> OpenReply
    func read(_ inode: InodeNumber, handle: FileHandle, offset: Int64, count: Int) throws(Errno) -> [UInt8]
    func write(_ inode: InodeNumber, handle: FileHandle, offset: Int64, data: UnsafeRawBufferPointer) throws(Errno)
        -> Int
    /// Runs synchronously with each `close(2)` of a descriptor (and its dups).
    func flush(_ inode: InodeNumber, handle: FileHandle) throws(Errno)
    /// Runs once when the last descriptor of an open file goes, asynchronously to `close(2)`.
    func release(_ inode: InodeNumber, handle: FileHandle)
    /// A restricted ioctl (see ``IoctlRequest``); a thrown errno copies nothing back.
    func ioctl(_ inode: InodeNumber, handle: FileHandle, request: IoctlRequest) throws(Errno) -> IoctlReply

    func opendir(_ inode: InodeNumber, context: RequestContext) throws(Errno) -> OpenReply
    func readdir(_ inode: InodeNumber, handle: FileHandle) throws(Errno) -> [DirectoryEntry]
    func releasedir(_ inode: InodeNumber, handle: FileHandle)
    func statfs(_ inode: InodeNumber) throws(Errno) -> FilesystemStatistics

    func mkdir(parent: InodeNumber, name: String, permissions: UInt16, context: RequestContext) throws(Errno)
        -> FileAttributes
    func mknod(parent: InodeNumber, name: String, mode: UInt32, context: RequestContext) throws(Errno) -> FileAttributes
    func create(parent: InodeNumber, name: String, permissions: UInt16, flags: OpenFlags, context: RequestContext)
        throws(Errno) -> (FileAttributes, OpenReply)
    func unlink(parent: InodeNumber, name: String) throws(Errno)
    func rmdir(parent: InodeNumber, name: String) throws(Errno)
    func rename(parent: InodeNumber, name: String, newParent: InodeNumber, newName: String) throws(Errno)
    func symlink(target: String, parent: InodeNumber, name: String) throws(Errno) -> FileAttributes
    func link(_ inode: InodeNumber, newParent: InodeNumber, newName: String) throws(Errno) -> FileAttributes
}

extension FileSystemOperations {
    public var cacheTimeout: Double { 1.0 }
    public func setattr(_ inode: InodeNumber, changes: AttributeChanges, handle: FileHandle?) throws(Errno)
        -> FileAttributes
    { throw .noFunction }
    public func readlink(_ inode: InodeNumber) throws(Errno) -> String { throw .noFunction }
    public func write(_ inode: InodeNumber, handle: FileHandle, offset: Int64, data: UnsafeRawBufferPointer)
        throws(Errno) -> Int
    { throw .noFunction }
    public func flush(_ inode: InodeNumber, handle: FileHandle) throws(Errno) {}
    public func release(_ inode: InodeNumber, handle: FileHandle) {}
    public func ioctl(_ inode: InodeNumber, handle: FileHandle, request: IoctlRequest) throws(Errno) -> IoctlReply {
        throw .noFunction
    }
    public func opendir(_ inode: InodeNumber, context: RequestContext) throws(Errno) -> OpenReply { OpenReply() }
    public func releasedir(_ inode: InodeNumber, handle: FileHandle) {}
    public func statfs(_ inode: InodeNumber) throws(Errno) -> FilesystemStatistics { FilesystemStatistics() }
    public func mkdir(parent: InodeNumber, name: String, permissions: UInt16, context: RequestContext) throws(Errno)
        -> FileAttributes
    { throw .noFunction }
    public func mknod(parent: InodeNumber, name: String, mode: UInt32, context: RequestContext) throws(Errno)
        -> FileAttributes
    { throw .noFunction }
    public func create(
        parent: InodeNumber, name: String, permissions: UInt16, flags: OpenFlags, context: RequestContext
    ) throws(Errno) -> (FileAttributes, OpenReply) { throw .noFunction }
    public func unlink(parent: InodeNumber, name: String) throws(Errno) { throw .noFunction }
    public func rmdir(parent: InodeNumber, name: String) throws(Errno) { throw .noFunction }
    public func rename(parent: InodeNumber, name: String, newParent: InodeNumber, newName: String) throws(Errno) {
        throw .noFunction
    }
    public func symlink(target: String, parent: InodeNumber, name: String) throws(Errno) -> FileAttributes {
        throw .noFunction
    }
    public func link(_ inode: InodeNumber, newParent: InodeNumber, newName: String) throws(Errno) -> FileAttributes {
        throw .noFunction
    }
}
