@testable import FuseKit
import Glibc
import SystemPackage
import Testing

/// The least filesystem a session accepts; never called, since nothing is mounted.
private final class EmptyFileSystem: FileSystemOperations {
    func lookup(parent: InodeNumber, name: String) throws(Errno) -> FileAttributes { throw .noSuchFileOrDirectory }
    func getattr(_ inode: InodeNumber) throws(Errno) -> FileAttributes { throw .noSuchFileOrDirectory }
    func open(_ inode: InodeNumber, flags: OpenFlags, context: RequestContext) throws(Errno) -> OpenReply {
        throw .noSuchFileOrDirectory
    }
    func read(_ inode: InodeNumber, handle: FileHandle, offset: Int64, count: Int) throws(Errno) -> [UInt8] { [] }
    func readdir(_ inode: InodeNumber, handle: FileHandle) throws(Errno) -> [DirectoryEntry] { [] }
}

@Suite("Session lifetime and loop result")
struct SessionTests {
    @Test func theLoopResultIsTyped() {
        #expect(LoopExit(libfuseStatus: 0) == .clean)
        #expect(LoopExit(libfuseStatus: SIGTERM) == .signal(SIGTERM))
        #expect(LoopExit(libfuseStatus: SIGHUP) == .signal(SIGHUP))
        #expect(LoopExit(libfuseStatus: -ENOMEM) == .failure(.noMemory))
        #expect(LoopExit(libfuseStatus: -EIO) == .failure(.ioError))
        #expect(LoopExit(libfuseStatus: Int32.min) == .failure(.ioError))
    }

    @Test func aHandleRunsUsesUntilClosedThenNever() throws {
        let pointer = try #require(OpaquePointer(bitPattern: 0x1000))
        let handle = SessionHandle(pointer)
        #expect(handle.withSession { $0 == pointer } == true)
        handle.close()
        var ran = false
        #expect(handle.withSession { _ in ran = true } == nil)
        #expect(!ran)
        handle.close()
        #expect(handle.withSession { _ in 1 } == nil)
    }

    @Test func anInvalidatorOutlivingItsSessionDoesNothing() throws {
        let invalidator: EntryInvalidator
        do {
            let session = try FuseSession(filesystem: EmptyFileSystem(), options: ["fsname=fusekit-test"])
            invalidator = session.invalidator
        }
        #expect(invalidator.invalidate(parent: .root, name: "report") == false)
    }

    @Test func unmountCutsInvalidatorsOff() throws {
        let session = try FuseSession(filesystem: EmptyFileSystem(), options: ["fsname=fusekit-test"])
        let invalidator = session.invalidator
        session.unmount()
        #expect(invalidator.invalidate(parent: .root, name: "report") == false)
        #expect(session.invalidator.invalidate(parent: InodeNumber(2), name: "x") == false)
    }
}
