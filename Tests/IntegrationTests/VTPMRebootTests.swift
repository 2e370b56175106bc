import Foundation
import Glibc
import Testing
import TestSupport

/// `tsmfs ctl reboot` on a mount with `--vtpm`: the vTPM is power-cycled with the registers,
/// asked through tpm2-tools 5.4 (the device TCTI on the sysroot's devices) and a raw client.
@Suite("vTPM: ctl reboot", .serialized, .needsMount)
struct VTPMRebootTests {
    /// A sysroot of `guest` with `--vtpm plain` and a control socket (and `extra`).
    static func mount(_ guest: String, socket: String, extra: [String] = []) throws -> MountedTSMFS {
        try MountedTSMFS(["--guest", guest, "--vtpm", "plain", "--control", socket] + extra, sysroot: true)
    }

    /// `key=value` lines of `text`.
    static func fields(_ text: String) -> [String: String] {
        Dictionary(
            text.split(separator: "\n").compactMap { line -> (String, String)? in
                let parts = line.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
                return parts.count == 2 ? (parts[0], parts[1]) : nil
            }, uniquingKeysWith: { $1 })
    }

    @Test(
        "PCRs back to boot values, the event log replays to them; EK and its certificate kept; a transient object gone",
        arguments: ["sev-snp", "tdx"])
    func reboot(guest: String) throws {
        try VTPMTests.requireTools()
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let socket = directory + "/ctl.sock"
        let mount = try Self.mount(guest, socket: socket)
        let root = mount.root
        let r = try shell(
            """
            set -euo pipefail
            cd '\(directory)'
            export TPM2TOOLS_TCTI=device:\(root)/dev/tpmrm0
            direct() { TPM2TOOLS_TCTI=device:\(root)/dev/tpm0 "$@"; }
            tpm2_pcrread sha256 > boot.pcrs
            tpm2_readpublic -c 0x81010001 -o ek1.pub -Q
            tpm2_nvread 0x01C00002 -C o -o cert1.der 2> /dev/null
            tpm2_pcrextend 7:sha256=\(String(repeating: "ab", count: 32)) \\
                16:sha256=\(String(repeating: "cd", count: 32))
            tpm2_pcrread sha256 > extended.pcrs
            direct tpm2_createprimary -C o -c primary.ctx -Q
            echo "transient-before=$(direct tpm2_getcap handles-transient | tr -d '\\n')"
            '\(tsmfsBinary())' ctl --socket '\(socket)' reboot
            tpm2_pcrread sha256 > after.pcrs
            tpm2_eventlog '\(root)/sys/kernel/security/tpm0/binary_bios_measurements' > eventlog.yaml
            tpm2_readpublic -c 0x81010001 -o ek2.pub -Q && cmp ek1.pub ek2.pub && echo ek=same
            tpm2_nvread 0x01C00002 -C o -o cert2.der 2> /dev/null && cmp cert1.der cert2.der && echo cert=same
            echo "transient-after=$(direct tpm2_getcap handles-transient | tr -d '\\n')"
            echo "pcr16-file=$(xxd -p -c 64 '\(root)/sys/kernel/tsm/tpm/pcr16/digest')"
            """)
        #expect(r.status == 0, "\(r.text) \(r.stderr) \(mount.log)")
        let fields = Self.fields(r.text)
        #expect(r.text.contains("ok: rebooted"), "\(r.text)")
        #expect(fields["ek"] == "same" && fields["cert"] == "same", "\(r.text)")
        #expect(fields["transient-before"]?.contains("0x80000000") == true, "\(r.text) \(r.stderr)")
        #expect(fields["transient-after"] == "", "\(r.text)")
        #expect(fields["pcr16-file"] == String(repeating: "0", count: 64), "\(r.text)")
        let read = { (name: String) in
            VTPMTests.pcrs((try? String(contentsOfFile: directory + "/" + name, encoding: .utf8)) ?? "")
        }
        let boot = read("boot.pcrs"), extended = read("extended.pcrs"), after = read("after.pcrs")
        #expect(boot.count == 24 && after.count == 24, "\(boot) \(after)")
        #expect(extended[7] != boot[7] && extended[16] != boot[16], "the extends took")
        #expect(after == boot, "every PCR back to its boot value")
        let replay = read("eventlog.yaml")
        #expect(!replay.isEmpty && replay.keys.contains(7), "\(replay)")
        for (index, value) in replay { #expect(after[index] == value, "PCR \(index): the log replays to it") }
        #expect(mount.stop() == 0, "\(mount.log)")
    }

    @Test("/dev/tpmrm0 files open across it: an object's file answers EINVAL until closed, a session's once")
    func spaces() throws {
        try VTPMTests.requireTools()
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let socket = directory + "/ctl.sock"
        let mount = try Self.mount("sev-snp", socket: socket)
        let r = try shell(
            """
            python3 '\(VTPMTests.rawClient)' reboot-space '\(mount.root)' \\
                '\(tsmfsBinary())' ctl --socket '\(socket)' reboot
            """)
        let json = try #require(r.text.split(separator: "\n").last.map(String.init), "\(r.text) \(r.stderr)")
        let result = try #require(
            try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any], "\(r.text) \(r.stderr)")
        #expect(result["create"] as? Int == 0 && result["session"] as? Int == 0, "\(json)")
        #expect(result["reboot"] as? Int == 0, "\(json) \(mount.log)")
        #expect(result["objects_after"] as? [String] == ["EINVAL", "EINVAL"], "\(json)")
        let sessions = result["sessions_after"] as? [Any]
        #expect(sessions?.first as? String == "EINVAL" && sessions?.last as? Int == 0, "\(json)")
        #expect(result["fresh"] as? Int == 0, "\(json)")
        #expect(mount.stop() == 0, "\(mount.log)")
    }

    @Test("--state: a restart is the vTPM's power-on; the recorded reboot replays into the registers only")
    func restart() throws {
        try VTPMTests.requireTools()
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let socket = directory + "/ctl.sock"
        let state = ["--state", directory + "/state"]
        let resetCount = { (root: String) throws -> Int? in
            let r = try shell("TPM2TOOLS_TCTI=device:\(root)/dev/tpmrm0 tpm2_readclock")
            let line = r.text.split(separator: "\n").first { $0.contains("reset_count:") }
            return line.flatMap { Int($0.split(separator: ":").last?.trimmingCharacters(in: .whitespaces) ?? "") }
        }
        let first = try Self.mount("tdx", socket: socket, extra: state)
        let started = try #require(try resetCount(first.root), "\(first.log)")
        #expect(try shell("'\(tsmfsBinary())' ctl --socket '\(socket)' reboot").status == 0)
        #expect(try resetCount(first.root) == started + 1, "the reboot is a TPM Reset")
        #expect(first.stop() == 0, "\(first.log)")
        let second = try Self.mount("tdx", socket: socket, extra: state)
        #expect(second.log.contains("replayed 1 change"), "\(second.log)")
        #expect(try resetCount(second.root) == started + 2, "one power-on; the replayed reboot did not cycle it")
        let r = try shell(
            """
            TPM2TOOLS_TCTI=device:\(second.root)/dev/tpmrm0 tpm2_pcrread sha256 > '\(directory)/pcrs'
            tpm2_eventlog '\(second.root)/sys/kernel/security/tpm0/binary_bios_measurements' > '\(directory)/log'
            """)
        #expect(r.status == 0, "\(r.stderr)")
        let pcrs = VTPMTests.pcrs((try? String(contentsOfFile: directory + "/pcrs", encoding: .utf8)) ?? "")
        let replay = VTPMTests.pcrs((try? String(contentsOfFile: directory + "/log", encoding: .utf8)) ?? "")
        #expect(!replay.isEmpty)
        for (index, value) in replay { #expect(pcrs[index] == value, "PCR \(index)") }
        #expect(second.stop() == 0, "\(second.log)")
    }

    @Test("swtpm killed: the reboot still reboots the registers, and the reply names the vTPM that did not")
    func failed() throws {
        try VTPMTests.requireTools()
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let socket = directory + "/ctl.sock"
        let mount = try Self.mount("tdx", socket: socket, extra: ["--state", directory + "/state"])
        let report = mount.path("sys/kernel/config/tsm/report/entry")
        #expect(mkdir(report, 0o755) == 0)
        let killed = try shell("python3 '\(VTPMTests.rawClient)' kill-swtpm '\(directory)/state.vtpm'")
        #expect(killed.text.contains("\"killed\": [") && !killed.text.contains("\"killed\": []"), "\(killed.text)")
        let r = try shell("'\(tsmfsBinary())' ctl --socket '\(socket)' reboot")
        #expect(r.status != 0, "\(r.text)")
        let reply = r.text + r.stderr
        #expect(reply.contains("rebooted; 1 report entries removed; but the vTPM did not reboot: swtpm"), "\(reply)")
        #expect(access(report, F_OK) != 0, "the registers' part of the reboot happened")
        #expect(statfsErrno(mount.root) == 0, "the daemon serves on")
        let again = try shell("'\(tsmfsBinary())' ctl --socket '\(socket)' reboot")
        #expect((again.text + again.stderr).contains("the vTPM did not reboot"), "\(again.text) \(again.stderr)")
        #expect(mount.stop() == 0, "\(mount.log)")
    }
}
