import Crypto
import Foundation
import Glibc
import Testing
import TestSupport

/// A `--sysroot` tsmfs playing the guest kernel, and a `--backend kernel` tsmfs on top of it
/// (issue 5). Stops the kernel-backed daemon first, then the sysroot.
final class KernelBackendPair {
    let sysroot: MountedTSMFS
    let mount: MountedTSMFS

    init(guest: String, faults: [String] = [], extra: [String] = []) throws {
        sysroot = try MountedTSMFS(
            ["--guest", guest] + faults.flatMap { ["--inject-fault", $0] } + extra, sysroot: true)
        mount = try MountedTSMFS(["--backend", "kernel", "--kernel-root", sysroot.root])
    }

    var measurements: String { sysroot.path("sys/devices/virtual/misc/tdx_guest/measurements") }
    var reportDirectory: String { sysroot.path("sys/kernel/config/tsm/report") }

    /// The report entries left in the sysroot.
    var reportEntries: [String] {
        (try? FileManager.default.contentsOfDirectory(atPath: reportDirectory)) ?? ["<unlistable>"]
    }

    /// Stops both daemons; each must exit 0.
    func stop() {
        #expect(mount.stop() == 0, "\(mount.log)")
        #expect(sysroot.stop() == 0, "\(sysroot.log)")
    }

    /// A quote (TDX) or report (SEV-SNP) made in the sysroot through its own entry.
    func sysrootReport(_ inblob: [UInt8]) -> [UInt8] {
        let entry = reportDirectory + "/kernel-backend-test"
        guard mkdir(entry, 0o755) == 0 else { return [] }
        defer { rmdir(entry) }
        guard Sys.writeFile(entry + "/inblob", inblob).value == inblob.count else { return [] }
        return Sys.readFile(entry + "/outblob", count: 1 << 16).value ?? []
    }
}

/// Runs `tsmfs ARGS` that must fail before mounting, with a deadline in case it does not.
func tsmfsMustFail(_ arguments: [String]) throws -> ShellResult {
    let quoted = arguments.map { "'\($0)'" }.joined(separator: " ")
    return try shell("timeout 20 '\(tsmfsBinary())' \(quoted)")
}

@Suite("Kernel backend against a sysroot (issue 5)", .serialized, .needsMount)
struct KernelBackendTests {
    static let tdxFiles: [(register: String, file: String)] = [
        ("mrtd", "mrtd:sha384"), ("mrconfigid", "mrconfigid"), ("mrowner", "mrowner"),
        ("mrownerconfig", "mrownerconfig"),
        ("rtmr0", "rtmr0:sha384"), ("rtmr1", "rtmr1:sha384"), ("rtmr2", "rtmr2:sha384"), ("rtmr3", "rtmr3:sha384"),
    ]

    @Test("tdx: every digest equals the sysroot's measurements file")
    func tdxDigests() throws {
        let pair = try KernelBackendPair(guest: "tdx")
        defer { pair.stop() }
        for (register, file) in Self.tdxFiles {
            let served = Sys.readFile(pair.mount.path("tdx/\(register)/digest")).value
            #expect(served != nil && served == Sys.readFile(pair.measurements + "/" + file).value, "\(register)")
        }
        // RTMRs of a sysroot start where its boot log leaves them, not at zero.
        #expect(Sys.readFile(pair.mount.path("tdx/rtmr0/digest")).value != [UInt8](repeating: 0, count: 48))
        #expect(pair.reportEntries.isEmpty)
    }

    @Test("tdx: a write to rtmr2/digest extends the kernel's rtmr2:sha384, and the next quote shows it")
    func tdxExtend() throws {
        let pair = try KernelBackendPair(guest: "tdx")
        defer { pair.stop() }
        let old = try #require(Sys.readFile(pair.measurements + "/rtmr2:sha384").value)
        let data = [UInt8](repeating: 0x5a, count: 48)
        #expect(Sys.writeFile(pair.mount.path("tdx/rtmr2/digest"), data).value == 48)
        let expected = extendDigest("sha384", old, data)
        #expect(Sys.readFile(pair.measurements + "/rtmr2:sha384").value == expected)
        #expect(Sys.readFile(pair.mount.path("tdx/rtmr2/digest")).value == expected)
        let quote = pair.sysrootReport([UInt8](repeating: 7, count: 64))
        // Quote v4: the body starts at 48, RTMR2 at body offset 424 (ABI.md 4.6).
        #expect(quote.count > 520 && Array(quote[472..<520]) == expected)
        // An extend made in the kernel behind tsmfs's back shows after tsmfs's next write: the
        // tsm-mr rule, one refresh per write through the provider (ABI.md 2.6).
        let cached = Sys.readFile(pair.mount.path("tdx/rtmr3/digest")).value
        #expect(Sys.writeFile(pair.measurements + "/rtmr3:sha384", data).value == 48)
        #expect(Sys.readFile(pair.mount.path("tdx/rtmr3/digest")).value == cached)
        #expect(Sys.writeFile(pair.mount.path("tdx/reportdata"), [UInt8](repeating: 9, count: 64)).value == 64)
        #expect(
            Sys.readFile(pair.mount.path("tdx/rtmr3/digest")).value
                == Sys.readFile(pair.measurements + "/rtmr3:sha384").value)
        #expect(pair.reportEntries.isEmpty)
    }

    @Test("tdx: report0 is a TDREPORT over reportdata and the current registers")
    func tdxReport0() throws {
        let pair = try KernelBackendPair(guest: "tdx")
        defer { pair.stop() }
        let reportData = (0..<64).map { UInt8($0) }
        #expect(Sys.writeFile(pair.mount.path("tdx/reportdata"), reportData).value == 64)
        #expect(Sys.writeFile(pair.mount.path("tdx/rtmr1/digest"), [UInt8](repeating: 1, count: 48)).value == 48)
        let report = try #require(Sys.readFile(pair.mount.path("tdx/report0")).value)
        #expect(report.count == 1024)
        #expect(Array(report[128..<192]) == reportData)
        #expect(Array(report[768..<816]) == Sys.readFile(pair.measurements + "/rtmr1:sha384").value)
        #expect(Array(report[528..<576]) == Sys.readFile(pair.measurements + "/mrtd:sha384").value)
    }

    @Test("tdx: the RFC v2 conformance table passes against the kernel backend")
    func tdxConformance() throws {
        let pair = try KernelBackendPair(guest: "tdx")
        defer { pair.stop() }
        let files = RFCv2Conformance.builtinFiles.filter { $0.path.hasPrefix("tdx/") }
        #expect(RFCv2Conformance(root: pair.mount.root, files: files).run() > 50)
        #expect((try FileManager.default.contentsOfDirectory(atPath: pair.mount.root)) == ["tdx"])
    }

    @Test("tdx: an extend the kernel refuses reaches the writer as that errno")
    func tdxExtendFault() throws {
        let pair = try KernelBackendPair(guest: "tdx", faults: ["extend:EIO", "extend:ENXIO"])
        defer { pair.stop() }
        let before = Sys.readFile(pair.measurements + "/rtmr2:sha384").value
        let data = [UInt8](repeating: 3, count: 48)
        #expect(Sys.writeFile(pair.mount.path("tdx/rtmr2/digest"), data).error == .EIO)
        #expect(Sys.writeFile(pair.mount.path("tdx/rtmr2/digest"), data).error == .ENXIO)
        #expect(Sys.readFile(pair.measurements + "/rtmr2:sha384").value == before)
        #expect(Sys.writeFile(pair.mount.path("tdx/rtmr2/digest"), data).value == 48)
        #expect(pair.sysroot.log.contains("injected fault: extend"))
        #expect(pair.mount.log.contains("rtmr2:sha384"), "the kernel-backed daemon names the file: \(pair.mount.log)")
    }

    @Test("tdx without the 6.16 files: registers from configfs-tsm quotes, RTMRs read-only")
    func tdxFromQuotes() throws {
        let sysroot = try MountedTSMFS(["--guest", "tdx"], sysroot: true)
        defer { #expect(sysroot.stop() == 0, "\(sysroot.log)") }
        // A kernel root with only configfs: a link to the sysroot's.
        let root = sysroot.directory + "/configfs-only"
        try FileManager.default.createDirectory(atPath: root + "/sys/kernel", withIntermediateDirectories: true)
        #expect(symlink(sysroot.path("sys/kernel/config"), root + "/sys/kernel/config") == 0)
        let mount = try MountedTSMFS(["--backend", "kernel", "--kernel-root", root])
        defer { #expect(mount.stop() == 0, "\(mount.log)") }
        let measurements = sysroot.path("sys/devices/virtual/misc/tdx_guest/measurements")
        for (register, file) in Self.tdxFiles {
            #expect(
                Sys.readFile(mount.path("tdx/\(register)/digest")).value
                    == Sys.readFile(measurements + "/" + file).value, "\(register)")
        }
        #expect(Sys.stat(mount.path("tdx/rtmr2/digest")).value.map { $0.st_mode & 0o7777 } == 0o444)
        #expect(Sys.open(mount.path("tdx/rtmr2/digest"), O_WRONLY).error == .EACCES)
        // A change in the kernel shows after the next write through tsmfs, from a new quote.
        #expect(Sys.writeFile(measurements + "/rtmr2:sha384", [UInt8](repeating: 4, count: 48)).value == 48)
        let reportData = [UInt8](repeating: 0x33, count: 64)
        #expect(Sys.writeFile(mount.path("tdx/reportdata"), reportData).value == 64)
        #expect(
            Sys.readFile(mount.path("tdx/rtmr2/digest")).value == Sys.readFile(measurements + "/rtmr2:sha384").value)
        let report = Sys.readFile(mount.path("tdx/report0")).value ?? []
        #expect(report.count == 1024 && Array(report[128..<192]) == reportData)
        let entries = try FileManager.default.contentsOfDirectory(atPath: sysroot.path("sys/kernel/config/tsm/report"))
        #expect(entries.isEmpty, "\(entries)")
    }

    @Test("tdx from quotes: a report the kernel fails at read time reaches the reader as that errno")
    func tdxQuoteReadFault() throws {
        // The first report (at start) passes; the next fails with EIO.
        let sysroot = try MountedTSMFS(["--guest", "tdx", "--inject-fault", "outblob:EIO:+1"], sysroot: true)
        defer { #expect(sysroot.stop() == 0, "\(sysroot.log)") }
        let root = sysroot.directory + "/configfs-only"
        try FileManager.default.createDirectory(atPath: root + "/sys/kernel", withIntermediateDirectories: true)
        #expect(symlink(sysroot.path("sys/kernel/config"), root + "/sys/kernel/config") == 0)
        let mount = try MountedTSMFS(["--backend", "kernel", "--kernel-root", root])
        defer { #expect(mount.stop() == 0, "\(mount.log)") }
        // rtmr0 is live and never refreshed yet: its first read asks for a quote.
        #expect(Sys.readFile(mount.path("tdx/rtmr0/digest")).error == .EIO)
        #expect(mount.log.contains("outblob"), "the daemon names the kernel file: \(mount.log)")
        #expect(sysroot.log.contains("injected fault: outblob"))
        // The failure left the provider out of sync: the next read asks again, and succeeds.
        #expect(
            Sys.readFile(mount.path("tdx/rtmr0/digest")).value
                == Sys.readFile(sysroot.path("sys/devices/virtual/misc/tdx_guest/measurements/rtmr0:sha384")).value)
        let entries = try FileManager.default.contentsOfDirectory(atPath: sysroot.path("sys/kernel/config/tsm/report"))
        #expect(entries.isEmpty, "\(entries)")
    }

    @Test("sev-snp: the launch values of a configfs-tsm report, read-only with RFC v2 modes")
    func snp() throws {
        let pair = try KernelBackendPair(guest: "sev-snp")
        defer { pair.stop() }
        let measurement = try #require(Sys.readFile(pair.mount.path("sev-snp/measurement/digest")).value)
        #expect(measurement == Sys.readFile(pair.sysroot.path("sys/kernel/tsm/sev-snp/measurement/digest")).value)
        #expect(
            Sys.readFile(pair.mount.path("sev-snp/host_data")).value
                == Sys.readFile(pair.sysroot.path("sys/kernel/tsm/sev-snp/host_data")).value)
        #expect(Sys.readFile(pair.mount.path("sev-snp/measurement/hash_algo")).value == Array("sha384".utf8))
        let report = pair.sysrootReport([UInt8](repeating: 1, count: 64))
        #expect(report.count == 0x4A0 && Array(report[0x90..<0xC0]) == measurement)
        let files: [(String, Int)] = [
            ("measurement/digest", 48), ("host_data", 32), ("id_key_digest", 48), ("author_key_digest", 48),
            ("family_id", 16), ("image_id", 16), ("policy", 8), ("guest_svn", 4),
        ]
        for (file, size) in files {
            let st = try #require(Sys.stat(pair.mount.path("sev-snp/" + file)).value)
            #expect(st.st_mode & 0o7777 == 0o444 && st.st_size == size, "\(file)")
            #expect(Sys.open(pair.mount.path("sev-snp/" + file), O_WRONLY).error == .EACCES, "\(file)")
        }
        #expect(pair.reportEntries.isEmpty)
    }

    @Test("sev-snp at a privlevel floor above 0: reports are asked at the floor")
    func snpPrivlevelFloor() throws {
        let pair = try KernelBackendPair(guest: "sev-snp", extra: ["--privlevel-floor", "2"])
        defer { pair.stop() }
        #expect(
            Sys.readFile(pair.mount.path("sev-snp/measurement/digest")).value
                == Sys.readFile(pair.sysroot.path("sys/kernel/tsm/sev-snp/measurement/digest")).value)
        #expect(pair.reportEntries.isEmpty)
    }

    @Test("faults: EBUSY is retried with backoff, a changed generation is retried; no entries remain")
    func retriedFaults() throws {
        let pair = try KernelBackendPair(guest: "sev-snp", faults: ["outblob:EBUSY:2", "generation"])
        defer { pair.stop() }
        #expect(
            Sys.readFile(pair.mount.path("sev-snp/measurement/digest")).value
                == Sys.readFile(pair.sysroot.path("sys/kernel/tsm/sev-snp/measurement/digest")).value)
        #expect(pair.sysroot.log.components(separatedBy: "injected fault: outblob").count == 3, "\(pair.sysroot.log)")
        #expect(pair.sysroot.log.contains("injected fault: generation"))
        #expect(pair.mount.log.contains("generation changed"), "\(pair.mount.log)")
        #expect(pair.reportEntries.isEmpty)
    }

    @Test(
        "faults: EIO, ETIMEDOUT, ENXIO and endless generation changes fail the start clearly; no entries remain",
        arguments: [
            ("outblob:EIO", "Input/output error"), ("outblob:ETIMEDOUT", "timed out"),
            ("outblob:ENXIO", "No such device or address"), ("outblob:EBUSY:5", "busy"),
            ("generation:5", "busy"),
        ])
    func fatalFaults(fault: String, message: String) throws {
        let sysroot = try MountedTSMFS(["--guest", "sev-snp", "--inject-fault", fault], sysroot: true)
        defer { #expect(sysroot.stop() == 0, "\(sysroot.log)") }
        let mountpoint = sysroot.directory + "/kernel-tsm"
        let result = try tsmfsMustFail(["mount", mountpoint, "--backend", "kernel", "--kernel-root", sysroot.root])
        #expect(result.status != 0 && result.status != 124)
        #expect(result.stderr.contains(message), "\(result.stderr)")
        #expect(result.stderr.contains("sys/kernel/config/tsm/report"), "\(result.stderr)")
        #expect(!isMountPoint(mountpoint))
        let entries = try FileManager.default.contentsOfDirectory(atPath: sysroot.path("sys/kernel/config/tsm/report"))
        #expect(entries.isEmpty, "\(entries)")
    }

    @Test("a plain host: --backend kernel exits non-zero, says what it looked for, mounts nothing")
    func plainHost() throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let empty = directory + "/root"
        #expect(mkdir(empty, 0o755) == 0)
        let mountpoint = directory + "/tsm"
        let result = try tsmfsMustFail(["mount", mountpoint, "--backend", "kernel", "--kernel-root", empty])
        #expect(result.status == 1)
        #expect(result.stderr.contains(empty + "/sys/devices/virtual/misc/tdx_guest/measurements"), "\(result.stderr)")
        #expect(result.stderr.contains(empty + "/sys/kernel/config/tsm/report"), "\(result.stderr)")
        #expect(!isMountPoint(mountpoint) && !FileManager.default.fileExists(atPath: mountpoint))
        // The kernel decides the provider: a selection is refused, not ignored.
        let selection = try tsmfsMustFail([
            "mount", mountpoint, "--backend", "kernel", "--kernel-root", empty, "--provider", "tdx",
        ])
        #expect(
            selection.status != 0 && selection.status != 124 && selection.stderr.contains("--provider"),
            "\(selection.stderr)")
        #expect(!FileManager.default.fileExists(atPath: mountpoint))
    }
}
