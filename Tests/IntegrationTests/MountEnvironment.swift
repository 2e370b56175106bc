import Foundation
import Glibc
import Testing

/// Whether this process may mount FUSE filesystems: the integration suites need root and a
/// /dev/fuse it can open for read and write. `TSMFS_NO_MOUNT=1` says no, to see the skips.
enum MountEnvironment {
    /// Why nothing can be mounted here, or nil when mounts work. Checked once per run.
    static let unavailableReason: String? = {
        if let value = ProcessInfo.processInfo.environment["TSMFS_NO_MOUNT"], !value.isEmpty, value != "0" {
            return "TSMFS_NO_MOUNT=\(value) is set"
        }
        if geteuid() != 0 { return "not root (euid \(geteuid()))" }
        let fd = open("/dev/fuse", O_RDWR | O_CLOEXEC)
        guard fd >= 0 else { return "/dev/fuse cannot be opened for read+write: \(String(cString: strerror(errno)))" }
        close(fd)
        return nil
    }()

    static var canMount: Bool { unavailableReason == nil }
}

extension Trait where Self == ConditionTrait {
    /// The trait of every suite that mounts: enabled only where ``MountEnvironment`` allows it,
    /// and skipped with the reason elsewhere.
    static var needsMount: Self {
        .enabled(
            if: MountEnvironment.canMount,
            Comment(rawValue: "needs root and a usable /dev/fuse: \(MountEnvironment.unavailableReason ?? "")")
        )
    }
}
