import Foundation
import Glibc
import Testing
import TestSupport

/// A non-root user mounts through fusermount3 on a directory they own (issue: unprivileged use).
@Suite("Unprivileged mounts", .serialized, .needsMount)
struct UnprivilegedTests {
    static let user = "tsmfs-test-user"

    /// Makes the test user unless it exists.
    static func makeUser() throws -> ShellResult {
        try shell("id -u \(user) >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin \(user)")
    }

    /// Why the test user cannot open /dev/fuse for read and write, tried as that user, or nil
    /// when they can. libfuse opens the device itself before it would fall back to fusermount3,
    /// so where /dev/fuse is 0600 an unprivileged mount fails however fusermount3 is set up.
    static let userCannotOpenFuse: String? = {
        guard MountEnvironment.canMount else { return "cannot mount here" }
        guard (try? makeUser())?.status == 0 else { return "useradd \(user) failed" }
        guard (try? asUser(": <>/dev/fuse"))?.status != 0 else { return nil }
        var st = stat()
        let mode = stat("/dev/fuse", &st) == 0 ? String(st.st_mode & 0o7777, radix: 8) : "?"
        return "\(user) cannot open /dev/fuse (mode \(mode)) for read+write, and libfuse opens it before falling back to fusermount3"
    }()

    /// The test user (made once), a copy of the binary the user may run, and a directory of theirs.
    static func prepare() throws -> (binary: String, directory: String) {
        try #require(geteuid() == 0, "these tests make a user: run as root")
        let made = try makeUser()
        try #require(made.status == 0, "useradd failed: \(made.stderr)")
        let directory = try makeTemporaryDirectory()
        chmod(directory, 0o755)
        let binary = directory + "/tsmfs"
        let copy = try shell("cp '\(tsmfsBinary())' '\(binary)' && chmod 755 '\(binary)' && mkdir '\(directory)/m' && chown \(user) '\(directory)/m'")
        try #require(copy.status == 0, "\(copy.stderr)")
        return (binary, directory)
    }

    /// Runs `script` as the test user.
    static func asUser(_ script: String) throws -> ShellResult {
        try shell("runuser -u \(user) -- sh -c '\(script.replacingOccurrences(of: "'", with: "'\\''"))'")
    }

    @Test("the user mounts, sees their own files, reads and extends; SIGTERM unmounts",
          .enabled(if: userCannotOpenFuse == nil, Comment(rawValue: userCannotOpenFuse ?? "")))
    func mountReadExtend() throws {
        let (binary, directory) = try Self.prepare()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let mountpoint = directory + "/m"
        let daemon = Process()
        daemon.executableURL = URL(fileURLWithPath: "/usr/sbin/runuser")
        daemon.arguments = ["-u", Self.user, "--", binary, "mount", mountpoint]
        daemon.standardInput = FileHandle.nullDevice
        try daemon.run()
        defer {
            if daemon.isRunning { kill(daemon.processIdentifier, SIGKILL) }
            umount2(mountpoint, Int32(MNT_DETACH))
        }
        // Only the user can see into the mount (no allow_other): poll as the user.
        let ready = try Self.asUser("for i in $(seq 2000); do mountpoint -q \(mountpoint) && exit 0; sleep 0.005; done; exit 1")
        try #require(ready.status == 0, "the user's mount did not come up")
        let uid = try shell("id -u \(Self.user)").text.trimmingCharacters(in: .whitespacesAndNewlines)
        let r = try Self.asUser("""
            stat -c %u \(mountpoint)/tdx/rtmr0/digest
            head -c 48 /dev/zero > \(mountpoint)/tdx/rtmr0/digest && echo extended
            xxd -p -c 48 \(mountpoint)/tdx/rtmr0/digest
            echo x > \(mountpoint)/tdx/mrtd/digest 2>/dev/null || echo mrtd-refused
            """)
        #expect(r.status == 0, "\(r.stderr)")
        let lines = r.text.split(separator: "\n").map(String.init)
        #expect(lines.first == uid, "files belong to the user who mounted")
        #expect(lines.contains("extended"))
        #expect(lines.contains("f57bb7ed82c6ae4a29e6c9879338c592c7d42a39135583e8ccbe3940f2344b0eb6eb8503db0ffd6a39ddd00cd07d8317"))
        #expect(lines.contains("mrtd-refused"))
        // SIGTERM to the daemon itself (runuser would re-raise a signal sent to it), whose exit
        // status runuser then passes on.
        let stop = try shell("pkill -TERM -u \(Self.user) -f 'tsmfs mount \(mountpoint)'")
        #expect(stop.status == 0)
        daemon.waitUntilExit()
        #expect(daemon.terminationReason == .exit && daemon.terminationStatus == 0)
        #expect(!mountTableLists(mountpoint))
    }

    @Test("what needs root is refused with the reason")
    func rootOnly() throws {
        let (binary, directory) = try Self.prepare()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let fuseConf = (try? String(contentsOfFile: "/etc/fuse.conf", encoding: .utf8)) ?? ""
        if !fuseConf.split(separator: "\n").contains(where: { $0.hasPrefix("user_allow_other") }) {
            let allowOther = try Self.asUser("\(binary) mount \(directory)/m --allow-other 2>&1")
            #expect(allowOther.status != 0)
            #expect(allowOther.text.contains("user_allow_other"), "\(allowOther.text)")
        }
        let exec = try Self.asUser("\(binary) exec -- true 2>&1")
        #expect(exec.status != 0)
        #expect(exec.text.contains("needs root"), "\(exec.text)")
        #expect(!mountTableLists(directory + "/m"))
    }
}
