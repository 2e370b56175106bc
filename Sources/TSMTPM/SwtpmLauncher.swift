import CLinux
import Glibc
import Logging
import TSMBytes

/// How swtpm is provisioned and started for a vTPM (docs/DECISIONS.md, issue 26).
enum SwtpmLauncher {
    /// The state file swtpm_setup writes (swtpm's dir backend for a TPM 2).
    static let stateFile = "tpm2-00.permall"
    static let socketName = "swtpm.sock"
    static let setupLogName = "swtpm_setup.log"
    /// The control channel's CMD_GET_CAPABILITY, CMD_INIT, CMD_SHUTDOWN (swtpm_ioctls(3)).
    static let getCapability: UInt32 = 1
    static let initialize: UInt32 = 2
    static let shutdown: UInt32 = 3
    /// CMD_INIT's PTM_INIT_FLAG_DELETE_VOLATILE: the next start is from the permanent state alone.
    static let deleteVolatile: UInt32 = 1

    /// Creates the state directory 0700 if it is missing, refuses a link, a non-directory or a
    /// directory of another user, and makes it owner-only. Returns whether swtpm's state exists.
    static func prepare(_ path: String) throws(VTPMError) -> Bool {
        guard path.hasPrefix("/"), !path.utf8.contains(0), !path.contains(",") else {
            throw .stateDirectory(path: path, reason: "must be an absolute path without commas")
        }
        if mkdir(path, 0o700) != 0 && errno != EEXIST {
            throw .stateDirectory(path: path, reason: String(cString: strerror(errno)))
        }
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else {
            let reason = errno == ELOOP || errno == ENOTDIR ? "not a directory (links are not followed)" : ""
            throw .stateDirectory(path: path, reason: reason.isEmpty ? String(cString: strerror(errno)) : reason)
        }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw .stateDirectory(path: path, reason: String(cString: strerror(errno))) }
        guard info.st_uid == geteuid() else {
            throw .stateDirectory(path: path, reason: "owned by uid \(info.st_uid), not by uid \(geteuid())")
        }
        if info.st_mode & 0o077 != 0, fchmod(fd, 0o700) != 0 {
            throw .stateDirectory(path: path, reason: "cannot make it owner-only: \(String(cString: strerror(errno)))")
        }
        var state = stat()
        return fstatat(fd, stateFile, &state, AT_SYMLINK_NOFOLLOW) == 0 && state.st_mode & S_IFMT == S_IFREG
    }

    /// First start: swtpm_setup creates the TPM 2 state with the RSA EK persisted at 0x81010001
    /// (and the ECC EK at 0x81010016) and the given PCR banks allocated; no certificates (tsmfs
    /// writes the EK certificate itself). Its stdout and stderr go to swtpm_setup.log in the directory.
    static func provision(_ configuration: VTPMConfiguration, logger: Logger) throws(VTPMError) {
        let directory = configuration.stateDirectory
        let banks = configuration.pcrBanks.map(\.description).joined(separator: ",")
        let arguments = [
            configuration.program("swtpm_setup"), "--tpm2", "--tpmstate", directory, "--createek", "--pcr-banks",
            banks.isEmpty ? "-" : banks,
            "--config", "/dev/null", "--not-overwrite",
        ]
        logger.info("vTPM: first start, provisioning with swtpm_setup", metadata: ["directory": "\(directory)"])
        // Its output and that of the swtpm it runs go to its log, not to the daemon's stdout.
        let log = open("\(directory)/\(setupLogName)", O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard log >= 0 else {
            throw .stateDirectory(path: directory, reason: "cannot open \(setupLogName): errno \(errno)")
        }
        defer { close(log) }
        // Through a reaper: swtpm_setup leaves the swtpm it runs unreaped, a zombie for init
        // (or, in a container whose PID 1 does not reap, for good).
        let (pid, pidfd) = try spawn(arguments, keeping: [], output: log, reap: true)
        close(pidfd)
        var status: Int32 = 0
        var result: pid_t
        repeat { result = waitpid(pid, &status, 0) } while result < 0 && errno == EINTR
        let code: Int32 = status & 0x7F == 0 ? (status >> 8) & 0xFF : 128 + (status & 0x7F)
        guard result == pid, code == 0 else { throw .setupFailed(status: code, log: "\(directory)/\(setupLogName)") }
    }

    /// Starts swtpm on the state directory and waits for it to answer CMD_GET_CAPABILITY on its
    /// control channel, then connects to its command socket (which it listens on before it
    /// serves the control channel). TPM2_Startup(CLEAR) is sent by swtpm itself
    /// (`--flags startup-clear`).
    static func launch(_ configuration: VTPMConfiguration) throws(VTPMError) -> SwtpmChannel {
        let directory = configuration.stateDirectory
        let socketPath = "\(directory)/\(socketName)"
        let address: UnixSocketAddress
        do { address = try UnixSocketAddress(path: socketPath) } catch {
            throw .stateDirectory(path: directory, reason: "\(error)")
        }
        unlink(socketPath)
        var pair: [Int32] = [-1, -1]
        guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &pair) == 0 else {
            throw .io(operation: "socketpair", errno: errno)
        }
        let arguments = [
            configuration.program("swtpm"), "socket", "--tpm2", "--tpmstate", "dir=\(directory),mode=0600",
            "--server", "type=unixio,path=\(socketPath),mode=0600", "--ctrl", "type=unixio,clientfd=\(pair[1])",
            "--flags", "not-need-init,startup-clear",
        ]
        let spawned: (pid_t, Int32)
        do { spawned = try spawn(arguments, keeping: [pair[1]]) } catch {
            close(pair[0])
            close(pair[1])
            throw error
        }
        close(pair[1])
        var channel = SwtpmChannel(pid: spawned.0, pidfd: spawned.1, control: pair[0])
        do throws(VTPMError) {
            let deadline = Deadline(seconds: configuration.commandTimeoutSeconds)
            let capability = try channel.control(getCapability, answer: 8, deadline: deadline)
            guard let capability, capability[0..<4] == [0, 0, 0, 0] else {
                let status = channel.reap(grace: 5)
                channel.close()
                throw VTPMError.startFailed(reason: "swtpm ended with exit status \(status) before it was ready")
            }
            channel.data = try connect(address)
            return channel
        } catch {
            if case .startFailed = error { throw error }
            _ = channel.reap(grace: 0)
            channel.close()
            throw error
        }
    }

    /// Forks `arguments` on ``SpawnerThread`` (SIGKILL when tsmfs ends); the program's absence is
    /// ``VTPMError/swtpmMissing(program:)``. Returns the pid and a pidfd.
    static func spawn(
        _ arguments: [String], keeping: [Int32], output: Int32 = -1, reap: Bool = false
    ) throws(VTPMError) -> (pid_t, Int32) {
        guard !arguments.isEmpty else { throw .startFailed(reason: "no program") }
        let (result, pid) = SpawnerThread.shared.spawn(arguments, keeping: keeping, output: output, reap: reap)
        if result == ENOENT { throw .swtpmMissing(program: arguments[0]) }
        guard result == 0 else { throw .startFailed(reason: "cannot run \(arguments[0]): errno \(result)") }
        let pidfd = clinux_pidfd_open(pid)
        guard pidfd >= 0 else {
            let error = errno
            kill(pid, SIGKILL)
            var status: Int32 = 0
            waitpid(pid, &status, 0)
            throw .io(operation: "pidfd_open", errno: error)
        }
        return (pid, pidfd)
    }

    /// A stream connection to swtpm's command socket.
    static func connect(_ address: UnixSocketAddress) throws(VTPMError) -> Int32 {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw .io(operation: "socket", errno: errno) }
        let result = address.withSockaddr { Glibc.connect(fd, $0, $1) }
        guard result == 0 else {
            let error = errno
            close(fd)
            throw .io(operation: "connect to swtpm's command socket", errno: error)
        }
        return fd
    }
}
