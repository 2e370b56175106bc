import FuseKit
import Synchronization
import SystemPackage

/// Serves a ``Tree`` as sysfs serves its attributes (ABI.md section 1): modes checked at open for
/// root too (EACCES), raw reads through direct I/O, O_TRUNC and size changes accepted as no-ops,
/// O_APPEND ignored, and structural operations answered EPERM (EACCES for creating a file).
public final class TSMFileSystem: FileSystemOperations {
    public let tree: Tree
    /// Mount time, shown as every node's atime, mtime and ctime.
    private let time: Int64
    /// Write positions of handles opened with O_APPEND (sysfs ignores the flag: such a handle
    /// writes at its own file position, which starts at 0).
    private let appendPositions = Mutex<[UInt64: Int64]>([:])
    private let nextHandle = Atomic<UInt64>(1)

    public init(tree: Tree, time: Int64 = 0) {
        self.tree = tree
        self.time = time
    }

    private func node(_ inode: InodeNumber) throws(Errno) -> Node {
        guard let node = tree[inode] else { throw .noSuchFileOrDirectory }
        return node
    }

    private func attribute(_ inode: InodeNumber) throws(Errno) -> any Attribute {
        let node = try node(inode)
        switch node.content {
        case .file(let attribute): return attribute
        case .directory: throw .isDirectory
        case .symbolicLink: throw .invalidArgument
        }
    }

    func attributes(of node: Node) -> FileAttributes {
        switch node.content {
        case .directory(let children, _):
            // As kernfs: 2 plus one for each subdirectory's "..".
            let subdirectories = children.values.reduce(0) { count, inode in tree[inode]?.kind == .directory ? count + 1 : count }
            return FileAttributes(inode: node.inode, kind: .directory, permissions: 0o755, size: 0,
                                  linkCount: UInt32(2 + subdirectories), time: time)
        case .file(let attribute):
            return FileAttributes(inode: node.inode, kind: .regular, permissions: attribute.permissions,
                                  size: attribute.size, time: time)
        case .symbolicLink(let target):
            return FileAttributes(inode: node.inode, kind: .symbolicLink, permissions: 0o777,
                                  size: UInt64(target.utf8.count), time: time)
        }
    }

    // MARK: Names and attributes

    public func lookup(parent: InodeNumber, name: String) throws(Errno) -> FileAttributes {
        guard let node = tree.child(of: parent, named: name) else { throw .noSuchFileOrDirectory }
        return attributes(of: node)
    }

    public func getattr(_ inode: InodeNumber) throws(Errno) -> FileAttributes {
        attributes(of: try node(inode))
    }

    /// kernfs ignores size changes (so `>` truncation succeeds and `st_size` stays) and accepts
    /// timestamps; tsmfs keeps modes and owners fixed (EPERM).
    public func setattr(_ inode: InodeNumber, changes: AttributeChanges, handle: FileHandle?) throws(Errno) -> FileAttributes {
        let node = try node(inode)
        if changes.permissions != nil || changes.uid != nil || changes.gid != nil { throw .notPermitted }
        return attributes(of: node)
    }

    public func readlink(_ inode: InodeNumber) throws(Errno) -> String {
        guard case .symbolicLink(let target) = try node(inode).content else { throw .invalidArgument }
        return target
    }

    // MARK: Files

    /// sysfs checks the mode at open with no capability override: EACCES for root too.
    public func open(_ inode: InodeNumber, flags: OpenFlags, context: RequestContext) throws(Errno) -> OpenReply {
        let attribute = try attribute(inode)
        let mode = attribute.permissions
        if flags.wantsRead && mode & 0o444 == 0 { throw .permissionDenied }
        if flags.wantsWrite && mode & 0o222 == 0 { throw .permissionDenied }
        var handle = FileHandle.none
        if flags.append && flags.wantsWrite {
            let id = nextHandle.wrappingAdd(1, ordering: .relaxed).oldValue
            appendPositions.withLock { $0[id] = 0 }
            handle = FileHandle(rawValue: id)
        }
        return OpenReply(handle: handle, directIO: true)
    }

    public func read(_ inode: InodeNumber, handle: FileHandle, offset: Int64, count: Int) throws(Errno) -> [UInt8] {
        try attribute(inode).read(offset: offset, count: count)
    }

    public func write(_ inode: InodeNumber, handle: FileHandle, offset: Int64, data: UnsafeRawBufferPointer) throws(Errno) -> Int {
        let attribute = try attribute(inode)
        guard handle != .none else { return try attribute.write(offset: offset, data: data) }
        // The kernel sends O_APPEND writes at the cached end of file; sysfs writes at the handle's
        // own position instead.
        let position = appendPositions.withLock { $0[handle.rawValue] } ?? offset
        let written = try attribute.write(offset: position, data: data)
        appendPositions.withLock { $0[handle.rawValue] = position + Int64(written) }
        return written
    }

    public func release(_ inode: InodeNumber, handle: FileHandle) {
        if handle != .none { _ = appendPositions.withLock { $0.removeValue(forKey: handle.rawValue) } }
    }

    // MARK: Directories

    public func opendir(_ inode: InodeNumber, context: RequestContext) throws(Errno) -> OpenReply {
        guard case .directory = try node(inode).content else { throw .notDirectory }
        return OpenReply()
    }

    public func readdir(_ inode: InodeNumber, handle: FileHandle) throws(Errno) -> [DirectoryEntry] {
        let node = try node(inode)
        guard case .directory(let children, let order) = node.content else { throw .notDirectory }
        var entries = [
            DirectoryEntry(name: ".", inode: node.inode, kind: .directory),
            DirectoryEntry(name: "..", inode: node.parent, kind: .directory),
        ]
        for name in order {
            guard let child = children[name].flatMap({ tree[$0] }) else { continue }
            entries.append(DirectoryEntry(name: name, inode: child.inode, kind: child.kind))
        }
        return entries
    }

    public func statfs(_ inode: InodeNumber) throws(Errno) -> FilesystemStatistics {
        FilesystemStatistics(blockSize: 4096, maximumNameLength: 255, files: UInt64(tree.nodes.count))
    }

    // MARK: Structure: fixed, as sysfs answers (measured on Linux 6.18)

    public func mkdir(parent: InodeNumber, name: String, permissions: UInt16, context: RequestContext) throws(Errno) -> FileAttributes {
        throw .notPermitted
    }

    public func mknod(parent: InodeNumber, name: String, mode: UInt32, context: RequestContext) throws(Errno) -> FileAttributes {
        throw .permissionDenied
    }

    public func create(parent: InodeNumber, name: String, permissions: UInt16, flags: OpenFlags, context: RequestContext) throws(Errno) -> (FileAttributes, OpenReply) {
        throw .permissionDenied
    }

    public func unlink(parent: InodeNumber, name: String) throws(Errno) { throw .notPermitted }
    public func rmdir(parent: InodeNumber, name: String) throws(Errno) { throw .notPermitted }
    public func rename(parent: InodeNumber, name: String, newParent: InodeNumber, newName: String) throws(Errno) { throw .notPermitted }
    public func symlink(target: String, parent: InodeNumber, name: String) throws(Errno) -> FileAttributes { throw .notPermitted }
    public func link(_ inode: InodeNumber, newParent: InodeNumber, newName: String) throws(Errno) -> FileAttributes { throw .notPermitted }
}
