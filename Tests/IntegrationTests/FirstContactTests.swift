import Foundation
import Glibc
import Testing
import TestSupport

/// What a new user meets first (issue 12): options that do not apply are refused, the daemon says
/// when it stops, and an armed fault reads as it was written.
@Suite("First contact", .needsMount)
struct FirstContactTests {
    @Test("options that do not apply are refused, naming the option", arguments: [
        ("mount DIR/m --boot-log /etc/hostname", "--boot-log shapes a guest sysroot: it needs --sysroot DIR"),
        ("mount DIR/m --guest sev-snp", "--guest shapes a guest sysroot"),
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
