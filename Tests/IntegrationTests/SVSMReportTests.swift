import Foundation
import Glibc
import Testing
import TestSupport

/// A SEV-SNP guest under an SVSM: the service attributes and the services manifest.
@Suite("configfs-tsm reports: SEV-SNP guest under an SVSM", .needsMount)
struct SVSMReportTests {
    @Test("service attributes show; service_provider=svsm gives the SVSM's report over nonce and manifest")
    func svsm() throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let mount = try MountedTSMFS(["--guest", "sev-snp", "--svsm", "--privlevel-floor", "2"], sysroot: true)
        let entry = mount.path("sys/kernel/config/tsm/report/svsm")
        #expect(mkdir(entry, 0o755) == 0)
        #expect(
            try FileManager.default.contentsOfDirectory(atPath: entry).sorted() == [
                "auxblob", "generation", "inblob", "manifestblob", "outblob", "privlevel", "privlevel_floor",
                "provider",
                "service_guid", "service_manifest_version", "service_provider",
            ])
        for name in ["service_provider", "service_guid", "service_manifest_version"] {
            #expect(Sys.stat(entry + "/" + name).value.map { $0.st_mode & 0o7777 } == 0o200, "\(name)")
        }
        let nonce = [UInt8](repeating: 0x42, count: 64)
        #expect(Sys.writeFile(entry + "/privlevel", Array("2".utf8)).value == 1)
        #expect(Sys.writeFile(entry + "/inblob", nonce).value == 64)
        // A guest report at its own privlevel, no manifest.
        let guest = try #require(readAll(entry + "/outblob").value)
        #expect(Array(guest[0x30..<0x34]) == [2, 0, 0, 0])
        #expect(Array(guest[0x50..<0x90]) == nonce)
        #expect(readAll(entry + "/manifestblob").value == [])
        // A provider other than svsm is refused when the report is made.
        #expect(Sys.writeFile(entry + "/service_provider", Array("tpm\n".utf8)).value == 4)
        #expect(readAll(entry + "/outblob").error == .EINVAL)
        #expect(Sys.writeFile(entry + "/service_provider", Array("svsm\n".utf8)).value == 5)
        let report = try #require(readAll(entry + "/outblob").value)
        let manifest = try #require(readAll(entry + "/manifestblob").value)
        #expect(manifest.count > 24)
        #expect(Array(report[0x30..<0x34]) == [0, 0, 0, 0], "the SVSM reports at VMPL 0")
        #expect(
            Array(report[0x50..<0x90]) == extendDigest("sha512", nonce, manifest),
            "REPORT_DATA = SHA-512(nonce ‖ manifest)")
        // One service by GUID; an unknown one is refused.
        #expect(
            Sys.writeFile(entry + "/service_guid", Array("c476f1eb-0123-45a5-9641-b4e7dde5bfe3\n".utf8)).value == 37)
        // The single-service request: the vTPM's manifest bare, not the GUID table.
        let single = try #require(readAll(entry + "/manifestblob").value)
        #expect(single == Array(manifest[48...]), "the table's one entry's data")
        let singleReport = try #require(readAll(entry + "/outblob").value)
        #expect(Array(singleReport[0x50..<0x90]) == extendDigest("sha512", nonce, single))
        #expect(Sys.writeFile(entry + "/service_guid", Array("00000000-0000-0000-0000-000000000001".utf8)).value == 36)
        #expect(readAll(entry + "/outblob").error == .EINVAL)
        #expect(Sys.writeFile(entry + "/service_guid", Array("nonsense".utf8)).error == .EINVAL)
        #expect(Sys.writeFile(entry + "/service_manifest_version", Array("x".utf8)).error == .EINVAL)
        // The SVSM's report verifies like any other.
        let auxblob = try #require(readAll(entry + "/auxblob").value)
        try Data(report).write(to: URL(fileURLWithPath: directory + "/report"))
        try Data(auxblob).write(to: URL(fileURLWithPath: directory + "/auxblob"))
        let r = try shell(
            "'\(tsmfsBinary())' verify '\(directory)/report' --guest sev-snp --auxblob '\(directory)/auxblob'")
        #expect(r.status == 0, "\(r.stderr)")
        #expect(rmdir(entry) == 0)
        #expect(mount.stop() == 0)
    }

    @Test("--svsm needs --guest sev-snp")
    func svsmNeedsSNP() throws {
        let r = try shell("'\(tsmfsBinary())' mount --sysroot /tmp/tsmfs-never --svsm 2>&1")
        #expect(r.status != 0)
        #expect(r.text.contains("--svsm needs --guest sev-snp"))
    }
}
