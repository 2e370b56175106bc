import Foundation
import Glibc
import Testing
import TestSupport

/// Start, stop, crash and restart, refusals (issue: the CLI and lifecycle).
@Suite("Daemon lifecycle", .needsMount)
struct LifecycleTests {
    @Test("SIGTERM and SIGINT: exit 0 and the mount is gone", arguments: [SIGTERM, SIGINT])
    func signals(signal: Int32) throws {
        let mount = try MountedTSMFS()
        #expect(mount.log.contains("serving cca, measurement-example, tdx at \(mount.root)"))
        #expect(mount.stop(signal) == 0, "\(mount.log)")
        #expect(!isMountPoint(mount.root))
        #expect(!mountTableLists(mount.root))
    }

    @Test("an outside unmount (fusermount3 -u) ends the daemon with status 0")
    func outsideUnmount() throws {
        let mount = try MountedTSMFS()
        let r = try shell("fusermount3 -u '\(mount.root)'")
        #expect(r.status == 0, "\(r.stderr)")
        mount.process.waitUntilExit()
        #expect(mount.process.terminationStatus == 0, "\(mount.log)")
        #expect(!mountTableLists(mount.root))
    }

    @Test("kill -9 leaves a stale mount; tsmfs mount again on the same path clears it and serves")
    func restartAfterKill() throws {
        let first = try MountedTSMFS()
        #expect(Sys.writeFile(first.path("tdx/rtmr0/digest"), [UInt8](repeating: 0, count: 48)).value == 48)
        #expect(first.stop(SIGKILL) == 128 + SIGKILL)
        #expect(statfsErrno(first.root) == ENOTCONN)
        #expect(Sys.readFile(first.path("tdx/rtmr0/digest")).error == .ENOTCONN)

        let second = try MountedTSMFS(mountAt: first.root)
        #expect(second.log.contains("cleared a stale mount"), "\(second.log)")
        #expect(Sys.readFile(second.path("tdx/rtmr0/digest")).value == [UInt8](repeating: 0, count: 48))
        #expect(Sys.readFile(second.path("tdx/mrtd/digest")).value?.count == 48)
        #expect(second.stop() == 0)
        #expect(!mountTableLists(first.root))
    }

    @Test("a mount point that a live filesystem occupies is refused and left alone")
    func occupied() throws {
        let mount = try MountedTSMFS()
        let r = try shell("'\(tsmfsBinary())' mount '\(mount.root)' 2>&1")
        #expect(r.status != 0)
        #expect(r.text.contains("already a mount point"), "\(r.text)")
        #expect(Sys.readFile(mount.path("tdx/rtmr1/digest")).value?.count == 48)
        #expect(mount.stop() == 0)
    }

    @Test("a missing mount point is created, parents included")
    func createsMountPoint() throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let mount = try MountedTSMFS(mountAt: directory + "/a/b/tsm")
        #expect(Sys.readFile(mount.path("cca/rim/digest")).value?.count == 32)
        #expect(mount.stop() == 0)
    }

    @Test("--provider narrows the tree; an unknown one is refused")
    func providerSelection() throws {
        let mount = try MountedTSMFS(["--provider", "tdx", "--provider", "cca"])
        #expect(try FileManager.default.contentsOfDirectory(atPath: mount.root).sorted() == ["cca", "tdx"])
        #expect(mount.stop() == 0)
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let r = try shell("'\(tsmfsBinary())' mount '\(directory)/m' --provider nope 2>&1")
        #expect(r.status != 0)
        #expect(r.text.contains("unknown provider 'nope'"))
        #expect(!mountTableLists(directory + "/m"))
    }

    @Test("--help, --version and providers")
    func cli() throws {
        let help = try shell("'\(tsmfsBinary())' --help")
        #expect(help.status == 0)
        #expect(help.text.contains("mount"))
        #expect(help.text.contains("providers"))
        let mountHelp = try shell("'\(tsmfsBinary())' mount --help")
        #expect(mountHelp.text.contains("--allow-other"))
        #expect(mountHelp.text.contains("--config"))
        #expect(mountHelp.text.contains("--log-level"))
        let version = try shell("'\(tsmfsBinary())' --version")
        #expect(version.status == 0)
        #expect(!version.text.isEmpty)
        let providers = try shell("'\(tsmfsBinary())' providers")
        #expect(providers.text.contains("rtmr1/"))
        #expect(providers.text.contains("full_report"))
    }

    @Test("providers --json is a config that mounts the same tree")
    func jsonRoundTrip() throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let r = try shell("'\(tsmfsBinary())' providers --json > '\(directory)/all.json'")
        #expect(r.status == 0)
        let mount = try MountedTSMFS(["--config", directory + "/all.json"])
        RFCv2Conformance(root: mount.root, files: RFCv2Conformance.builtinFiles).run()
        #expect(mount.stop() == 0)
    }
}

/// Config refusals: a clear message naming file, provider, register and rule; non-zero exit;
/// nothing mounted.
@Suite("Bad configs")
struct BadConfigTests {
    static let cases: [(String, String, [String])] = [
        (
            "size",
            #"""
            {"providers": [{"name": "p", "registers": [{"name": "r", "hash": \#
            "sha384", "size": 47, "flags": "R"}]}]}
            """#,
            ["provider 'p'", "register 'r'", "size 47 does not match sha384"]
        ),
        (
            "hash", #"{"providers": [{"name": "p", "registers": [{"name": "r", "hash": "sha3-256", "flags": "R"}]}]}"#,
            ["provider 'p'", "register 'r'", "unknown hash 'sha3-256'"]
        ),
        (
            "duplicate",
            #"""
            {"providers": [{"name": "p", "registers": [{"name": "r", "hash": "sha256", "flags": "R"}, {"name": "r", \#
            "hash": "sha256", "flags": "RW"}]}]}
            """#,
            ["provider 'p'", "register 'r'", "already exists"]
        ),
        (
            "hex",
            #"""
            {"providers": [{"name": "p", "registers": [{"name": "r", "hash": "sha256", "flags": "R", "initial": \#
            "0g"}]}]}
            """#,
            ["provider 'p'", "register 'r'", "not hex"]
        ),
        (
            "slash", #"{"providers": [{"name": "p", "registers": [{"name": "a/b", "hash": "sha256", "flags": "R"}]}]}"#,
            ["provider 'p'", "register 'a/b'", "'/'"]
        ),
        ("json", #"{"providers": [}"#, ["not valid JSON at line 1, column 16"]),
    ]

    @Test("refused before anything is mounted", arguments: cases.indices)
    func refused(index: Int) throws {
        let (label, text, fragments) = Self.cases[index]
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let config = directory + "/bad-\(label).json"
        try text.write(toFile: config, atomically: true, encoding: .utf8)
        let r = try shell("'\(tsmfsBinary())' mount '\(directory)/m' --config '\(config)' 2>&1")
        #expect(r.status != 0, "\(label)")
        #expect(r.text.contains(config), "\(label): names the file: \(r.text)")
        for fragment in fragments {
            #expect(r.text.contains(fragment), "\(label): \(r.text)")
        }
        #expect(!mountTableLists(directory + "/m"))
        #expect(!isMountPoint(directory + "/m"))
    }

    @Test("a missing config file is refused")
    func missing() throws {
        let r = try shell("'\(tsmfsBinary())' mount /tmp/tsmfs-never --config /nonexistent/x.json 2>&1")
        #expect(r.status != 0)
        #expect(r.text.contains("/nonexistent/x.json"))
        #expect(!mountTableLists("/tmp/tsmfs-never"))
    }
}
