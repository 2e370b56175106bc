import CFuse
import Dispatch
import Foundation
@testable import FuseKit
import Glibc
import Synchronization
import SystemPackage
import Testing

/// A root with two files. `cached` (#2, two pages) is served from the page cache, and its READ at
/// offset 0 waits at ``releaseFirstRead`` (saying so on ``firstReadParked``). A WRITE to `trigger`
/// (#3, direct I/O) drops `cached`'s pages from inside its handler, as the daemon's extends do.
private final class StallingFileSystem: FileSystemOperations {
    static let cached = InodeNumber(2)
    static let trigger = InodeNumber(3)
    static let pageSize = 4096

    let firstReadParked = DispatchSemaphore(value: 0)
    let releaseFirstRead = DispatchSemaphore(value: 0)
    let parked = Atomic<Bool>(false)
    let writeArrived = DispatchSemaphore(value: 0)
    let invalidate = DispatchSemaphore(value: 0)
    /// The worker thread of the WRITE, as /proc/thread-self names it ("PID/task/TID").
    let writer = Mutex<String?>(nil)
    let invalidator = Mutex<InodeInvalidator?>(nil)
    /// Long: a read must not ask for attributes (a GETATTR would take the place of the READ).
    var cacheTimeout: Double { 3600 }

    func attributes(_ inode: InodeNumber) throws(Errno) -> FileAttributes {
        switch inode {
        case .root: FileAttributes(inode: .root, kind: .directory, permissions: 0o755, size: 0, linkCount: 2)
        case Self.cached: FileAttributes(inode: inode, kind: .regular, permissions: 0o444, size: 8192)
        case Self.trigger: FileAttributes(inode: inode, kind: .regular, permissions: 0o222, size: 0)
        default: throw .noSuchFileOrDirectory
        }
    }
    func lookup(parent: InodeNumber, name: String) throws(Errno) -> FileAttributes {
        guard parent == .root else { throw .noSuchFileOrDirectory }
        switch name {
        case "cached": return try attributes(Self.cached)
        case "trigger": return try attributes(Self.trigger)
        default: throw .noSuchFileOrDirectory
        }
    }
    func getattr(_ inode: InodeNumber) throws(Errno) -> FileAttributes { try attributes(inode) }
    func open(_ inode: InodeNumber, flags: OpenFlags, context: RequestContext) throws(Errno) -> OpenReply {
        inode == Self.cached ? OpenReply(keepCache: true) : OpenReply(directIO: true)
    }
    func read(_ inode: InodeNumber, handle: FuseKit.FileHandle, offset: Int64, count: Int) throws(Errno) -> [UInt8] {
        // Only the first: the drop removes the page it filled, and the reader reads it again.
        if inode == Self.cached && offset == 0 && !parked.exchange(true, ordering: .relaxed) {
            firstReadParked.signal()
            // Bounded, so that a failed test cannot leave a worker parked for ever.
            _ = releaseFirstRead.wait(timeout: .now() + 60)
        }
        return [UInt8](repeating: UInt8(ascii: "x"), count: min(count, 8192 - Int(offset)))
    }
    func write(_ inode: InodeNumber, handle: FuseKit.FileHandle, offset: Int64, data: UnsafeRawBufferPointer)
        throws(Errno)
        -> Int
    {
        var link = [CChar](repeating: 0, count: 64)
        let length = Glibc.readlink("/proc/thread-self", &link, link.count - 1)
        let name = String(decoding: link.prefix(max(length, 0)).map { UInt8(bitPattern: $0) }, as: UTF8.self)
        writer.withLock { $0 = length > 0 ? name : nil }
        writeArrived.signal()
        _ = invalidate.wait(timeout: .now() + 60)
        _ = invalidator.withLock { $0 }?.invalidateData(Self.cached)
        return data.count
    }
    func readdir(_ inode: InodeNumber, handle: FuseKit.FileHandle) throws(Errno) -> [DirectoryEntry] { [] }
}

/// A FUSE connection's control directory (fusectl, mounted privately on a temporary directory):
/// its `waiting` count of requests not yet answered, and `abort`.
private struct ConnectionControl {
    let mountpoint: String
    let connection: String

    init(for fuseMount: String, in directory: String) throws {
        mountpoint = directory + "/fusectl"
        try #require(mkdir(mountpoint, 0o700) == 0)
        try #require(Glibc.mount("fusectl", mountpoint, "fusectl", 0, nil) == 0, "cannot mount fusectl: \(errno)")
        // From mountinfo's "major:minor" of the mount: a stat(2) of it would ask the filesystem.
        let table = try String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8)
        let fields = table.split(separator: "\n").map { $0.split(separator: " ") }
        let line = try #require(fields.first { $0.count > 4 && $0[4] == fuseMount }, "\(fuseMount) is not mounted")
        let minor = try #require(line[2].split(separator: ":").last)
        connection = "\(mountpoint)/\(minor)"
    }

    var waiting: Int {
        (try? String(contentsOfFile: connection + "/waiting", encoding: .utf8)).flatMap {
            Int($0.trimmingCharacters(in: .whitespacesAndNewlines))
        } ?? -1
    }

    func abort() { _ = try? "1".write(toFile: connection + "/abort", atomically: false, encoding: .utf8) }

    func remove() {
        umount2(mountpoint, 0)
        rmdir(mountpoint)
    }
}

/// The session and what ran it, shared with the thread that runs the loop.
private final class Running: @unchecked Sendable {
    let session: FuseSession
    let ended = DispatchSemaphore(value: 0)
    let result = Mutex<LoopExit?>(nil)

    init(_ session: FuseSession, maxThreads: UInt32) {
        self.session = session
        Thread.detachNewThread { [self] in
            let end = self.session.run(maxIdleThreads: 1, maxThreads: maxThreads)
            result.withLock { $0 = end }
            ended.signal()
        }
    }
}

/// What a client thread got: set once it returned.
private final class Outcome: Sendable {
    let done = DispatchSemaphore(value: 0)
    let value = Mutex<Int?>(nil)

    /// Runs `body` on a thread of its own.
    init(_ body: @escaping @Sendable () -> Int) {
        Thread.detachNewThread { [self] in
            let result = body()
            value.withLock { $0 = result }
            done.signal()
        }
    }

    var result: Int? { value.withLock { $0 } }
}

/// The state letter of a thread's stat file ("R", "S", "D"...); "" when unreadable.
private func threadState(_ path: String) -> String {
    guard let text = try? String(contentsOfFile: path, encoding: .utf8),
        let close = text.lastIndex(of: ")")
    else { return "" }
    return String(text[text.index(after: close)...].dropFirst().prefix(1))
}

/// Opened before anything parks: an OPEN needs a worker too, and would be what waits.
private func openForReading(_ path: String) throws -> Int32 {
    let fd = open(path, O_RDONLY)
    try #require(fd >= 0, "cannot open \(path): \(errno)")
    // One page per READ: no readahead joins both pages into one request.
    _ = posix_fadvise(fd, 0, 0, POSIX_FADV_RANDOM)
    return fd
}

private func bytesRead(_ fd: Int32, at offset: Int) -> Int {
    var buffer = [UInt8](repeating: 0, count: StallingFileSystem.pageSize)
    let count = pread(fd, &buffer, buffer.count, off_t(offset))
    return count < 0 ? -Int(errno) : count
}

private func bytesWritten(_ fd: Int32) -> Int {
    let count = write(fd, "1\n", 2)
    return count < 0 ? -Int(errno) : count
}

@Suite("Stopping a session", .serialized, .enabled(if: geteuid() == 0, "mounts FUSE: needs root"))
struct StopTests {
    /// The hang of DECISIONS.md "A stop that cannot hang": a handler drops pages of which one is
    /// locked by a READ still queued in the kernel. Both workers are busy (the parked READ, the
    /// dropping WRITE) when the second READ comes, so it waits in the kernel's queue, as READs do
    /// under load. Stopping must let that READ be answered before the workers go.
    @Test func aStopWaitsOutAnInvalidationThatWaitsForAQueuedRead() throws {
        let directory = try #require(mkdtemp(strdup("/tmp/fusekit-stop-XXXXXX")).map { String(cString: $0) })
        defer { rmdir(directory) }
        let mountpoint = directory + "/mnt"
        try #require(mkdir(mountpoint, 0o755) == 0)
        defer { rmdir(mountpoint) }

        let filesystem = StallingFileSystem()
        let session = try FuseSession(filesystem: filesystem, options: ["fsname=fusekit-stop-test"])
        filesystem.invalidator.withLock { $0 = session.inodeInvalidator }
        try session.mount(at: mountpoint)
        let running = Running(session, maxThreads: 2)
        let control = try ConnectionControl(for: mountpoint, in: directory)
        defer { control.remove() }
        // libfuse leaves an aborted connection's mount in place.
        defer { session.unmount(); umount2(mountpoint, Int32(MNT_DETACH)) }
        let bound: DispatchTime = .now() + 30

        let firstReader = try openForReading(mountpoint + "/cached")
        let secondReader = try openForReading(mountpoint + "/cached")
        let writer = open(mountpoint + "/trigger", O_WRONLY)
        try #require(writer >= 0, "cannot open the trigger: \(errno)")
        defer { for fd in [firstReader, secondReader, writer] { close(fd) } }

        _ = Outcome { bytesRead(firstReader, at: 0) }
        try #require(filesystem.firstReadParked.wait(timeout: bound) == .success, "the first READ never came")
        let written = Outcome { bytesWritten(writer) }
        try #require(filesystem.writeArrived.wait(timeout: bound) == .success, "the WRITE never came")
        // Both workers are busy: the second READ waits in the kernel's queue (three requests
        // unanswered: READ, WRITE, READ), its page locked.
        _ = Outcome { bytesRead(secondReader, at: StallingFileSystem.pageSize) }
        while control.waiting < 3 && DispatchTime.now() < bound { usleep(1000) }
        try #require(control.waiting >= 3, "the second READ was never sent: \(control.waiting) requests waiting")
        // The WRITE's worker drops the pages: it waits in the kernel for the first page's lock.
        filesystem.invalidate.signal()
        let task = try #require(filesystem.writer.withLock { $0 })
        while threadState("/proc/\(task)/stat") != "D" && DispatchTime.now() < bound { usleep(1000) }
        try #require(threadState("/proc/\(task)/stat") == "D", "the WRITE's worker never waited for a page")

        session.exit()
        filesystem.releaseFirstRead.signal()
        let stopped = running.ended.wait(timeout: .now() + 30) == .success
        #expect(
            stopped,
            """
            the loop did not return within 30 s of exit(): a worker is stuck dropping pages, waiting for \
            a READ that no worker is left to answer
            """)
        // The WRITE's worker was joined: its reply went out before the loop returned.
        let acknowledged = written.done.wait(timeout: .now() + (stopped ? 30 : 0)) == .success
        #expect(
            acknowledged && written.result == 2, "the WRITE was not acknowledged: \(String(describing: written.result))"
        )
        // What the kernel still holds after the stop (a page the drop took from the first reader,
        // read again) fails when the connection goes, as when the daemon closes /dev/fuse.
        control.abort()
        if !stopped { _ = running.ended.wait(timeout: .now() + 30) }
        if stopped { #expect(running.result.withLock { $0 } == .clean) }
    }

    /// libfuse 3.14's `fuse_session_exit` only sets a flag: the loop sees it after the next
    /// request. `exit()` must end an idle loop by itself.
    @Test func exitEndsAnIdleLoop() throws {
        let directory = try #require(mkdtemp(strdup("/tmp/fusekit-stop-XXXXXX")).map { String(cString: $0) })
        defer { rmdir(directory) }
        let filesystem = StallingFileSystem()
        let session = try FuseSession(filesystem: filesystem, options: ["fsname=fusekit-stop-test"])
        try session.mount(at: directory)
        defer { session.unmount() }
        let running = Running(session, maxThreads: 4)
        // One request answered first: the connection is initialised, so no INIT still to come
        // can wake the loop instead.
        #expect(cfuse_statfs_errno(directory) == 0)
        session.exit()
        let stopped = running.ended.wait(timeout: .now() + 30) == .success
        #expect(stopped, "the loop did not return within 30 s of exit() with no request coming")
        if !stopped {
            // Ends it the old way: one request, after which a worker sees the flag.
            _ = cfuse_statfs_errno(directory)
            _ = running.ended.wait(timeout: .now() + 30)
        }
        #expect(running.result.withLock { $0 } == .clean)
    }
}
