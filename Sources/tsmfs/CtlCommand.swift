import TSMBytes
import ArgumentParser
import Glibc
import TSMControl

/// `tsmfs ctl`: change a running mount through its control socket.
struct CtlCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ctl",
        abstract: "Change a running mount: set a register, reboot the guest, arm or clear faults.",
        discussion: """
            Talks to the mount's control socket (shown when the mount starts). Requests: \
            set PROVIDER/REGISTER HEX; extend PROVIDER/REGISTER HEX [EVENT] (the runtime log's record \
            carries EVENT); reboot (RTMRs back to boot values, the runtime event log \
            emptied, report entries removed, launch values kept); faults (list); faults clear; \
            fault KIND[@REGISTER][:ERRNO][:COUNT|all][:+SKIP] (sysroot mounts; as --inject-fault).
            """
    )

    @Option(help: ArgumentHelp("The control socket.", valueName: "PATH"))
    var socket: String?

    @Option(help: ArgumentHelp("The mount point (or sysroot) whose default control socket to use.", valueName: "DIR"))
    var mount: String?

    @Option(help: ArgumentHelp("Give up when the daemon has not answered within this many seconds.", valueName: "SECONDS"))
    var timeout: Int = CtlCommand.defaultTimeout

    @Argument(help: "The request, e.g. `reboot` or `set tdx/mrconfigid 00ff...`.", completion: .custom(CtlCompletion.candidates))
    var request: [String]

    func validate() throws {
        guard (socket == nil) != (mount == nil) else { throw ValidationError("give --socket PATH or --mount DIR") }
        guard (1...3600).contains(timeout) else { throw ValidationError("--timeout is 1 to 3600 seconds") }
        guard !request.isEmpty else { throw ValidationError("give a request: set, extend, reboot, faults or fault") }
    }

    func run() throws {
        var path = socket ?? ""
        if socket == nil {
            do throws(ControlSocketPath.Problem) {
                path = try ControlSocketPath.defaultPath(for: mount ?? "")
            } catch {
                throw Failure(error.description)
            }
        }
        let reply = try Self.send(request.joined(separator: " "), to: path, replyTimeout: timeout)
        print(reply, terminator: "")
        let last = reply.split(separator: "\n").last.map(String.init) ?? ""
        if !last.hasPrefix("ok") { throw ExitCode.failure }
    }

    /// How long ctl waits for the daemon's reply by default.
    static let defaultTimeout = 10

    static func send(_ request: String, to path: String, replyTimeout: Int = defaultTimeout) throws -> String {
        let fd = Glibc.socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw Failure("socket: errno \(errno)") }
        defer { close(fd) }
        guard let address = try? UnixSocketAddress(path: path) else { throw Failure("socket path too long: \(path)") }
        let connected = address.withSockaddr { connect(fd, $0, $1) }
        // A daemon that accepts and never answers must not hang ctl.
        var timeout = timeval(tv_sec: Int(replyTimeout), tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        guard connected == 0 else { throw Failure("cannot reach the control socket \(path): errno \(errno) (is the mount running?)") }
        let line = Array((request + "\n").utf8)
        _ = line.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        var reply: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count < 0 && errno == EINTR { continue }
            if count < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) {
                throw Failure("no reply from the control socket \(path) within \(replyTimeout) s (is the mount stuck?)")
            }
            if count <= 0 { break }
            reply += chunk[0..<count]
            guard reply.count <= 1 << 20 else { throw Failure("the control socket \(path) sent more than 1 MiB; giving up") }
        }
        return String(decoding: reply, as: UTF8.self)
    }
}
