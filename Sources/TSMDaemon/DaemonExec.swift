import Glibc
import TSMHost

extension Daemon {
    /// `tsmfs exec` once its options are a spec: in a private mount namespace (entered by
    /// re-executing this program unless `inNamespace`), runs `commandLine` over a sysroot daemon
    /// serving `template` at the namespace's sysroot, visible to the command (allow_other) and
    /// ending with it; returns the command's exit status. Needs root.
    public static func exec(_ commandLine: [String], template: DaemonSpec, inNamespace: Bool) throws(ExecSession
        .Failure) -> Int32
    {
        guard geteuid() == 0 else {
            throw .setUp(
                """
                tsmfs exec needs root: it makes a private mount namespace and mounts over /sys and /dev inside it \
                (try sudo)
                """
            )
        }
        if !inNamespace { try ExecSession.enterNamespace() }
        return try ExecSession.run(commandLine) { root, parent throws(ExecSession.Failure) in
            var spec = template
            spec.mountpoint = root
            spec.daemon.allowOther = true
            spec.daemon.exitWithParent = parent
            do throws(DaemonSpec.Refusal) {
                return try spec.encoded()
            } catch {
                throw .setUp(error.description)
            }
        }
    }
}
