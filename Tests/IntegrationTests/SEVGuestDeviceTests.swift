import Foundation
import Testing
import TestSupport

/// `/dev/sev-guest` under `tsmfs exec --guest sev-snp`, asked by a C client compiled against
/// Debian's `<linux/sev-guest.h>`: the three ioctls as drivers/virt/coco/sev-guest answers them.
@Suite("/dev/sev-guest: the SEV-SNP guest driver's ioctls", .serialized, .needsMount)
struct SEVGuestDeviceTests {
    /// The client's `name=value` words, from every line (a later line's name wins).
    static func fields(_ text: String) -> [String: String] {
        var result: [String: String] = [:]
        for word in text.split(whereSeparator: { $0 == " " || $0 == "\n" }) {
            let parts = word.split(separator: "=", maxSplits: 1).map(String.init)
            if parts.count == 2 { result[parts[0]] = parts[1] }
        }
        return result
    }

    /// Compiles the client and runs it in a SEV-SNP namespace; `extra` runs after it there.
    static func runClient(_ directory: String, options: String = "", extra: String = "") throws -> ShellResult {
        let source = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("sev_guest_client.c").path
        let compiled = try shell("gcc -Wall -Werror -o '\(directory)/client' '\(source)'")
        try #require(compiled.status == 0, "gcc against linux/sev-guest.h: \(compiled.stderr)")
        return try shell(
            """
            '\(tsmfsBinary())' exec --guest sev-snp \(options) -- sh -c '
            "\(directory)/client" /dev/sev-guest "\(directory)" || exit $?
            \(extra)'
            """)
    }

    @Test("a report of the user data that verifies with the VCEK of the extended report, after the sizing call")
    func reports() throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        // The configfs path, for the same user data, in the same namespace.
        let r = try Self.runClient(
            directory,
            extra: """
                mkdir /sys/kernel/config/tsm/report/c
                python3 -c "import sys; sys.stdout.buffer.write(bytes((i * 7 + 3) & 255 for i in range(64)))" \
                > /sys/kernel/config/tsm/report/c/inblob
                cat /sys/kernel/config/tsm/report/c/outblob > "\(directory)/configfs.bin"
                cat /sys/kernel/config/tsm/report/c/auxblob > "\(directory)/auxblob.bin"
                rmdir /sys/kernel/config/tsm/report/c
                """)
        #expect(r.status == 0, "\(r.text) \(r.stderr)")
        let f = Self.fields(r.text)
        // SNP_GET_REPORT: 0; exitinfo2 0 after the firmware call, so the struct is not copied back.
        #expect(
            r.text.contains("report_errno=0 status=0 size=1184 exitinfo2=1234"),
            "a successful request leaves the caller's struct alone: \(r.text)")
        // The sizing call: EIO (6.3 on), VMM error INVALID_LEN, the page-rounded length back.
        #expect(f["sizing_errno"] == "5" && f["vmm_error"] == "1" && f["fw_error"] == "0", "\(r.text)")
        #expect(f["certs_len"] == "8192", "\(r.text)")
        #expect(r.text.contains("ext_errno=0 status=0 size=1184"), "\(r.text)")

        let report = try Data(contentsOf: URL(fileURLWithPath: directory + "/report.bin"))
        let reportData = Array(report[0x50..<0x90])
        let userData: [UInt8] = (0..<64).map { (index: Int) -> UInt8 in UInt8((index * 7 + 3) & 0xFF) }
        #expect(reportData == userData, "REPORT_DATA is the user data")
        let configfs = try Data(contentsOf: URL(fileURLWithPath: directory + "/configfs.bin"))
        #expect(report == configfs, "the ioctl's report is the configfs outblob for the same inputs")
        let extReport = try Data(contentsOf: URL(fileURLWithPath: directory + "/ext-report.bin"))
        #expect(extReport == configfs)
        let certs = try Data(contentsOf: URL(fileURLWithPath: directory + "/certs.bin"))
        let auxblob = try Data(contentsOf: URL(fileURLWithPath: directory + "/auxblob.bin"))
        #expect(certs.count == 8192 && certs.prefix(auxblob.count) == auxblob)
        #expect(certs.dropFirst(auxblob.count).allSatisfy { $0 == 0 }, "the table is zero-padded")

        let verified = try shell(
            """
            set -e
            '\(tsmfsBinary())' trust-anchor --guest sev-snp > '\(directory)/anchor.pem'
            '\(tsmfsBinary())' verify '\(directory)/report.bin' --guest sev-snp --auxblob '\(directory)/certs.bin' \
              --trust-anchor '\(directory)/anchor.pem' > /dev/null
            python3 '\(independentVerifier())' sev-snp '\(directory)/ext-report.bin' '\(directory)/certs.bin' \
              '\(directory)/anchor.pem'
            """)
        #expect(verified.status == 0, "\(verified.text) \(verified.stderr)")
    }

    @Test(
        "the sizing call's errno on each side of both boundaries: EIO on 5.19, 0 on 6.1 and 6.2, EIO on 6.3",
        arguments: [("5.19", "5"), ("6.1", "0"), ("6.2", "0"), ("6.3", "5")])
    func sizingPerRelease(_ release: String, _ errno: String) throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        // Before 6.7 the device is the only way: no configfs-tsm in the namespace.
        let r = try Self.runClient(
            directory, options: "--kernel \(release)", extra: "test ! -e /sys/kernel/config/tsm && echo no_configfs=1")
        #expect(r.status == 0, "\(r.text) \(r.stderr)")
        let f = Self.fields(r.text)
        #expect(f["sizing_errno"] == errno, "Linux \(release): \(r.text)")
        #expect(f["vmm_error"] == "1" && f["fw_error"] == "0" && f["certs_len"] == "8192", "\(r.text)")
        #expect(f["report_errno"] == "0" && f["ext_errno"] == "0" && f["no_configfs"] == "1", "\(r.text)")
    }

    @Test("derived keys repeat for equal requests, differ for another VMPL, selection or seed; bad requests fail")
    func keysAndErrors() throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let r = try Self.runClient(directory)
        #expect(r.status == 0, "\(r.text) \(r.stderr)")
        let f = Self.fields(r.text)
        #expect(f["key_status"] == "0,0,0,0", "\(r.text)")
        #expect(f["equal"] == "1" && f["vmpl_differs"] == "1" && f["select_differs"] == "1", "\(r.text)")
        #expect(f["bad_select_status"] == "22", "an unknown GUEST_FIELD_SELECT bit: INVALID_PARAM")
        // The driver's errno: msg_version 0 before anything (nothing copied back), a pointer
        // that does not map, a null pointer, an unaligned certificate length, unknown requests.
        #expect(f["version0_errno"] == "22", "\(r.text)")
        #expect(r.text.contains("version0_errno=22 exitinfo2=1234"))
        #expect(r.text.contains("badpointer_errno=14 exitinfo2=ff"), "\(r.text)")
        #expect(f["null_errno"] == "22" && f["unaligned_errno"] == "22", "\(r.text)")
        for command in ["c0185300", "c0105300", "c0205307"] {
            #expect(r.text.contains("unknown_\(command)_errno=25 exitinfo2=ff"), "\(r.text)")
        }
        #expect(f["read_errno"] == "22", "the device has no read method")

        // The same request on the same seed gives the same key, in another namespace too.
        let key = try Data(contentsOf: URL(fileURLWithPath: directory + "/key.bin"))
        let again = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: again) }
        #expect(try Self.runClient(again).status == 0)
        #expect(try Data(contentsOf: URL(fileURLWithPath: again + "/key.bin")) == key)
        #expect(try Self.runClient(again, options: "--seed another-seed").status == 0)
        #expect(try Data(contentsOf: URL(fileURLWithPath: again + "/key.bin")) != key, "another seed, another key")
    }
}
