import Foundation
import Glibc
import Testing
import TestSupport

/// A non-root user mounts through fusermount3 on a directory they own (issue 12).
@Suite("Unprivileged mounts", .serialized, .needsMount)
struct UnprivilegedTests {
    static let user = "tsmfs-test-user"

    /// Shell lines that start the READY=1 receiver for these flows: an abstract datagram socket
    /// `@NAME` (no file the user must reach), its messages one a line on a FIFO opened as fd 3
    /// (fd 4 its write end, for each daemon's "exited" line), `$receiver` its pid; it ends by
    /// itself after 60 s of silence.
    static func notifyReceiver(directory: String, name: String) -> String {
        """
        mkfifo \(directory)/notify
        python3 -u -c 'import socket, sys
        s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); s.bind("\\0" + sys.argv[1]); s.settimeout(60)
        print("bound")
        while True: print(s.recv(4096).decode().replace("\\n", " "))' \(name) > \(directory)/notify \
        2> /dev/null &
        receiver=$!
        exec 3< \(directory)/notify 4> \(directory)/notify
        read -r _ <&3
        """
    }

    /// Makes the test user unless it exists.
    static func makeUser() throws -> ShellResult {
        try shell(
            "id -u \(user) >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin \(user)")
    }

    /// Whether the test user can open /dev/fuse for read and write, tried as that user; nil when
    /// the user could not be made. On a 0600 device (many containers and CI runners) they cannot,
    /// and neither can fusermount3, which opens it with its caller's permissions (libfuse 3).
    static let userOpensFuse: Bool? = {
        guard MountEnvironment.canMount, (try? makeUser())?.status == 0 else { return nil }
        return (try? asUser(": <>/dev/fuse"))?.status == 0
    }()

    /// Why the user's mount cannot be tried here, or nil: it needs fusermount3 on the user's PATH
    /// and `unshare` (the mount runs in a mount namespace of its own; see ``mountReadExtend()``).
    static let cannotMountReason: String? = {
        guard MountEnvironment.canMount else { return "cannot mount here" }
        guard userOpensFuse != nil else { return "useradd \(user) failed" }
        guard (try? asUser("command -v fusermount3 >/dev/null"))?.status == 0 else {
            return "no fusermount3 on the test user's PATH (install fuse3)"
        }
        guard (try? shell("command -v unshare >/dev/null"))?.status == 0 else { return "no unshare (util-linux)" }
        return nil
    }()

    /// The test user (made once), a copy of the binary the user may run, and a directory of theirs.
    static func prepare() throws -> (binary: String, directory: String) {
        try #require(geteuid() == 0, "these tests make a user: run as root")
        let made = try makeUser()
        try #require(made.status == 0, "useradd failed: \(made.stderr)")
        let directory = try makeTemporaryDirectory()
        chmod(directory, 0o755)
        let binary = directory + "/tsmfs"
        let copy = try shell(
            """
            cp '\(tsmfsBinary())' '\(binary)' && chmod 755 '\(binary)' && mkdir '\(directory)/m' && chown \(user) \
            '\(directory)/m'
            """
        )
        try #require(copy.status == 0, "\(copy.stderr)")
        return (binary, directory)
    }

    /// Runs `script` as the test user.
    static func asUser(_ script: String) throws -> ShellResult {
        try shell("runuser -u \(user) -- sh -c '\(script.replacingOccurrences(of: "'", with: "'\\''"))'")
    }

    /// The whole unprivileged flow, as the user: mount (through fusermount3), readiness, read,
    /// extend, SIGTERM, unmount. It runs in a private mount namespace so that, where /dev/fuse is
    /// closed to users (0600, as on CI runners), the namespace can be given a 0666 node in its
    /// place, as a container runtime passing the device would: the host's device stays as it is.
    /// Root cannot look into the user's mount (no allow_other), so every check runs as the user.
    @Test(
        "the user mounts, sees their own files, reads and extends; SIGTERM unmounts",
        .enabled(if: cannotMountReason == nil, Comment(rawValue: cannotMountReason ?? "")))
    func mountReadExtend() throws {
        let (binary, directory) = try Self.prepare()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let hostMode = try shell("stat -c %a /dev/fuse").text
        let mountpoint = directory + "/m"
        let script = directory + "/flow.sh"
        try """
        U=\(Self.user) MP=\(mountpoint)
        as_user() { runuser -u "$U" -- sh -c "$1"; }
        if ! as_user ': <>/dev/fuse' 2>/dev/null; then
            mknod \(directory)/fuse c 10 229 && chmod 666 \(directory)/fuse && mount --bind \(directory)/fuse \
        /dev/fuse || exit 90
            echo private-device
        fi
        # Readiness is the daemon's READY=1 on an abstract $NOTIFY_SOCKET (no file the user must
        # reach), read through a FIFO with each daemon's exit: observed, never slept for. The
        # receiver (SIGKILLed at the end: the test runner's children have SIGTERM blocked) ends by
        # itself after 60 s of silence, and holds none of the test's pipes.
        \(Self.notifyReceiver(directory: directory, name: "tsmfs-unprivileged-$$"))
        start() {
            ( runuser -u "$U" -- env NOTIFY_SOCKET=@tsmfs-unprivileged-$$ \(binary) mount "$MP" 2>"$1" 3<&- 4>&-
              s=$?; echo "exited $BASHPID $s" >&4; exit $s ) & daemon=$!
        }
        ready() {
            while read -r m <&3; do case "$m" in *READY=1*) return 0;; "exited $daemon "*) return 1;; esac; done
        }
        start \(directory)/daemon.log
        ready || { kill -KILL $receiver; exit 91; }
        echo ready
        grep " $MP " /proc/self/mountinfo
        as_user "stat -c %u $MP/tdx/rtmr0/digest
            head -c 48 /dev/zero > $MP/tdx/rtmr0/digest && echo extended
            xxd -p -c 48 $MP/tdx/rtmr0/digest
            echo x > $MP/tdx/mrtd/digest 2>/dev/null || echo mrtd-refused"
        stat -c %u $MP/tdx/rtmr0/digest >/dev/null 2>&1 || echo root-cannot-look-in
        pkill -TERM -u "$U" -f "tsmfs mount $MP"
        wait $daemon; echo "daemon-exit=$?"
        grep -q " $MP " /proc/self/mountinfo && echo still-mounted || echo unmounted
        # A killed daemon leaves a dead mount; the next one, as the user, clears it and serves.
        start /dev/null; ready
        pkill -KILL -u "$U" -f "tsmfs mount $MP"; wait $daemon
        start \(directory)/again.log; ready
        as_user "wc -c < $MP/tdx/rtmr0/digest" | sed 's/^/again-/'
        pkill -TERM -u "$U" -f "tsmfs mount $MP"; wait $daemon
        kill -KILL $receiver
        grep -q " $MP " /proc/self/mountinfo && echo still-mounted || echo unmounted-again
        """.write(toFile: script, atomically: true, encoding: .utf8)
        let r = try shell("timeout 60 unshare --mount --propagation private bash \(script)")
        let log = (try? String(contentsOfFile: directory + "/daemon.log", encoding: .utf8)) ?? ""
        let lines = r.text.split(separator: "\n").map(String.init)
        try #require(
            lines.contains("ready"),
            "the user's mount did not come up (status \(r.status)): \(r.text) \(r.stderr) \(log)")
        #expect(log.contains("(mounted by fusermount3)"), "\(log)")
        // The kernel got the options: fusermount3 passed them (libfuse does not, given the fd).
        let table = lines.first { $0.contains(" \(mountpoint) ") } ?? ""
        #expect(table.contains(" - fuse.tsmfs tsmfs "), "\(table)")
        for option in ["nosuid", "nodev", "default_permissions", "max_read=4096"] {
            #expect(table.contains(option), "\(table)")
        }
        let uid = try shell("id -u \(Self.user)").text.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(table.contains("user_id=\(uid)"), "\(table)")
        #expect(lines.contains(uid), "files belong to the user who mounted: \(r.text)")
        #expect(lines.contains("extended"))
        #expect(
            lines.contains(
                "f57bb7ed82c6ae4a29e6c9879338c592c7d42a39135583e8ccbe3940f2344b0eb6eb8503db0ffd6a39ddd00cd07d8317"))
        #expect(lines.contains("mrtd-refused"))
        #expect(lines.contains("root-cannot-look-in"), "without allow_other the mount is the user's alone")
        #expect(lines.contains("daemon-exit=0"), "\(r.text) \(log)")
        #expect(lines.contains("unmounted"), "the daemon unmounted through fusermount3 -u: \(r.text)")
        let again = (try? String(contentsOfFile: directory + "/again.log", encoding: .utf8)) ?? ""
        #expect(again.contains("cleared a stale mount at \(mountpoint)"), "\(again)")
        #expect(lines.contains("again-48") && lines.contains("unmounted-again"), "\(r.text) \(again)")
        #expect(try shell("stat -c %a /dev/fuse").text == hostMode, "the host's /dev/fuse is untouched")
        #expect(!mountTableLists(mountpoint))
    }

    @Test(
        "a user /dev/fuse refuses is told why, after fusermount3 tried",
        .enabled(if: userOpensFuse == false, "the test user can open /dev/fuse here"))
    func deviceClosed() throws {
        let (binary, directory) = try Self.prepare()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let r = try Self.asUser("\(binary) mount \(directory)/m 2>&1")
        #expect(r.status == 1)
        #expect(
            r.text.contains("fusermount3: failed to open /dev/fuse: Permission denied"),
            "fusermount3 itself ran: \(r.text)")
        #expect(r.text.contains("/dev/fuse refuses this user (Permission denied)"), "\(r.text)")
        #expect(r.text.contains("only root can use FUSE here"), "\(r.text)")
        #expect(!mountTableLists(directory + "/m"))
    }

    @Test("with no fusermount3 on PATH, the user is told what to install")
    func noFusermount() throws {
        let (binary, directory) = try Self.prepare()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let r = try Self.asUser("PATH=\(directory)/empty-path \(binary) mount \(directory)/m 2>&1")
        #expect(r.status == 1)
        #expect(r.text.contains("fusermount3, which mounts for ordinary users, is not on PATH"), "\(r.text)")
        #expect(r.text.contains("install fuse3"), "\(r.text)")
        #expect(!mountTableLists(directory + "/m"))
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
