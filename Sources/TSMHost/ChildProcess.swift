import CLinux
import Glibc
import SystemPackage

/// A child process started with posix_spawn, with default signal dispositions and an empty mask
/// whatever this process has blocked.
public struct ChildProcess {
    public let pid: pid_t

    public enum Failure: Error, CustomStringConvertible {
        case noCommand
        case cannotRun(String, Errno)

        public var description: String {
            switch self {
            case .noCommand: return "no command given"
            case .cannotRun(let program, let errno): return "cannot run \(program): \(errno)"
            }
        }
    }

    /// Starts `arguments[0]`, looked up on PATH, with this process's environment.
    public init(_ arguments: [String]) throws(Failure) {
        guard let program = arguments.first else { throw .noCommand }
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var empty = sigset_t(), all = sigset_t()
        sigemptyset(&empty)
        sigfillset(&all)
        posix_spawnattr_setsigmask(&attributes, &empty)
        posix_spawnattr_setsigdefault(&attributes, &all)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        var argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) }
        argv.append(nil)
        defer { for pointer in argv { free(pointer) } }
        var pid = pid_t()
        let result = posix_spawnp(&pid, program, nil, &attributes, argv, environ)
        guard result == 0 else { throw .cannotRun(program, Errno(rawValue: result)) }
        self.pid = pid
    }

    /// Starts `arguments[0]`, looked up on PATH, with this process's environment, a default
    /// signal state, and SIGKILL when the calling thread ends, however it ends
    /// (`PR_SET_PDEATHSIG`, as `unshare --kill-child`): `tsmfs exec`'s command, which must not
    /// outlive an exec killed by a signal. Children the command starts are not affected.
    public init(dyingWithParent arguments: [String]) throws(Failure) {
        guard let program = arguments.first else { throw .noCommand }
        var argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) }
        argv.append(nil)
        defer { for pointer in argv { free(pointer) } }
        var pid = pid_t()
        let result = clinux_spawn_dying_with_parent(program, argv, SIGKILL, &pid)
        guard result == 0 else { throw .cannotRun(program, Errno(rawValue: result)) }
        self.pid = pid
    }

    /// The exit status if the child has ended: its code, or 128 + the signal that killed it.
    public func poll() -> Int32? {
        var status: Int32 = 0
        let result = waitpid(pid, &status, WNOHANG)
        guard result == pid else { return result < 0 && errno == ECHILD ? 127 : nil }
        return Self.decode(status)
    }

    /// Waits for the end; returns the status as ``poll()`` does.
    public func wait() -> Int32 {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 {
            if errno != EINTR { return 127 }
        }
        return Self.decode(status)
    }

    public func signal(_ signal: Int32) {
        kill(pid, signal)
    }

    private static func decode(_ status: Int32) -> Int32 {
        let signal = status & 0x7F
        return signal == 0 ? (status >> 8) & 0xFF : 128 + signal
    }
}
