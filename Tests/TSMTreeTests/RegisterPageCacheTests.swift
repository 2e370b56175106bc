import FuseKit
import Glibc
import Synchronization
import SystemPackage
import Testing
import TSMBackends
import TSMModel
import TSMGuest
import TSMGuests
@testable import TSMTree

/// Which opens keep the kernel's page cache, and which inodes a change drops (DECISIONS.md, "Page
/// cache for register files"), without a mount: the invalidations are recorded.
@Suite("Register page cache")
struct RegisterPageCacheTests {
    let fs: TSMFileSystem
    let tdx: MeasurementProvider
    let dropped = Dropped()
    let root = RequestContext(uid: 0, gid: 0, pid: 1)

    final class Dropped: Sendable {
        private let inodes = Mutex<[InodeNumber]>([])
        func record(_ inode: InodeNumber) { inodes.withLock { $0.append(inode) } }
        func take() -> Set<InodeNumber> {
            Set(
                inodes.withLock { list in
                    defer { list = [] }; return list
                })
        }
    }

    init() throws {
        let providers = try Guests.catalogue.plainProviders.map {
            try MeasurementProvider($0, backend: SoftwareBackend())
        }
        tdx = try #require(providers.first { $0.name == "tdx" })
        fs = TSMFileSystem(tree: RFCv2Layout.tree(providers))
    }

    func serve() {
        let dropped = self.dropped
        fs.pageCache.serve { dropped.record($0) }
    }

    func inode(_ path: String) throws -> InodeNumber {
        try #require(fs.tree.node(at: path)).inode
    }

    func open(_ path: String, _ flags: Int32) throws -> OpenReply {
        try fs.open(try inode(path), flags: OpenFlags(rawValue: flags), context: root)
    }

    func read(_ path: String) throws -> [UInt8] {
        try fs.read(try inode(path), handle: .none, offset: 0, count: 4096)
    }

    func extend(_ path: String) throws {
        let data = [UInt8](repeating: 7, count: 48)
        let written = try data.withUnsafeBytes { try fs.write(try inode(path), handle: .none, offset: 0, data: $0) }
        #expect(written == 48)
    }

    @Test("nothing is cached until the filesystem can invalidate")
    func directUntilServed() throws {
        let reply = try open("tdx/rtmr2/digest", O_RDONLY)
        #expect(reply.directIO && !reply.keepCache)
    }

    @Test("read-only opens of register files keep the cache; writers, hash_algo and O_APPEND stay direct")
    func whichOpens() throws {
        serve()
        for path in [
            "tdx/rtmr2/digest", "tdx/report0", "tdx/reportdata", "measurement-example/full_report", "tdx/mrtd/digest",
        ] {
            let reply = try open(path, O_RDONLY)
            #expect(reply.keepCache && !reply.directIO && reply.noFlush, "\(path)")
        }
        for flags in [O_WRONLY, O_RDWR, O_WRONLY | O_APPEND] {
            let reply = try open("tdx/rtmr2/digest", flags)
            #expect(reply.directIO && !reply.keepCache, "flags \(flags)")
        }
        let hashAlgo = try open("tdx/rtmr2/hash_algo", O_RDONLY)
        #expect(hashAlgo.directIO && !hashAlgo.keepCache)
    }

    @Test("a change drops exactly the provider's files read since the last drop, before it returns")
    func dropsWhatWasRead() throws {
        serve()
        _ = try read("tdx/rtmr2/digest")
        _ = try read("tdx/report0")
        _ = try read("cca/rem0/digest")  // another provider: not dropped by a tdx change
        try extend("tdx/rtmr1/digest")
        #expect(dropped.take() == [try inode("tdx/rtmr2/digest"), try inode("tdx/report0")])
        try extend("tdx/rtmr1/digest")
        #expect(dropped.take().isEmpty, "nothing read since: no notification")
        _ = try read("tdx/mrtd/digest")
        try tdx.set(try #require(tdx.table.indexByName["mrconfigid"]), to: [UInt8](repeating: 1, count: 48))
        #expect(dropped.take() == [try inode("tdx/mrtd/digest")])
        _ = try read("tdx/rtmr1/digest")
        tdx.resetExtensible()
        #expect(dropped.take() == [try inode("tdx/rtmr1/digest")])
        #expect(tdx.generation == 4)
    }

    @Test("live registers whose refresh may fail are not cached; the provider's others are")
    func failingRefresh() throws {
        struct Outside: MeasurementBackend {
            var refreshMayFail: Bool { true }
            func refresh(_ registers: inout RegisterValues) throws(MRError) {
                try SoftwareBackend().refresh(&registers)
            }
            func extend(_ index: Int, with data: [UInt8], in registers: inout RegisterValues) throws(MRError) {
                try SoftwareBackend().extend(index, with: data, in: &registers)
            }
        }
        let provider = try MeasurementProvider(TDXGuest.provider, backend: Outside())
        let fs = TSMFileSystem(tree: RFCv2Layout.tree([provider]))
        fs.pageCache.serve { _ in }
        let context = root
        func reply(_ path: String) throws -> OpenReply {
            try fs.open(
                try #require(fs.tree.node(at: path)).inode, flags: OpenFlags(rawValue: O_RDONLY), context: context)
        }
        #expect(try reply("tdx/rtmr0/digest").directIO)
        #expect(try reply("tdx/report0").directIO)
        #expect(try reply("tdx/mrtd/digest").keepCache)
    }

    /// The cache once held its invalidation closure in a `Mutex` of a function type, which rewraps
    /// the closure in a reabstraction thunk on every `withLock`: each change lengthened a chain
    /// of thunks, and releasing ~100,000 of them at exit overflowed the stack (a release daemon
    /// exited 139 after SIGTERM). In a child process, so that such a crash fails only this test.
    @Test("100,000 changes leave nothing behind: releasing the filesystem after them returns")
    func noChainPerChange() async {
        await #expect(processExitsWith: .success) {
            let providers = try Guests.catalogue.plainProviders.map {
                try MeasurementProvider($0, backend: SoftwareBackend())
            }
            guard let tdx = providers.first(where: { $0.name == "tdx" }),
                let rtmr1 = tdx.table.indexByName["rtmr1"]
            else { exit(2) }
            var fs: TSMFileSystem? = TSMFileSystem(tree: RFCv2Layout.tree(providers))
            fs?.pageCache.serve { _ in }
            let data = [UInt8](repeating: 7, count: 48)
            for _ in 0..<100_000 {
                _ = try data.withUnsafeBytes { try tdx.write(rtmr1, offset: 0, data: $0) }
            }
            fs = nil
            exit(fs == nil ? 0 : 3)
        }
    }
}
