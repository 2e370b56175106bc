import FuseKit
import Glibc
import TestSupport
import Testing
import TSMControl
import TSMDaemon

@Suite("the daemon's choices that need no mount")
struct DaemonTests {
    @Test("mount options: allow_other only when asked")
    func mountOptions() {
        #expect(DaemonConfiguration().mountOptions == ["fsname=tsmfs", "subtype=tsmfs", "default_permissions"])
        #expect(
            DaemonConfiguration(allowOther: true).mountOptions
                == ["fsname=tsmfs", "subtype=tsmfs", "default_permissions", "allow_other"])
    }

    @Test("control socket: --control as given, or the mount point's default; none without operations")
    func controlSocket() throws {
        let directory = try makeTemporaryDirectory("tsmdaemon-test")
        defer { rmdir(directory) }
        let explicit = DaemonConfiguration(controlSocket: "/run/elsewhere/ctl.sock")
        #expect(
            try Daemon.controlSocketPath(explicit, mountpoint: directory, controlled: true) == "/run/elsewhere/ctl.sock"
        )
        #expect(
            try Daemon.controlSocketPath(DaemonConfiguration(), mountpoint: directory, controlled: true)
                == ControlSocketPath.defaultPath(for: directory))
        #expect(try Daemon.controlSocketPath(explicit, mountpoint: directory, controlled: false) == nil)
        // Without operations nothing is resolved, so neither a relative --control nor a missing
        // mount point is refused.
        let relative = DaemonConfiguration(controlSocket: "ctl.sock")
        #expect(try Daemon.controlSocketPath(relative, mountpoint: directory + "/missing", controlled: false) == nil)
    }

    @Test("control socket refusals carry ControlSocketPath's messages")
    func controlSocketRefusals() throws {
        let relative = DaemonConfiguration(controlSocket: "ctl.sock")
        #expect(throws: DaemonError.self) { try Daemon.controlSocketPath(relative, mountpoint: "/", controlled: true) }
        do throws(DaemonError) {
            _ = try Daemon.controlSocketPath(relative, mountpoint: "/", controlled: true)
        } catch {
            #expect(error.description == "--control needs an absolute path, not 'ctl.sock'")
        }
        do throws(DaemonError) {
            _ = try Daemon.controlSocketPath(
                DaemonConfiguration(), mountpoint: "/nonexistent/tsmfs-mount", controlled: true)
            Issue.record("a missing mount point has no default socket")
        } catch {
            #expect(error.description.hasPrefix("cannot resolve the mount point /nonexistent/tsmfs-mount: "))
        }
    }

    @Test("the serving line names what, where, how mounted and the socket")
    func servingLine() {
        #expect(
            Daemon.servingLine("tdx, sev", at: "/mnt/tsm", method: .direct, controlSocket: nil)
                == "serving tdx, sev at /mnt/tsm")
        #expect(
            Daemon.servingLine("tdx", at: "/m", method: .fusermount, controlSocket: "/run/tsmfs/m.sock")
                == "serving tdx at /m (mounted by fusermount3); control socket /run/tsmfs/m.sock")
    }

    @Test("errors read as the command line prints them")
    func errors() {
        #expect(DaemonError.parentGone(42).description == "the tsmfs exec that started this daemon (pid 42) is gone")
        #expect(DaemonError.controlSocket(.notAbsolute("x")).description == "--control needs an absolute path, not 'x'")
    }
}
