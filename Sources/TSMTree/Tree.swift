import FuseKit
import SystemPackage

/// A node of a served tree. Nodes never change once made: the static tree is built once, and a
/// group's items are made whole by mkdir and dropped whole by rmdir.
public struct Node: Sendable {
    public enum Content: Sendable {
        /// Children by name, and their names in listing order.
        case directory([String: InodeNumber], order: [String])
        /// A configfs group: its children are the items mkdir made.
        case group(any GroupDirectory)
        case file(any Attribute)
        case symbolicLink(String)
    }

    public let inode: InodeNumber
    public let parent: InodeNumber
    public let name: String
    public let content: Content

    public var kind: FileKind {
        switch content {
        case .directory, .group: return .directory
        case .file: return .regular
        case .symbolicLink: return .symbolicLink
        }
    }
}

/// An immutable inode table: lookups are an array index and a dictionary probe.
public struct Tree: Sendable {
    /// Indexed by inode number - 1; the root is inode 1.
    public let nodes: [Node]

    public subscript(inode: InodeNumber) -> Node? {
        let index = Int(truncatingIfNeeded: inode.rawValue) - 1
        return nodes.indices.contains(index) ? nodes[index] : nil
    }

    /// A static child (groups have none).
    public func child(of parent: InodeNumber, named name: String) -> Node? {
        guard let node = self[parent], case .directory(let children, _) = node.content,
            let inode = children[name]
        else { return nil }
        return self[inode]
    }

    /// The node at a slash-separated path from the root (tests, diagnostics).
    public func node(at path: String) -> Node? {
        var current = self[.root]
        for component in path.split(separator: "/") {
            guard let node = current else { return nil }
            current = child(of: node.inode, named: String(component))
        }
        return current
    }
}

/// Builds a ``Tree`` from the root down. InodeNumber numbers are given in the order nodes are added, so
/// the same providers always give the same numbers.
public struct TreeBuilder {
    private var inodes: [(parent: InodeNumber, name: String, content: PendingContent)]
    /// Per directory (index into `inodes`): child names in the order added, and name to inode.
    /// Kept apart from `inodes` so that adding a child appends in place (linear start-up).
    private var order: [Int: [String]] = [:]
    private var byName: [Int: [String: InodeNumber]] = [:]

    private enum PendingContent {
        case directory
        case group(any GroupDirectory)
        case file(any Attribute)
        case symbolicLink(String)
    }

    public init() {
        inodes = [(parent: .root, name: "", content: .directory)]
    }

    public var root: InodeNumber { .root }

    /// Adds a directory under `parent`; returns its inode.
    @discardableResult
    public mutating func addDirectory(_ name: String, in parent: InodeNumber) -> InodeNumber {
        add(name, in: parent, .directory)
    }

    /// Adds a configfs group under `parent`: mkdir in it makes items through `controller`.
    @discardableResult
    public mutating func addGroup(_ name: String, in parent: InodeNumber, _ controller: any GroupDirectory)
        -> InodeNumber
    {
        add(name, in: parent, .group(controller))
    }

    /// Adds the directories of `path` (slash-separated) under `parent` that do not exist yet;
    /// returns the last one.
    @discardableResult
    public mutating func addDirectories(_ path: String, in parent: InodeNumber) -> InodeNumber {
        var current = parent
        for component in path.split(separator: "/").map(String.init) {
            if let existing = childInode(of: current, named: component) {
                current = existing
            } else {
                current = addDirectory(component, in: current)
            }
        }
        return current
    }

    private func childInode(of parent: InodeNumber, named name: String) -> InodeNumber? {
        byName[Int(parent.rawValue) - 1]?[name]
    }

    @discardableResult
    public mutating func addFile(_ name: String, in parent: InodeNumber, _ attribute: any Attribute) -> InodeNumber {
        add(name, in: parent, .file(attribute))
    }

    @discardableResult
    public mutating func addSymbolicLink(_ name: String, in parent: InodeNumber, target: String) -> InodeNumber {
        add(name, in: parent, .symbolicLink(target))
    }

    private mutating func add(_ name: String, in parent: InodeNumber, _ content: PendingContent) -> InodeNumber {
        let inode = InodeNumber(UInt64(inodes.count + 1))
        inodes.append((parent: parent, name: name, content: content))
        let parentIndex = Int(parent.rawValue) - 1
        if case .directory = inodes[parentIndex].content {
            order[parentIndex, default: []].append(name)
        }
        byName[parentIndex, default: [:]][name] = inode
        return inode
    }

    public func build() -> Tree {
        let nodes = inodes.enumerated().map { index, entry -> Node in
            let content: Node.Content
            switch entry.content {
            case .directory: content = .directory(byName[index] ?? [:], order: order[index] ?? [])
            case .group(let controller): content = .group(controller)
            case .file(let attribute): content = .file(attribute)
            case .symbolicLink(let target): content = .symbolicLink(target)
            }
            return Node(inode: InodeNumber(UInt64(index + 1)), parent: entry.parent, name: entry.name, content: content)
        }
        return Tree(nodes: nodes)
    }
}

/// A configfs group's behaviour: what mkdir and rmdir in it do (configfs `make_item`/`drop_item`).
public protocol GroupDirectory: Sendable {
    /// mkdir NAME: makes the item and returns its attribute files, in listing order. The files
    /// exist as soon as mkdir returns.
    func makeItem(named name: String) throws(Errno) -> [(String, any Attribute)]
    /// rmdir NAME: drops the item. Descriptors still open on its files keep working.
    func dropItem(named name: String)
}
