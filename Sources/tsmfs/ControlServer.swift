import Dispatch
import FuseKit
import Glibc
import SystemPackage
import TSMBackends
import TSMTree

/// The control socket of a running mount: a Unix stream socket, owner-only (0600), one request
/// line per connection and a reply ending with a line `ok...` or `error: ...`. Commands:
///
///     set PROVIDER/REGISTER HEX   a new value for a register (launch values included)
///     reboot                      RTMRs to boot values, runtime log emptied, report entries gone
///     faults                      list the armed faults
///     faults clear                disarm them all
///     fault KIND[:ERRNO][:COUNT][:+SKIP]   arm one (as --inject-fault; sysroot only)
///
/// The ABI tree has no control files: everything that is not the kernel's goes through here.
final class ControlServer: Sendable {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    let path: String
    private let listener: Int32
    private let operations: Operations
    private let filesystem: TSMFileSystem
    private let invalidator: EntryInvalidator
    private let log: @Sendable (String) -> Void

    /// Where the socket of a mount point goes by default.
    static func defaultPath(for mountpoint: String) -> String {
        let name = mountpoint.split(separator: "/").joined(separator: "-")
        let directory: String
        if getuid() == 0 {
            directory = "/run/tsmfs"
        } else if let runtime = getenv("XDG_RUNTIME_DIR") {
            directory = String(cString: runtime) + "/tsmfs"
        } else {
            directory = "/tmp/tsmfs-\(getuid())"
        }
        return directory + "/" + (name.isEmpty ? "root" : name) + ".sock"
    }

    init(path: String, operations: Operations, filesystem: TSMFileSystem, invalidator: EntryInvalidator,
         log: @escaping @Sendable (String) -> Void) throws(Failure) {
        self.path = path
        self.operations = operations
        self.filesystem = filesystem
        self.invalidator = invalidator
        self.log = log
        let directory = path.lastIndex(of: "/").map { String(path[..<$0]) } ?? "."
        if !directory.isEmpty { mkdir(directory, 0o700) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else {
            throw Failure(description: "control socket path too long: \(path)")
        }
        withUnsafeMutableBytes(of: &address.sun_path) { buffer in
            for (index, byte) in bytes.enumerated() { buffer[index] = byte }
        }
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw Failure(description: "control socket: \(Errno(rawValue: errno))") }
        unlink(path)  // a socket left by a killed daemon
        let previous = umask(0o177)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        umask(previous)
        guard bound == 0, listen(fd, 8) == 0 else {
            let error = Errno(rawValue: errno)
            close(fd)
            throw Failure(description: "cannot listen on the control socket \(path): \(error)")
        }
        chmod(path, 0o600)
        listener = fd
        DispatchQueue.global().async { [self] in self.serve() }
    }

    /// Stops accepting and removes the socket.
    func stop() {
        shutdown(listener, Int32(SHUT_RDWR))
        close(listener)
        unlink(path)
    }

    private func serve() {
        while true {
            let connection = accept(listener, nil, nil)
            if connection < 0 {
                if errno == EINTR || errno == ECONNABORTED { continue }
                return  // closed by stop()
            }
            let request = readLine(connection)
            let reply = handle(request)
            Array(reply.utf8).withUnsafeBytes { _ = send(connection, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            close(connection)
        }
    }

    private func readLine(_ fd: Int32) -> String {
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1024)
        while bytes.count < 8192 {
            let count = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count < 0 && errno == EINTR { continue }
            if count <= 0 { break }
            bytes += chunk[0..<count]
            if bytes.contains(UInt8(ascii: "\n")) { break }
        }
        let line = bytes.split(separator: UInt8(ascii: "\n"), maxSplits: 1, omittingEmptySubsequences: false).first ?? []
        return String(decoding: line, as: UTF8.self)
    }

    /// One request, one reply; errors are replies, never crashes.
    func handle(_ request: String) -> String {
        let words = request.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
        guard let command = words.first else { return "error: empty request; commands: set, reboot, faults, fault\n" }
        switch (command, words.count) {
        case ("set", 3):
            do {
                try operations.set(words[1], hex: words[2])
            } catch {
                return "error: \(error)\n"
            }
            log("ctl: set \(words[1])")
            return "ok\n"
        case ("reboot", 1):
            do {
                try operations.reboot()
            } catch {
                return "error: \(error)\n"
            }
            let dropped = filesystem.dropAllItems()
            for (parent, name) in dropped { invalidator.invalidate(parent: parent, name: name) }
            log("ctl: reboot (\(dropped.count) report entries removed)")
            return "ok: rebooted; \(dropped.count) report entries removed\n"
        case ("faults", 1):
            guard let faults = operations.faults else { return "error: fault injection needs a --sysroot mount\n" }
            let lines = faults.armed.map { spec in
                let target = spec.register.map { "@" + $0 } ?? ""
                let count = spec.count == Int.max ? "all" : String(spec.count)
                return "\(spec.kind.rawValue)\(target) \(spec.errno) count \(count) skip \(spec.skip)\n"
            }
            return lines.joined() + "ok: \(lines.count) armed\n"
        case ("faults", 2) where words[1] == "clear":
            guard let faults = operations.faults else { return "error: fault injection needs a --sysroot mount\n" }
            faults.clear()
            log("ctl: faults cleared")
            return "ok\n"
        case ("fault", 2):
            guard let faults = operations.faults else { return "error: fault injection needs a --sysroot mount\n" }
            guard let spec = FaultSpec(parsing: words[1]) else {
                return "error: not a fault: \(words[1]) (KIND[@REGISTER][:ERRNO][:COUNT|all][:+SKIP], KIND outblob, generation, extend, mkdir or empty)\n"
            }
            do {
                try faults.add(spec)
            } catch {
                return "error: \(error)\n"
            }
            return "ok\n"
        default:
            return "error: unknown request '\(request)'; commands: set PROVIDER/REGISTER HEX, reboot, faults [clear], fault SPEC\n"
        }
    }
}
