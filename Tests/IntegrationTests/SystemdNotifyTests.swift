import Foundation
import Glibc
import Testing
import TestSupport

@Suite("systemd notification", .needsMount)
struct SystemdNotifyTests {
    /// The harness gives each daemon its own `$NOTIFY_SOCKET` and waits for READY=1 there; what
    /// the daemon said is kept.
    @Test("READY=1 once the mount is up, STOPPING=1 on the way out")
    func readyAndStopping() throws {
        let mount = try MountedTSMFS()
        let ready = try #require(mount.notify.messages.first)
        #expect(mount.notify.messages.count == 1, "\(mount.notify.messages)")
        #expect(ready.split(separator: "\n").contains("READY=1"), "\(ready)")
        #expect(ready.contains("STATUS=serving \(mount.root)"))
        #expect(mountTableLists(mount.root), "READY=1 comes once the mount is up")
        #expect(Sys.readFile(mount.path("tdx/mrtd/digest")).value?.count == 48)
        #expect(mount.stop() == 0)
        #expect(mount.notify.wait(for: "STOPPING=1", orEndOf: nil, within: .seconds(10)) == .received("STOPPING=1"))
        #expect(mount.notify.messages.count == 2, "\(mount.notify.messages)")
    }
}
