import Glibc
import Synchronization
import Testing
import TestSupport
import TSMHost

/// sd_notify without libsystemd: the datagram arrives at a socket of ours, path or abstract.
@Suite(.serialized) struct SystemdNotifierTests {
    /// NOTIFY_SOCKET is process-wide: one test at a time sets it, and clears it before returning.
    static let environment = Mutex(())

    @Test func sendsOneDatagramToAPathSocket() throws {
        let directory = try makeTemporaryDirectory("tsmhost-notify")
        defer { rmdir(directory) }
        let path = directory + "/notify"
        defer { unlink(path) }
        let state = "STATUS=tsmhost-test \(getpid()) path"
        let received = try Self.notify(state, socketNotation: path, bindPath: path)
        #expect(received == state)
    }

    @Test func sendsToAnAbstractSocket() throws {
        let name = "tsmhost-test-\(getpid())-\(UInt32.random(in: 0 ... .max))"
        let state = "READY=1\nSTATUS=tsmhost-test abstract"
        let received = try Self.notify(state, socketNotation: "@" + name, bindPath: "\0" + name)
        #expect(received == state)
    }

    @Test func doesNothingWithoutTheVariable() {
        Self.environment.withLock { _ in
            unsetenv("NOTIFY_SOCKET")
            #expect(!SystemdNotifier.notify("READY=1"))
            setenv("NOTIFY_SOCKET", "", 1)
            defer { unsetenv("NOTIFY_SOCKET") }
            #expect(!SystemdNotifier.notify("READY=1"))
        }
    }

    @Test func aSocketNobodyListensOnIsAFailure() throws {
        let directory = try makeTemporaryDirectory("tsmhost-notify")
        defer { rmdir(directory) }
        Self.environment.withLock { _ in
            setenv("NOTIFY_SOCKET", directory + "/absent", 1)
            defer { unsetenv("NOTIFY_SOCKET") }
            #expect(!SystemdNotifier.notify("READY=1"))
        }
    }

    /// Binds a datagram socket at `bindPath` (a leading NUL: abstract), points NOTIFY_SOCKET at
    /// it, notifies, and returns the datagram, waiting for it with poll(2) for at most 10 s.
    static func notify(_ state: String, socketNotation: String, bindPath: String) throws -> String? {
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        try #require(fd >= 0)
        defer { close(fd) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let pathBytes = Array(bindPath.utf8)
        try #require(pathBytes.count < MemoryLayout.size(ofValue: address.sun_path))
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: pathBytes) }
        let length = socklen_t(MemoryLayout<sa_family_t>.size + pathBytes.count + (bindPath.hasPrefix("\0") ? 0 : 1))
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
        }
        try #require(bound == 0, "bind: \(String(cString: strerror(errno)))")
        let sent = environment.withLock { _ in
            setenv("NOTIFY_SOCKET", socketNotation, 1)
            defer { unsetenv("NOTIFY_SOCKET") }
            return SystemdNotifier.notify(state)
        }
        #expect(sent)
        // Another test's daemon started while the variable was set could notify here too:
        // keep reading until our datagram comes, or the deadline.
        let clock = ContinuousClock(), deadline = clock.now + .seconds(10)
        var last: String?
        while clock.now < deadline {
            var pollFD = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard Glibc.poll(&pollFD, 1, 1_000) == 1 else { continue }
            var buffer = [UInt8](repeating: 0, count: 4096)
            let count = recv(fd, &buffer, buffer.count, Int32(MSG_DONTWAIT))
            guard count >= 0 else { continue }
            last = String(decoding: buffer.prefix(count), as: UTF8.self)
            if last == state { return last }
        }
        Issue.record("no datagram \(state.debugDescription) within 10 s")
        return last
    }
}
