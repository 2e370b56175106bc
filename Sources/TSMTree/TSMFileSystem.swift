import FuseKit
import Synchronization
import SystemPackage

/// Serves a ``Tree`` as sysfs and configfs serve their attributes (ABI.md sections 1 and 4): modes
/// checked at open for root too (EACCES), raw reads (direct I/O; register files from the page cache
/// once ``servePageCache(_:)`` ran), O_TRUNC and size changes accepted as no-ops, and structural
/// operations answered EPERM (EACCES for creating a file), except mkdir and rmdir of configfs items.
public final class TSMFileSystem: FileSystemOperations {
    public let tree: Tree
    /// Mount time, shown as every node's atime, mtime and ctime.
    private let time: Int64
    /// Items made by mkdir in groups, numbered after the static tree and never reused.
    private let items: Mutex<ItemTable>
    /// Open files that keep state; handle 0 means the attribute is served directly.
    private let openFiles = Mutex<[UInt64: any OpenFile]>([:])
    private let nextHandle = Atomic<UInt64>(1)
    /// Open directories: the listing taken at opendir, so that each readdir of a large directory
    /// is a slice of it rather than a new listing (one listing per opendir, as the kernel's
    /// readdir offsets expect).
    private let openDirectories = Mutex<[UInt64: [DirectoryEntry]]>([:])

    /// Every node's owner: root:root as in sysfs, or the user who mounted when that is not root,
    /// so that an unprivileged mount can extend its own registers.
    private let owner: (uid: UInt32, gid: UInt32)
    /// The register files served from the kernel's page cache once ``servePageCache(_:)`` ran.
    let pageCache: RegisterPageCache

    public init(tree: Tree, time: Int64 = 0, owner: (uid: UInt32, gid: UInt32) = (0, 0)) {
        self.tree = tree
        self.time = time
        self.owner = owner
        self.items = Mutex(ItemTable(next: UInt64(tree.nodes.count + 1)))
        self.pageCache = RegisterPageCache(tree: tree)
    }

    // MARK: Nodes

    func node(_ inode: InodeNumber) throws(Errno) -> Node {
        guard let node = existingNode(inode) else { throw .noSuchFileOrDirectory }
        return node
    }

    /// A static node without locking, else an item's node.
    private func existingNode(_ inode: InodeNumber) -> Node? {
        tree[inode] ?? items.withLock { $0.nodes[inode.rawValue] }
    }

    func child(of parent: Node, named name: String) -> Node? {
        switch parent.content {
        case .directory(let children, _):
            return children[name].flatMap(existingNode)
        case .group:
            return items.withLock { table in
                table.children[parent.inode.rawValue]?[name].flatMap { table.nodes[$0.rawValue] }
            }
        case .file, .symbolicLink:
            return nil
        }
    }

    private func attribute(_ inode: InodeNumber) throws(Errno) -> any Attribute {
        switch try node(inode).content {
        case .file(let attribute): return attribute
        case .directory, .group: throw .isDirectory
        case .symbolicLink: throw .invalidArgument
        }
    }

    private func childNodes(of node: Node) -> [Node] {
        switch node.content {
        case .directory(let children, let order):
            return order.compactMap { name in children[name].flatMap(existingNode) }
        case .group:
            // Items in creation order: their inodes are allocated in increasing order.
            return items.withLock { table in
                (table.children[node.inode.rawValue]?.values.sorted { $0.rawValue < $1.rawValue } ?? []).compactMap {
                    table.nodes[$0.rawValue]
                }
            }
        case .file, .symbolicLink:
            return []
        }
    }

    func attributes(of node: Node) -> FileAttributes {
        switch node.content {
        case .directory, .group:
            // As kernfs and configfs: 2 plus one for each subdirectory's "..". Every item of a
            // group is a directory: counted without listing them (mkdir and lookups stay O(1)).
            let subdirectories: Int
            if case .directory(let children, _) = node.content {
                subdirectories = children.values.compactMap(existingNode).filter { $0.kind == .directory }.count
            } else {
                subdirectories = items.withLock { $0.children[node.inode.rawValue]?.count ?? 0 }
            }
            return FileAttributes(
                inode: node.inode, kind: .directory, permissions: 0o755, size: 0,
                linkCount: UInt32(2 + subdirectories), uid: owner.uid, gid: owner.gid, time: time)
        case .file(let attribute):
            return FileAttributes(
                inode: node.inode, kind: .regular, permissions: attribute.permissions,
                size: attribute.size, uid: owner.uid, gid: owner.gid, time: time)
        case .symbolicLink(let target):
            return FileAttributes(
                inode: node.inode, kind: .symbolicLink, permissions: 0o777,
                size: UInt64(target.utf8.count), uid: owner.uid, gid: owner.gid, time: time)
        }
    }

    // MARK: Names and attributes

    public func lookup(parent: InodeNumber, name: String) throws(Errno) -> FileAttributes {
        guard let node = child(of: try node(parent), named: name) else { throw .noSuchFileOrDirectory }
        return attributes(of: node)
    }

    public func getattr(_ inode: InodeNumber) throws(Errno) -> FileAttributes {
        attributes(of: try node(inode))
    }

    /// kernfs ignores size changes (so `>` truncation succeeds and `st_size` stays) and accepts
    /// timestamps; tsmfs keeps modes and owners fixed (EPERM).
    public func setattr(_ inode: InodeNumber, changes: AttributeChanges, handle: FileHandle?) throws(Errno)
        -> FileAttributes
    {
        let node = try node(inode)
        if changes.permissions != nil || changes.uid != nil || changes.gid != nil { throw .notPermitted }
        return attributes(of: node)
    }

    public func readlink(_ inode: InodeNumber) throws(Errno) -> String {
        guard case .symbolicLink(let target) = try node(inode).content else { throw .invalidArgument }
        return target
    }

    // MARK: Files

    /// sysfs checks the mode at open with no capability override: EACCES for root too. configfs
    /// refuses opening for an access the attribute has no method for, which its mode mirrors.
    public func open(_ inode: InodeNumber, flags: OpenFlags, context: RequestContext) throws(Errno) -> OpenReply {
        let attribute = try attribute(inode)
        let mode = attribute.permissions
        if flags.wantsRead && mode & 0o444 == 0 { throw .permissionDenied }
        if flags.wantsWrite && mode & 0o222 == 0 { throw .permissionDenied }
        guard let file = try attribute.open(flags: flags) else {
            // Writes stay direct: through the page cache, a reader would read back what was written.
            let cached = !flags.wantsWrite && pageCache.isCached(inode)
            return OpenReply(directIO: !cached, noFlush: true, keepCache: cached)
        }
        let id = nextHandle.wrappingAdd(1, ordering: .relaxed).oldValue
        openFiles.withLock { $0[id] = file }
        return OpenReply(handle: FileHandle(rawValue: id), directIO: true, nonSeekable: file.nonSeekable)
    }

    private func openFile(_ handle: FileHandle) -> (any OpenFile)? {
        handle == .none ? nil : openFiles.withLock { $0[handle.rawValue] }
    }

    public func read(_ inode: InodeNumber, handle: FileHandle, offset: Int64, count: Int) throws(Errno) -> [UInt8] {
        if let file = openFile(handle) { return try file.read(offset: offset, count: count) }
        pageCache.willRead(inode)
        return try attribute(inode).read(offset: offset, count: count)
    }

    public func write(_ inode: InodeNumber, handle: FileHandle, offset: Int64, data: UnsafeRawBufferPointer)
        throws(Errno) -> Int
    {
        if let file = openFile(handle) { return try file.write(offset: offset, data: data) }
        return try attribute(inode).write(offset: offset, data: data)
    }

    public func ioctl(_ inode: InodeNumber, handle: FileHandle, request: IoctlRequest) throws(Errno) -> IoctlReply {
        let reply = try attribute(inode).ioctl(request)
        guard reply.output.count <= request.outputSize else { throw .invalidArgument }
        return reply
    }

    public func flush(_ inode: InodeNumber, handle: FileHandle) throws(Errno) {
        try openFile(handle)?.flush()
    }

    public func release(_ inode: InodeNumber, handle: FileHandle) {
        guard handle != .none else { return }
        openFiles.withLock { $0.removeValue(forKey: handle.rawValue) }?.release()
    }

    // MARK: Directories

    public func opendir(_ inode: InodeNumber, context: RequestContext) throws(Errno) -> OpenReply {
        let listing = try self.listing(of: inode)
        let id = nextHandle.wrappingAdd(1, ordering: .relaxed).oldValue
        openDirectories.withLock { $0[id] = listing }
        return OpenReply(handle: FileHandle(rawValue: id))
    }

    public func readdir(_ inode: InodeNumber, handle: FileHandle) throws(Errno) -> [DirectoryEntry] {
        if let listing = openDirectories.withLock({ $0[handle.rawValue] }) { return listing }
        return try listing(of: inode)
    }

    public func releasedir(_ inode: InodeNumber, handle: FileHandle) {
        _ = openDirectories.withLock { $0.removeValue(forKey: handle.rawValue) }
    }

    private func listing(of inode: InodeNumber) throws(Errno) -> [DirectoryEntry] {
        let node = try node(inode)
        guard node.kind == .directory else { throw .notDirectory }
        return [
            DirectoryEntry(name: ".", inode: node.inode, kind: .directory),
            DirectoryEntry(name: "..", inode: node.parent, kind: .directory),
        ] + childNodes(of: node).map { DirectoryEntry(name: $0.name, inode: $0.inode, kind: $0.kind) }
    }

    public func statfs(_ inode: InodeNumber) throws(Errno) -> FilesystemStatistics {
        FilesystemStatistics(blockSize: 4096, maximumNameLength: 255, files: UInt64(tree.nodes.count))
    }

    // MARK: Structure: fixed, as sysfs answers (measured on Linux 6.18); items in configfs groups

    /// mkdir in a configfs group makes an item whose attribute files exist when mkdir returns;
    /// anywhere else EPERM.
    public func mkdir(parent: InodeNumber, name: String, permissions: UInt16, context: RequestContext) throws(Errno)
        -> FileAttributes
    {
        let parentNode = try node(parent)
        guard case .group(let controller) = parentNode.content else { throw .notPermitted }
        // configfs refuses names past NAME_MAX, as every filesystem does.
        guard name.utf8.count <= 255 else { throw .fileNameTooLong }
        if child(of: parentNode, named: name) != nil { throw .fileExists }
        let files = try controller.makeItem(named: name)
        let item = items.withLock { $0.addItem(name, in: parent, files: files) }
        return attributes(of: item)
    }

    /// rmdir of an item in a configfs group drops it, populated or not; anywhere else EPERM.
    public func rmdir(parent: InodeNumber, name: String) throws(Errno) {
        let parentNode = try node(parent)
        guard case .group(let controller) = parentNode.content else { throw .notPermitted }
        guard items.withLock({ $0.removeItem(name, in: parent) }) else { throw .noSuchFileOrDirectory }
        controller.dropItem(named: name)
    }

    /// Drops every item of every configfs group, as removing them all with rmdir would (a
    /// reboot). Returns the removed names so the caller can tell the kernel to forget them.
    public func dropAllItems() -> [(parent: InodeNumber, name: String)] {
        var removed: [(parent: InodeNumber, name: String)] = []
        for node in tree.nodes {
            guard case .group(let controller) = node.content else { continue }
            let names = items.withLock { table in
                (table.children[node.inode.rawValue] ?? [:]).sorted { $0.value.rawValue < $1.value.rawValue }.map(\.key)
            }
            for name in names where items.withLock({ $0.removeItem(name, in: node.inode) }) {
                controller.dropItem(named: name)
                removed.append((node.inode, name))
            }
        }
        return removed
    }

    public func mknod(parent: InodeNumber, name: String, mode: UInt32, context: RequestContext) throws(Errno)
        -> FileAttributes
    {
        throw .permissionDenied
    }

    public func create(
        parent: InodeNumber, name: String, permissions: UInt16, flags: OpenFlags, context: RequestContext
    ) throws(Errno) -> (FileAttributes, OpenReply) {
        throw .permissionDenied
    }

    public func unlink(parent: InodeNumber, name: String) throws(Errno) { throw .notPermitted }
    public func rename(parent: InodeNumber, name: String, newParent: InodeNumber, newName: String) throws(Errno) {
        throw .notPermitted
    }
    public func symlink(target: String, parent: InodeNumber, name: String) throws(Errno) -> FileAttributes {
        throw .notPermitted
    }
    public func link(_ inode: InodeNumber, newParent: InodeNumber, newName: String) throws(Errno) -> FileAttributes {
        throw .notPermitted
    }
}
