import Foundation
import Glibc
import Testing
import TestSupport

/// What a new user meets first (issue 12): options that do not apply are refused, the daemon says
/// when it stops, and an armed fault reads as it was written.
@Suite("First contact", .needsMount)
struct FirstContactTests {
    @Test(
        "options that do not apply are refused, naming the option",
        arguments: [
            ("mount DIR/m --boot-log /etc/hostname", "--boot-log shapes a guest sysroot: it needs --sysroot DIR"),
            ("mount DIR/m --guest sev-snp", "--guest shapes a guest sysroot"),
            // The sysroot rule comes before the guest's own: the first thing to change is named first.
            ("mount DIR/m --tdx-driver intel", "--tdx-driver shapes a guest sysroot: it needs --sysroot DIR"),
            ("mount DIR/m --guest tdx --svsm", "--guest shapes a guest sysroot: it needs --sysroot DIR"),
            ("mount DIR/m --kernel 6.1 --td-attributes 0x10000000", "--td-attributes shapes a guest sysroot"),
            ("mount --sysroot DIR/m --guest tdx --privlevel-floor 1", "--privlevel-floor needs --guest sev-snp"),
            ("mount --sysroot DIR/m --guest tdx --svsm", "--svsm needs --guest sev-snp"),
        ])
    func inapplicable(arguments: String, message: String) throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let r = try shell("'\(tsmfsBinary())' \(arguments.replacingOccurrences(of: "DIR", with: directory)) 2>&1")
        #expect(r.status != 0)
        #expect(r.text.contains(message), "\(r.text)")
        #expect(!mountTableLists(directory + "/m"))
    }

    @Test("the daemon logs its stop; an armed 'all' fault is logged as written, not as a count")
    func stopAndFaultLog() throws {
        let mount = try MountedTSMFS(["--guest", "tdx", "--inject-fault", "extend@rtmr2:EIO:all"], sysroot: true)
        #expect(mount.stop() == 0)
        #expect(mount.log.contains("armed extend@rtmr2:EIO:all:+0"), "\(mount.log)")
        #expect(!mount.log.contains("9223372036854775807"))
        #expect(mount.log.contains("stopped by signal \(SIGTERM)"), "\(mount.log)")
    }
}

/// Event data for a runtime extend (issue 12): `tsmfs ctl extend` records what was measured.
@Suite("Extends with event data", .needsMount)
struct ExtendEventTests {
    @Test("ctl extend records its event text in the runtime log; the log still replays to the live RTMRs")
    func eventData() throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let socket = directory + "/ctl.sock"
        let mount = try MountedTSMFS(["--guest", "tdx", "--control", socket], sysroot: true)
        let digest = hex([UInt8](repeating: 0x5A, count: 48))
        let r = try shell(
            """
            set -e
            '\(tsmfsBinary())' ctl --socket '\(socket)' extend tdx/rtmr3 \(digest) 'my-app v1.2 (config sha)'
            ! '\(tsmfsBinary())' ctl --socket '\(socket)' extend tdx/mrtd \(digest) nope 2>&1
            '\(tsmfsBinary())' log --sysroot '\(mount.root)' --replay
            """)
        #expect(r.status == 0, "\(r.text) \(r.stderr)")
        #expect(r.text.contains("does not extend"), "\(r.text)")
        #expect(r.text.contains("runtime  0  rtmr3  EV_EVENT_TAG"), "\(r.text)")
        #expect(r.text.contains("\"my-app v1.2 (config sha)\""), "\(r.text)")
        let live = hex(Sys.readFile(mount.path("sys/kernel/tsm/tdx/rtmr3/digest")).value ?? [])
        #expect(r.text.contains("rtmr3: \(live)"), "the log replays to the live register")
        #expect(mount.stop() == 0)
    }
}
