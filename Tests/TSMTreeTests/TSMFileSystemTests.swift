import FuseKit
import Glibc
import SystemPackage
import Testing
import TSMBackends
import TSMModel
import TSMTree
import TestSupport
import TSMGuest
import TSMGuests

/// The filesystem's answers without a mount: the same rules the integration tests check through
/// the kernel, here at the operation level.
@Suite("TSMFileSystem operations")
struct TSMFileSystemTests {
    let fs: TSMFileSystem
    let root = RequestContext(uid: 0, gid: 0, pid: 1)

    init() throws {
        let providers = try Guests.catalogue.plainProviders.map {
            try MeasurementProvider($0, backend: SoftwareBackend())
        }
        fs = TSMFileSystem(tree: RFCv2Layout.tree(providers))
    }

    func inode(_ path: String) throws -> InodeNumber {
        try #require(fs.tree.node(at: path)).inode
    }

    func open(_ path: String, _ flags: Int32) throws(Errno) -> OpenReply {
        guard let node = fs.tree.node(at: path) else { throw .noSuchFileOrDirectory }
        return try fs.open(node.inode, flags: OpenFlags(rawValue: flags), context: root)
    }

    @Test("the RFC v2 shape: provider dirs, register dirs with digest and hash_algo, F files")
    func shape() throws {
        let names = try fs.readdir(.root, handle: .none).map(\.name)
        #expect(names == [".", "..", "cca", "measurement-example", "tdx"])
        let example = try fs.readdir(inode("measurement-example"), handle: .none).map(\.name)
        #expect(
            example == [
                ".", "..", "full_report", "static_mr", "config_mr", "rtmr0", "rtmr1", "user_data", "report_digest",
            ])
        #expect(try fs.readdir(inode("tdx/rtmr0"), handle: .none).map(\.name) == [".", "..", "digest", "hash_algo"])
        #expect(fs.tree.node(at: "tdx/report0")?.kind == .regular)
        #expect(fs.tree.node(at: "tdx/reportdata")?.kind == .regular)
        #expect(fs.tree.node(at: "measurement-example/full_report/hash_algo") == nil)
    }

    @Test(
        "modes and sizes",
        arguments: [
            ("measurement-example/static_mr/digest", UInt16(0o444), UInt64(48)),
            ("measurement-example/rtmr0/digest", 0o444, 32),
            ("measurement-example/rtmr1/digest", 0o664, 48),
            ("measurement-example/user_data/digest", 0o664, 64),
            ("measurement-example/report_digest/digest", 0o444, 64),
            ("measurement-example/full_report", 0o444, 320),
            ("measurement-example/rtmr1/hash_algo", 0o444, 4096),
            ("tdx/rtmr3/digest", 0o664, 48),
            ("tdx/reportdata", 0o664, 64),
            ("tdx/report0", 0o444, 1024),
            ("cca/rem0/digest", 0o664, 32),
            ("cca/rim/digest", 0o444, 32),
        ])
    func modes(path: String, mode: UInt16, size: UInt64) throws {
        let attributes = try fs.getattr(inode(path))
        #expect(attributes.permissions == mode)
        #expect(attributes.size == size)
        #expect(attributes.kind == .regular)
        #expect(attributes.uid == 0 && attributes.gid == 0)
    }

    @Test("directories are 0755")
    func directories() throws {
        for path in ["", "tdx", "tdx/rtmr0", "measurement-example/report_digest"] {
            let attributes = try fs.getattr(path.isEmpty ? .root : inode(path))
            #expect(attributes.kind == .directory)
            #expect(attributes.permissions == 0o755)
        }
    }

    @Test("open checks the mode for root too")
    func openChecks() throws {
        let readOnly = O_WRONLY, readWrite = O_RDWR
        #expect(throws: Errno.permissionDenied) { try open("tdx/mrtd/digest", readOnly) }
        #expect(throws: Errno.permissionDenied) { try open("tdx/mrtd/digest", readWrite) }
        #expect(throws: Errno.permissionDenied) { try open("tdx/rtmr0/hash_algo", readOnly) }
        #expect(throws: Errno.permissionDenied) { try open("tdx/report0", readOnly) }
        #expect(try open("tdx/rtmr0/digest", readWrite).directIO)
        #expect(try open("tdx/mrtd/digest", O_RDONLY).directIO)
        #expect(try open("tdx/rtmr0/hash_algo", O_RDONLY).directIO)
    }

    @Test("hash_algo has no newline and reads at any offset")
    func hashAlgo() throws {
        let node = try inode("tdx/rtmr0/hash_algo")
        #expect(try fs.read(node, handle: .none, offset: 0, count: 4096) == Array("sha384".utf8))
        #expect(try fs.read(node, handle: .none, offset: 3, count: 4096) == Array("384".utf8))
        #expect(try fs.read(node, handle: .none, offset: 6, count: 4096) == [])
        #expect(try fs.read(inode("cca/rem1/hash_algo"), handle: .none, offset: 0, count: 100) == Array("sha256".utf8))
    }

    @Test("an O_APPEND handle writes at its own position, as sysfs ignores the flag")
    func append() throws {
        let node = try inode("tdx/rtmr1/digest")
        let reply = try open("tdx/rtmr1/digest", O_WRONLY | O_APPEND)
        let data = [UInt8](repeating: 0, count: 48)
        // The kernel sends O_APPEND writes at the cached size (48).
        let first = try data.withUnsafeBytes { try fs.write(node, handle: reply.handle, offset: 48, data: $0) }
        #expect(first == 48)
        #expect(throws: Errno.fileTooLarge) {
            try data.withUnsafeBytes { try fs.write(node, handle: reply.handle, offset: 96, data: $0) }
        }
        fs.release(node, handle: reply.handle)
        #expect(
            hex(try fs.read(node, handle: .none, offset: 0, count: 48))
                == "f57bb7ed82c6ae4a29e6c9879338c592c7d42a39135583e8ccbe3940f2344b0eb6eb8503db0ffd6a39ddd00cd07d8317")
    }

    @Test("truncation and timestamps are accepted no-ops; modes and owners are fixed")
    func setattr() throws {
        let node = try inode("tdx/rtmr1/digest")
        #expect(try fs.setattr(node, changes: AttributeChanges(size: 0), handle: nil).size == 48)
        #expect(try fs.setattr(node, changes: AttributeChanges(times: true), handle: nil).size == 48)
        #expect(throws: Errno.notPermitted) {
            try fs.setattr(node, changes: AttributeChanges(permissions: 0o777), handle: nil)
        }
        #expect(throws: Errno.notPermitted) { try fs.setattr(node, changes: AttributeChanges(uid: 1000), handle: nil) }
    }

    @Test("structural operations answer as sysfs")
    func structure() throws {
        let tdx = try inode("tdx")
        #expect(throws: Errno.notPermitted) { try fs.mkdir(parent: tdx, name: "x", permissions: 0o755, context: root) }
        #expect(throws: Errno.permissionDenied) {
            try fs.create(
                parent: tdx, name: "x", permissions: 0o644, flags: OpenFlags(rawValue: O_WRONLY), context: root)
        }
        #expect(throws: Errno.permissionDenied) { try fs.mknod(parent: tdx, name: "x", mode: 0o100644, context: root) }
        #expect(throws: Errno.notPermitted) { try fs.unlink(parent: tdx, name: "reportdata") }
        #expect(throws: Errno.notPermitted) { try fs.rmdir(parent: tdx, name: "rtmr0") }
        #expect(throws: Errno.notPermitted) { try fs.rename(parent: tdx, name: "rtmr0", newParent: tdx, newName: "x") }
        #expect(throws: Errno.notPermitted) { try fs.symlink(target: "rtmr0", parent: tdx, name: "x") }
        #expect(throws: Errno.notPermitted) { try fs.link(inode("tdx/reportdata"), newParent: tdx, newName: "x") }
        #expect(throws: Errno.noSuchFileOrDirectory) { try fs.lookup(parent: tdx, name: "nope") }
    }

    @Test("inode numbers are stable across builds")
    func stableInodes() throws {
        let providers = try Guests.catalogue.plainProviders.map {
            try MeasurementProvider($0, backend: SoftwareBackend())
        }
        let again = RFCv2Layout.tree(providers)
        #expect(again.node(at: "tdx/rtmr2/digest")?.inode == fs.tree.node(at: "tdx/rtmr2/digest")?.inode)
    }
}
