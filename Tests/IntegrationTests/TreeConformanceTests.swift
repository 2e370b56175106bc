import Foundation
import Glibc
import Testing
import TestSupport

/// The RFC v2 tree of the built-in providers, through a real mount (ABI.md sections 0-2).
@Suite("RFC v2 tree through FUSE", .serialized, .needsMount)
final class TreeConformanceTests {
    let mount: MountedTSMFS

    init() throws {
        mount = try MountedTSMFS()
    }

    @Test("every RFC v2 row of ABI.md section 0 holds for every built-in file")
    func conformanceTable() {
        let conformance = RFCv2Conformance(root: mount.root, files: RFCv2Conformance.builtinFiles)
        let checks = conformance.run()
        #expect(checks == conformance.definedChecks)
        #expect(checks > 500)
    }

    @Test("the tree: provider and register directories")
    func listing() throws {
        func list(_ relative: String) throws -> [String] {
            try FileManager.default.contentsOfDirectory(atPath: mount.path(relative)).sorted()
        }
        #expect(try list("") == ["cca", "measurement-example", "tdx"])
        #expect(
            try list("measurement-example") == [
                "config_mr", "full_report", "report_digest", "rtmr0", "rtmr1", "static_mr", "user_data",
            ])
        #expect(
            try list("tdx") == [
                "mrconfigid", "mrowner", "mrownerconfig", "mrtd", "report0", "reportdata", "rtmr0", "rtmr1", "rtmr2",
                "rtmr3", "servtd_hash",
            ])
        #expect(try list("cca") == ["rem0", "rem1", "rem2", "rem3", "rim"])
        #expect(try list("tdx/rtmr0") == ["digest", "hash_algo"])
        for directory in ["", "tdx", "cca/rim", "measurement-example/user_data"] {
            let st = try #require(Sys.stat(mount.path(directory)).value)
            #expect(st.st_mode & S_IFMT == S_IFDIR)
            #expect(st.st_mode & 0o7777 == 0o755, "\(directory)")
        }
    }

    @Test("structural operations answer as sysfs: EPERM, and EACCES for creating a file")
    func structure() {
        #expect(mkdir(mount.path("tdx/new"), 0o755) == -1 && errno == EPERM)
        #expect(mkdir(mount.path("new"), 0o755) == -1 && errno == EPERM)
        #expect(Sys.open(mount.path("tdx/new"), O_WRONLY | O_CREAT).error == .EACCES)
        #expect(Sys.open(mount.path("tdx/rtmr0/new"), O_RDWR | O_CREAT | O_EXCL).error == .EACCES)
        #expect(unlink(mount.path("tdx/reportdata")) == -1 && errno == EPERM)
        #expect(unlink(mount.path("tdx/rtmr0/digest")) == -1 && errno == EPERM)
        #expect(rmdir(mount.path("tdx/rtmr0")) == -1 && errno == EPERM)
        #expect(rename(mount.path("tdx/rtmr0"), mount.path("tdx/rtmr9")) == -1 && errno == EPERM)
        #expect(symlink("rtmr0", mount.path("tdx/link")) == -1 && errno == EPERM)
        #expect(link(mount.path("tdx/reportdata"), mount.path("tdx/hard")) == -1 && errno == EPERM)
        #expect(mkdir(mount.path("tdx/rtmr0"), 0o755) == -1 && errno == EEXIST)
        #expect(Sys.open(mount.path("tdx/rtmr0"), O_WRONLY).error == .EISDIR)
        #expect(chmod(mount.path("tdx/rtmr0/digest"), 0o777) == -1 && errno == EPERM)
    }

    @Test("the shell: the same errors a user sees on a confidential VM")
    func shellErrors() throws {
        let r = try shell(
            """
            cd '\(mount.root)'
            mkdir tdx/x 2>&1; touch tdx/x 2>&1; rm tdx/reportdata 2>&1
            { echo x > tdx/mrtd/digest; } 2>&1
            { echo short > tdx/rtmr0/digest; } 2>&1
            truncate -s 0 tdx/rtmr0/digest && echo truncate-ok
            touch tdx/rtmr0/digest && echo touch-ok
            """)
        #expect(r.text.contains("tdx/mrtd/digest: Permission denied"), "\(r.text)")
        #expect(r.text.contains("Operation not permitted"))
        #expect(r.text.contains("Permission denied"))
        #expect(r.text.contains("Invalid argument"))
        #expect(r.text.contains("truncate-ok"))
        #expect(r.text.contains("touch-ok"))
    }

    @Test("the ABI.md 2.7 vectors, through cat, xxd and printf | xxd -r -p")
    func sampleVectors() throws {
        let r = try shell(
            """
            cd '\(mount.root)/measurement-example'
            xxd -p -c 64 report_digest/digest
            printf '%096d' 0 | xxd -r -p > rtmr1/digest
            xxd -p -c 64 rtmr1/digest
            cat rtmr1/hash_algo; echo
            """)
        #expect(r.status == 0, "\(r.stderr)")
        let lines = r.text.split(separator: "\n").map(String.init)
        #expect(
            lines == [
                """
                52355faed607475a6f87a4ee72d776f1db811162c1348618e336d4c73d18fff88c7c01cc9be1093b60bdbf1195c7dd8404dc49\
                7a2179b3c372d0edcc1d159ede
                """,
                "5981610c834136299064ad2ed2d42ceb3f9a8bfb902d9e82842bb3e9c9e049b05635ad21b5f6fec9c1acb962ec4cbce2",
                "sha384",
            ])
    }

    @Test("report_digest and full_report follow writes to rtmr1 and user_data")
    func liveRegisters() throws {
        let example = mount.path("measurement-example")
        func read(_ name: String) -> [UInt8] { Sys.readFile(example + "/" + name).value ?? [] }
        func expectConsistent() {
            let head = ["static_mr", "config_mr", "rtmr0", "rtmr1", "user_data"].flatMap { read($0 + "/digest") }
            let digest = extendDigest("sha512", [], head)  // SHA-512 of the concatenation
            #expect(read("report_digest/digest") == digest)
            #expect(read("full_report") == head + digest)
        }
        expectConsistent()
        let before = read("full_report")
        #expect(Sys.writeFile(example + "/user_data/digest", [UInt8](repeating: 0x42, count: 64)).value == 64)
        expectConsistent()
        let afterUserData = read("full_report")
        #expect(Array(afterUserData[192..<256]) == [UInt8](repeating: 0x42, count: 64))
        #expect(Sys.writeFile(example + "/rtmr1/digest", [UInt8](repeating: 0, count: 48)).value == 48)
        expectConsistent()
        #expect(Set([before, afterUserData, read("full_report")]).count == 3)
    }

    @Test("report0 reflects reportdata and the registers at the TDREPORT offsets")
    func report0() throws {
        let tdx = mount.path("tdx")
        let nonce = (0..<64).map { UInt8(255 - $0) }
        #expect(Sys.writeFile(tdx + "/reportdata", nonce).value == 64)
        #expect(Sys.readFile(tdx + "/reportdata").value == nonce)
        #expect(Sys.writeFile(tdx + "/rtmr3/digest", [UInt8](repeating: 0, count: 48)).value == 48)
        let report = try #require(Sys.readFile(tdx + "/report0").value)
        #expect(report.count == 1024)
        #expect(Array(report[128..<192]) == nonce)
        let offsets = [
            ("mrtd", 528), ("mrconfigid", 576), ("mrowner", 624), ("mrownerconfig", 672),
            ("rtmr0", 720), ("rtmr1", 768), ("rtmr2", 816), ("rtmr3", 864), ("servtd_hash", 912),
        ]
        for (name, offset) in offsets {
            #expect(Array(report[offset..<(offset + 48)]) == Sys.readFile("\(tdx)/\(name)/digest").value, "\(name)")
        }
        #expect(
            hex(Array(report[864..<912]))
                == "f57bb7ed82c6ae4a29e6c9879338c592c7d42a39135583e8ccbe3940f2344b0eb6eb8503db0ffd6a39ddd00cd07d8317")
    }

    @Test("echo without -n extends with the first bytes, then reports File too large")
    func echoLongLine() throws {
        let line = String(repeating: "a", count: 60)
        let r = try shell("echo \(line) > '\(mount.path("tdx/rtmr0/digest"))'")
        #expect(r.status != 0)
        #expect(r.stderr.contains("File too large"))
        let expected = extendDigest("sha384", [UInt8](repeating: 0, count: 48), Array(line.utf8.prefix(48)))
        #expect(Sys.readFile(mount.path("tdx/rtmr0/digest")).value == expected)
    }

    @Test(">> extends once, at offset 0, as sysfs ignores O_APPEND")
    func appendRedirect() throws {
        let r = try shell("head -c 48 /dev/zero >> '\(mount.path("tdx/rtmr2/digest"))'")
        #expect(r.status == 0, "\(r.stderr)")
        #expect(
            hex(Sys.readFile(mount.path("tdx/rtmr2/digest")).value ?? [])
                == "f57bb7ed82c6ae4a29e6c9879338c592c7d42a39135583e8ccbe3940f2344b0eb6eb8503db0ffd6a39ddd00cd07d8317")
    }

    @Test("dd writes one block; a block of the wrong size fails")
    func dd() throws {
        let ok = try shell("head -c 32 /dev/zero | dd of='\(mount.path("cca/rem0/digest"))' bs=32 count=1 2>&1")
        #expect(ok.status == 0, "\(ok.text)")
        #expect(
            hex(Sys.readFile(mount.path("cca/rem0/digest")).value ?? [])
                == "f5a5fd42d16a20302798ef6ed309979b43003d2320d9f0e8ea9831a92759fb4b")
        let bad = try shell("head -c 16 /dev/zero | dd of='\(mount.path("cca/rem1/digest"))' bs=16 count=1 2>&1")
        #expect(bad.status != 0)
        #expect(bad.text.contains("Invalid argument"))
    }

    deinit {
        let status = mount.stop()
        #expect(status == 0, "SIGTERM ends the daemon with status 0: \(mount.log)")
    }
}

/// Modes no built-in provider has (W only: 0220; neither R nor W: 0000), from a config file.
@Suite("Write-only and no-access registers from a config", .needsMount)
struct ConfigModesTests {
    @Test("0220 opens for write only; 0000 opens for nothing, root included")
    func modes() throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let config = directory + "/modes.json"
        try """
        {"providers": [{"name": "modes", "registers": [
          {"name": "wo", "hash": "sha256", "flags": "W"},
          {"name": "none", "hash": "sha384", "flags": ""},
          {"name": "wx", "hash": "sha256", "flags": "WX"}
        ]}]}
        """.write(toFile: config, atomically: true, encoding: .utf8)
        let mount = try MountedTSMFS(["--config", config, "--provider", "modes"])
        #expect(try FileManager.default.contentsOfDirectory(atPath: mount.root) == ["modes"])
        let wo = mount.path("modes/wo/digest"), none = mount.path("modes/none/digest")
        #expect(Sys.stat(wo).value.map { $0.st_mode & 0o7777 } == 0o220)
        #expect(Sys.stat(none).value.map { $0.st_mode & 0o7777 } == 0o000)
        #expect(Sys.open(wo, O_RDONLY).error == .EACCES)
        #expect(Sys.open(wo, O_RDWR).error == .EACCES)
        #expect(Sys.writeFile(wo, [UInt8](repeating: 9, count: 32)).value == 32)
        #expect(Sys.writeFile(mount.path("modes/wx/digest"), [UInt8](repeating: 0, count: 32)).value == 32)
        #expect(Sys.open(none, O_RDONLY).error == .EACCES)
        #expect(Sys.open(none, O_WRONLY).error == .EACCES)
        #expect(Sys.readFile(mount.path("modes/none/hash_algo")).value == Array("sha384".utf8))
        #expect(mount.stop() == 0)
    }
}
