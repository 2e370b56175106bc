import Foundation
import Testing
import TestSupport

/// The vTPM's life: its identity and state across restarts, a non-root mount's, and what a
/// missing or killed swtpm gives.
@Suite("vTPM: identity, state, failures", .serialized, .needsMount)
struct VTPMLifecycleTests {
    @Test("swtpm killed mid-run: EIO and a logged error, no hang")
    func killed() throws {
        try VTPMTests.requireTools()
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        // Our swtpm is the one whose command line names this test's state directory.
        let r = try shell(
            """
            '\(tsmfsBinary())' exec --guest sev-snp --vtpm plain --state '\(directory)/state' -- sh -c '
            python3 "\(VTPMTests.rawClient)" getrandom /dev/tpmrm0
            python3 "\(VTPMTests.rawClient)" kill-swtpm "\(directory)/state.vtpm"
            python3 "\(VTPMTests.rawClient)" getrandom /dev/tpmrm0
            python3 "\(VTPMTests.rawClient)" getrandom /dev/tpm0
            tpm2_pcrread sha256:0 > /dev/null 2>&1 && echo pcrread=ok || echo pcrread=failed'
            """)
        let lines = r.text.split(separator: "\n").filter { $0.hasPrefix("{") }
        #expect(lines.first?.contains("\"rc\": 0") == true, "\(r.text) \(r.stderr)")
        #expect(lines.dropFirst().first?.contains("\"killed\": [") == true, "\(r.text)")
        #expect(lines.dropFirst().first?.contains("\"killed\": []") == false, "\(r.text)")
        #expect(lines.dropFirst().filter { $0.contains("\"errno\": \"EIO\"") }.count == 2, "\(r.text) \(r.stderr)")
        #expect(r.text.contains("pcrread=failed"), "\(r.text)")
        #expect(r.stderr.contains("vTPM"), "\(r.stderr)")
    }

    @Test(
        "a non-root mount gets a vTPM: swtpm runs as the user, tpm2-tools reads PCRs through its tpmrm0",
        .enabled(
            if: UnprivilegedTests.cannotMountReason == nil,
            Comment(rawValue: UnprivilegedTests.cannotMountReason ?? "")))
    func unprivileged() throws {
        try VTPMTests.requireTools()
        let (binary, directory) = try UnprivilegedTests.prepare()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let user = UnprivilegedTests.user
        let script = directory + "/flow.sh"
        try """
        U=\(user) MP=\(directory)/m
        as_user() { runuser -u "$U" -- sh -c "$1"; }
        if ! as_user ': <>/dev/fuse' 2>/dev/null; then
            mknod \(directory)/fuse c 10 229 && chmod 666 \(directory)/fuse && mount --bind \(directory)/fuse \
        /dev/fuse || exit 90
        fi
        # Readiness is the daemon's READY=1 on an abstract $NOTIFY_SOCKET, read through a FIFO with
        # the daemon's exit (as UnprivilegedTests does): observed, never slept for.
        \(UnprivilegedTests.notifyReceiver(directory: directory, name: "tsmfs-vtpm-$$"))
        ( runuser -u "$U" -- env NOTIFY_SOCKET=@tsmfs-vtpm-$$ \(binary) mount --sysroot "$MP" --guest tdx --vtpm plain \
          2>\(directory)/daemon.log 3<&- 4>&-; s=$?; echo "exited $s" >&4; exit $s ) & daemon=$!
        while read -r m <&3; do case "$m" in *READY=1*) break;; "exited "*) kill -KILL $receiver; exit 91;; esac; done
        kill -KILL $receiver
        echo ready
        ps -o user= -C swtpm | sed "s/^/swtpm-user=/"
        as_user "TPM2TOOLS_TCTI=device:$MP/dev/tpmrm0 tpm2_pcrread sha256:8"
        # The subshell's child is runuser, whose child is the daemon: SIGTERM to it by its pid,
        # runuser and the subshell pass on its status.
        kill -TERM $(pgrep -P $(pgrep -P $daemon)); wait $daemon; echo "daemon-exit=$?"
        """.write(toFile: script, atomically: true, encoding: .utf8)
        let r = try shell("timeout 120 unshare --mount --propagation private bash \(script)")
        let log = (try? String(contentsOfFile: directory + "/daemon.log", encoding: .utf8)) ?? ""
        try #require(r.text.contains("ready"), "\(r.status): \(r.text) \(r.stderr) \(log)")
        #expect(r.text.contains("swtpm-user=\(user)"), "\(r.text)")
        #expect(
            r.text.contains("8 : 0x5EDE2669E618328E0119330B2FA0A35BF21EA5BEB9BF8D229D7468C79ECA744D"),
            "\(r.text) \(r.stderr) \(log)")
        #expect(r.text.contains("daemon-exit=0"), "\(r.text) \(log)")
    }

    @Test("the EK certificate in NV 0x01C00002 verifies against `tsmfs trust-anchor --vtpm plain` of the seed")
    func ekCertificate() throws {
        try VTPMTests.requireTools()
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let r = try shell(
            """
            cd '\(directory)'
            '\(tsmfsBinary())' trust-anchor --vtpm plain --seed vtpm-test > ca.pem
            '\(tsmfsBinary())' trust-anchor --vtpm plain --seed other > other.pem
            '\(tsmfsBinary())' exec --guest sev-snp --vtpm plain --seed vtpm-test -- \
                tpm2_nvread 0x01C00002 -C o -o ek.der
            openssl x509 -inform DER -in ek.der -out ek.pem
            openssl verify -CAfile ca.pem ek.pem && echo verified
            openssl verify -CAfile other.pem ek.pem > /dev/null 2>&1 || echo refused-by-other-seed
            """)
        #expect(r.text.contains("ek.pem: OK") && r.text.contains("verified"), "\(r.text) \(r.stderr)")
        #expect(r.text.contains("refused-by-other-seed"), "\(r.text)")
    }

    @Test("swtpm missing: a clear error at start, nothing mounted")
    func missing() throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let r = try shell(
            """
            PATH=/nonexistent '\(tsmfsBinary())' mount --sysroot '\(directory)/root' --guest sev-snp --vtpm plain
            echo "status=$?"
            /usr/bin/mountpoint -q '\(directory)/root' && echo mounted=yes || echo mounted=no
            """)
        #expect(!r.text.contains("status=0") && r.text.contains("mounted=no"), "\(r.text)")
        #expect(r.stderr.contains("swtpm"), "\(r.stderr)")
    }

    @Test("--state: the EK, an NV index and a persistent handle survive a restart; the boot log replays again")
    func persists() throws {
        try VTPMTests.requireTools()
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let run = { (script: String) throws -> ShellResult in
            try shell(
                """
                '\(tsmfsBinary())' exec --guest tdx --vtpm plain --state '\(directory)/state' -- bash -euo pipefail -c '
                cd "\(directory)"; \(script)'
                """)
        }
        let first = try run(
            """
            tpm2_readpublic -c 0x81010001 -o ek1.pub -Q
            tpm2_nvdefine 0x01500010 -C o -s 8 -a "ownerread|ownerwrite" -Q
            echo -n tsmfs-vt | tpm2_nvwrite 0x01500010 -C o -i -
            tpm2_createprimary -C o -c p.ctx -Q && tpm2_evictcontrol -C o -c p.ctx 0x81000010 -Q
            tpm2_pcrextend 16:sha256=\(String(repeating: "cd", count: 32))
            tpm2_nvread 0x01C00002 -C o -o ekcert1.der
            """)
        #expect(first.status == 0, "\(first.text) \(first.stderr)")
        let second = try run(
            """
            tpm2_readpublic -c 0x81010001 -o ek2.pub -Q
            cmp ek1.pub ek2.pub && echo ek=same
            echo "nv=$(tpm2_nvread 0x01500010 -C o)"
            tpm2_readpublic -c 0x81000010 -Q > /dev/null && echo persistent=yes
            tpm2_nvread 0x01C00002 -C o -o ekcert2.der && cmp ekcert1.der ekcert2.der && echo cert=same
            tpm2_pcrread sha256:16 > pcr16
            tpm2_pcrread sha256 > pcrs.start
            tpm2_pcrread sha384 > pcrs384.start
            tpm2_eventlog /sys/kernel/security/tpm0/binary_bios_measurements > eventlog.yaml
            """)
        #expect(second.status == 0, "\(second.text) \(second.stderr)")
        for line in ["ek=same", "nv=tsmfs-vt", "persistent=yes", "cert=same"] {
            #expect(second.text.contains(line), "\(line): \(second.text)")
        }
        // A restart is a reboot: PCR 16's extend is gone and the boot log replays again.
        let pcr16 = try String(contentsOfFile: directory + "/pcr16", encoding: .utf8)
        #expect(VTPMTests.pcrs(pcr16)[16] == String(repeating: "0", count: 64), "\(pcr16)")
        let start = VTPMTests.pcrs(try String(contentsOfFile: directory + "/pcrs.start", encoding: .utf8))
        let replay = VTPMTests.pcrs(try String(contentsOfFile: directory + "/eventlog.yaml", encoding: .utf8))
        for (index, value) in replay { #expect(start[index] == value, "PCR \(index)") }
    }
}
