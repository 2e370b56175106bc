import CLinux
import Glibc
import TSMBytes

/// One running swtpm as the vTPM sees it: the process (pid and pidfd), our end of its control
/// channel (a socketpair given as `--ctrl type=unixio,clientfd=`) and the connection to its
/// command socket. Every wait polls the socket together with the pidfd, under a deadline: a dead
/// or hung swtpm is an error, never a hang.
struct SwtpmChannel {
    let pid: pid_t
    let pidfd: Int32
    let control: Int32
    var data: Int32 = -1
    /// The exit status once reaped.
    private(set) var ended: Int32?

    init(pid: pid_t, pidfd: Int32, control: Int32) {
        self.pid = pid
        self.pidfd = pidfd
        self.control = control
    }

    enum Wait { case readable, childEnded }

    /// Waits until `fd` is readable or swtpm ends, at most until `deadline`.
    func wait(_ fd: Int32, deadline: Deadline, operation: String) throws(VTPMError) -> Wait {
        var fds = [
            pollfd(fd: fd, events: Int16(POLLIN), revents: 0), pollfd(fd: pidfd, events: Int16(POLLIN), revents: 0),
        ]
        while true {
            let milliseconds = deadline.remainingMilliseconds
            guard milliseconds > 0 else { throw .timedOut(operation: operation, seconds: deadline.seconds) }
            let ready = poll(&fds, 2, milliseconds)
            if ready < 0 {
                if errno == EINTR { continue }
                throw .io(operation: "poll (\(operation))", errno: errno)
            }
            if fds[0].revents != 0 { return .readable }
            if fds[1].revents != 0 { return .childEnded }
        }
    }

    /// Writes all of `bytes` to `fd` (MSG_NOSIGNAL: a dead peer is EPIPE, not SIGPIPE).
    func send(_ bytes: [UInt8], to fd: Int32, operation: String) throws(VTPMError) {
        var offset = 0
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes {
                Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL))
            }
            if written < 0 {
                if errno == EINTR { continue }
                throw .io(operation: operation, errno: errno)
            }
            offset += written
        }
    }

    /// Reads exactly `count` bytes from `fd`; `nil` when swtpm closed the connection or ended.
    func receive(_ count: Int, from fd: Int32, deadline: Deadline, operation: String) throws(VTPMError) -> [UInt8]? {
        var bytes = [UInt8](repeating: 0, count: count)
        var offset = 0
        while offset < count {
            if try wait(fd, deadline: deadline, operation: operation) == .childEnded { return nil }
            let got = bytes[offset...].withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if got < 0 {
                if errno == EINTR || errno == EAGAIN { continue }
                if errno == ECONNRESET { return nil }
                throw .io(operation: operation, errno: errno)
            }
            if got == 0 { return nil }
            offset += got
        }
        return bytes
    }

    /// One TPM response from the command socket, read as it arrives (swtpm writes it whole, so
    /// usually one poll and one recv): at most TPM_BUFSIZE, exactly the size its header states
    /// (else ``VTPMError/responseMalformed(reason:)``); nil when swtpm closed or ended.
    func receiveResponse(deadline: Deadline) throws(VTPMError) -> [UInt8]? {
        let limit = TPM2Commands.bufferSize
        var bytes = [UInt8](repeating: 0, count: limit)
        var count = 0
        var size = limit
        while count < size {
            if try wait(data, deadline: deadline, operation: "a command") == .childEnded { return nil }
            let got = bytes[count..<size].withUnsafeMutableBytes { recv(data, $0.baseAddress, $0.count, 0) }
            if got < 0 {
                if errno == EINTR || errno == EAGAIN { continue }
                if errno == ECONNRESET { return nil }
                throw .io(operation: "a command", errno: errno)
            }
            if got == 0 { return nil }
            count += got
            if count >= 6, size == limit {
                size = Int(UInt32(bigEndianBytes: bytes[2..<6]))
                guard size >= 10, size <= limit else {
                    throw .responseMalformed(reason: "response size \(size) outside 10...\(limit)")
                }
                guard count <= size else {
                    throw .responseMalformed(reason: "\(count) bytes received for a \(size)-byte response")
                }
            }
        }
        return Array(bytes[0..<size])
    }

    /// A control-channel command (swtpm_ioctls(3): a big-endian u32 code, then its request) and
    /// its `answer`-byte reply.
    func control(_ code: UInt32, request: [UInt8] = [], answer: Int, deadline: Deadline) throws(VTPMError) -> [UInt8]? {
        let operation = "control command \(code)"
        try send(code.bigEndianBytes + request, to: control, operation: operation)
        return try receive(answer, from: control, deadline: deadline, operation: operation)
    }

    /// Reaps swtpm: waits up to `grace` seconds for it to end, then SIGKILLs it. Returns its
    /// status (code, or 128 + signal).
    mutating func reap(grace: Int) -> Int32 {
        if let ended { return ended }
        var fds = [pollfd(fd: pidfd, events: Int16(POLLIN), revents: 0)]
        let deadline = Deadline(seconds: grace)
        while deadline.remainingMilliseconds > 0, poll(&fds, 1, deadline.remainingMilliseconds) <= 0 {}
        if fds[0].revents == 0 { kill(pid, SIGKILL) }
        var status: Int32 = 0
        var result: pid_t
        repeat { result = waitpid(pid, &status, 0) } while result < 0 && errno == EINTR
        let code: Int32 = result < 0 ? 127 : (status & 0x7F == 0 ? (status >> 8) & 0xFF : 128 + (status & 0x7F))
        ended = code
        return code
    }

    /// Closes every descriptor (after ``reap(grace:)``).
    mutating func close() {
        for fd in [data, control, pidfd] where fd >= 0 { Glibc.close(fd) }
        data = -1
    }
}

/// A monotonic deadline.
struct Deadline {
    let seconds: Int
    private let end: Int64

    init(seconds: Int) {
        self.seconds = seconds
        end = Self.now() + Int64(seconds) * 1000
    }

    var remainingMilliseconds: Int32 { Int32(clamping: max(0, end - Self.now())) }

    static func now() -> Int64 {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return Int64(time.tv_sec) * 1000 + Int64(time.tv_nsec) / 1_000_000
    }
}
