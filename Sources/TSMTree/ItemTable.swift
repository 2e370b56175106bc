import FuseKit

/// The nodes of the items in configfs groups.
struct ItemTable {
    var next: UInt64
    var nodes: [UInt64: Node] = [:]
    /// Per group inode: item name to the item directory's inode (allocated in creation order).
    var children: [UInt64: [String: InodeNumber]] = [:]

    init(next: UInt64) {
        self.next = next
    }

    private mutating func allocate() -> InodeNumber {
        defer { next += 1 }
        return InodeNumber(next)
    }

    mutating func addItem(_ name: String, in group: InodeNumber, files: [(String, any Attribute)]) -> Node {
        let directory = allocate()
        var fileInodes: [String: InodeNumber] = [:]
        for (fileName, attribute) in files {
            let inode = allocate()
            fileInodes[fileName] = inode
            nodes[inode.rawValue] = Node(inode: inode, parent: directory, name: fileName, content: .file(attribute))
        }
        let item = Node(
            inode: directory, parent: group, name: name, content: .directory(fileInodes, order: files.map(\.0)))
        nodes[directory.rawValue] = item
        children[group.rawValue, default: [:]][name] = directory
        return item
    }

    mutating func removeItem(_ name: String, in group: InodeNumber) -> Bool {
        guard let directory = children[group.rawValue]?.removeValue(forKey: name),
            let item = nodes.removeValue(forKey: directory.rawValue)
        else { return false }
        if case .directory(let files, _) = item.content {
            for inode in files.values { nodes.removeValue(forKey: inode.rawValue) }
        }
        return true
    }
}
