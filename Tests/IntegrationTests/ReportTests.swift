import Foundation
import Glibc
import Testing
import TestSupport

/// The Python verifier written from the formats alone (Tests/TSMEvidenceTests/verify_evidence.py).
func independentVerifier(_ script: String = "verify_evidence.py") -> String {
    URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("TSMEvidenceTests/\(script)").path
}

/// Reads a whole configfs file in one read, as clients read quotes.
func readAll(_ path: String) -> Result<[UInt8], POSIXErrorCode> {
    Sys.readFile(path, count: 65536)
}

/// configfs-tsm report entries of a TDX guest sysroot (ABI.md 4.1-4.6).
@Suite("configfs-tsm reports: TDX guest", .serialized, .needsMount)
final class TDXReportTests {
    let mount: MountedTSMFS
    let report: String
    let tsm: String
    let measurements: String

    init() throws {
        mount = try MountedTSMFS(["--guest", "tdx"], sysroot: true)
        report = mount.path("sys/kernel/config/tsm/report")
        tsm = mount.path("sys/kernel/tsm/tdx")
        measurements = mount.path("sys/devices/virtual/misc/tdx_guest/measurements")
    }

    deinit {
        #expect(mount.stop() == 0, "\(mount.log)")
    }

    func makeEntry(_ name: String) throws -> String {
        #expect(mkdir(report + "/" + name, 0o755) == 0, "mkdir \(name): \(errno)")
        return report + "/" + name
    }

    @Test("mkdir makes an entry whose tdx_guest attributes exist at once, with configfs modes and sizes")
    func entryAttributes() throws {
        let entry = try makeEntry("attrs")
        let names = try FileManager.default.contentsOfDirectory(atPath: entry).sorted()
        #expect(names == ["generation", "inblob", "outblob", "provider"])
        let expected: [(String, UInt32, Int)] = [
            ("generation", 0o444, 4096), ("provider", 0o444, 4096), ("inblob", 0o200, 0), ("outblob", 0o444, 0),
        ]
        for (name, mode, size) in expected {
            let st = try #require(Sys.stat(entry + "/" + name).value)
            #expect(st.st_mode & 0o7777 == mode, "\(name)")
            #expect(st.st_size == size, "\(name)")
        }
        #expect(Sys.stat(entry + "/privlevel").error == .ENOENT)
        #expect(Sys.stat(entry + "/auxblob").error == .ENOENT)
        #expect(Sys.readFile(entry + "/provider").value == Array("tdx_guest\n".utf8))
        #expect(Sys.readFile(entry + "/generation").value == Array("0\n".utf8))
        #expect(rmdir(entry) == 0)
        #expect(Sys.stat(entry).error == .ENOENT)
    }

    @Test("the shell flow: a quote with REPORTDATA = inblob and the registers of every face, verified")
    func shellFlow() throws {
        let entry = try makeEntry("flow")
        let nonceFile = mount.directory + "/nonce"
        let nonce = (0..<64).map { UInt8(($0 * 37 + 11) & 0xFF) }
        try Data(nonce).write(to: URL(fileURLWithPath: nonceFile))
        let quoteFile = mount.directory + "/quote"
        let anchor = mount.directory + "/root.pem"
        let r = try shell(
            """
            set -e
            dd if='\(nonceFile)' of='\(entry)/inblob' bs=64 count=1 status=none
            cat '\(entry)/generation'
            cat '\(entry)/outblob' > '\(quoteFile)'
            '\(tsmfsBinary())' trust-anchor --guest tdx > '\(anchor)'
            '\(tsmfsBinary())' verify '\(quoteFile)' --guest tdx --trust-anchor '\(anchor)' > /dev/null
            python3 '\(independentVerifier())' tdx '\(quoteFile)' '\(anchor)'
            """)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.text.hasPrefix("1\n"))
        let quote = try Data(contentsOf: URL(fileURLWithPath: quoteFile)).map { $0 }
        #expect(quote.count >= 0x3FC)
        #expect(Array(quote[568..<632]) == nonce)
        let offsets = [
            ("mrtd", 184), ("mrconfigid", 232), ("mrowner", 280), ("mrownerconfig", 328),
            ("rtmr0", 376), ("rtmr1", 424), ("rtmr2", 472), ("rtmr3", 520),
        ]
        for (name, offset) in offsets {
            let file = name == "mrtd" || name.hasPrefix("rtmr") ? "\(name):sha384" : name
            #expect(Array(quote[offset..<(offset + 48)]) == Sys.readFile("\(measurements)/\(file)").value, "\(name)")
            #expect(Array(quote[offset..<(offset + 48)]) == Sys.readFile("\(tsm)/\(name)/digest").value, "\(name)")
        }
        // A one-byte corruption in the signed region fails both verifiers.
        var corrupted = quote
        corrupted[200] ^= 0x01
        try Data(corrupted).write(to: URL(fileURLWithPath: quoteFile + ".bad"))
        let bad = try shell("'\(tsmfsBinary())' verify '\(quoteFile).bad' --guest tdx --trust-anchor '\(anchor)'")
        #expect(bad.status != 0)
        let badPython = try shell("python3 '\(independentVerifier())' tdx '\(quoteFile).bad' '\(anchor)'")
        #expect(badPython.status != 0)
        // --report-data: the nonce the relying party sent must be the quote's report data.
        let same = try shell(
            """
            '\(tsmfsBinary())' verify '\(quoteFile)' --guest tdx --trust-anchor '\(anchor)' --report-data \
            \(hex(nonce))
            """
        )
        #expect(same.status == 0, "\(same.stderr)")
        var other = nonce; other[63] ^= 1
        let differs = try shell(
            """
            '\(tsmfsBinary())' verify '\(quoteFile)' --guest tdx --trust-anchor '\(anchor)' --report-data \
            \(hex(other))
            """
        )
        #expect(differs.status != 0 && differs.stderr.contains("report data does not match"), "\(differs.stderr)")
        #expect(differs.text.isEmpty, "no claims printed for evidence that does not match")
        #expect(rmdir(entry) == 0)
    }

    @Test("an extend shows in the next quote, not in an open file's snapshot")
    func extendThenQuote() throws {
        let entry = try makeEntry("extend")
        let nonce = [UInt8](repeating: 0x5A, count: 64)
        #expect(Sys.writeFile(entry + "/inblob", nonce).value == 64)
        let fd = try #require(Sys.open(entry + "/outblob", O_RDONLY).value)
        defer { close(fd) }
        let first = try #require(Sys.pread(fd, count: 65536).value)
        let data = [UInt8](repeating: 0xC3, count: 48)
        #expect(Sys.writeFile(measurements + "/rtmr2:sha384", data).value == 48)
        let rtmr2 = try #require(Sys.readFile(tsm + "/rtmr2/digest").value)
        #expect(Array(first[472..<520]) != rtmr2)
        // The open file keeps its snapshot.
        #expect(Sys.pread(fd, count: 65536).value == first)
        // The same inblob again is a new generation: the next quote shows the new RTMR2.
        #expect(Sys.writeFile(entry + "/inblob", nonce).value == 64)
        let second = try #require(readAll(entry + "/outblob").value)
        #expect(Array(second[472..<520]) == rtmr2)
        // And so does a new entry.
        let other = try makeEntry("extend2")
        #expect(Sys.writeFile(other + "/inblob", nonce).value == 64)
        #expect(Array((readAll(other + "/outblob").value ?? [])[472..<520]) == rtmr2)
        #expect(rmdir(other) == 0)
        #expect(rmdir(entry) == 0)
    }

    @Test("the errno of ABI.md 4.3-4.5: EINVAL, EFBIG, EACCES, and the zero-length store")
    func errors() throws {
        let entry = try makeEntry("errors")
        #expect(readAll(entry + "/outblob").error == .EINVAL, "no inblob yet")
        #expect(Sys.writeFile(entry + "/inblob", [UInt8](repeating: 1, count: 63)).value == 63)
        #expect(readAll(entry + "/outblob").error == .EINVAL, "tdx_guest wants exactly 64 bytes")
        #expect(Sys.readFile(entry + "/generation").value == Array("1\n".utf8))
        // Over 64 bytes: EFBIG, and the close still stores what is buffered: nothing.
        #expect(Sys.writeFile(entry + "/inblob", [UInt8](repeating: 1, count: 65)).error == .EFBIG)
        #expect(Sys.readFile(entry + "/generation").value == Array("2\n".utf8))
        #expect(readAll(entry + "/outblob").error == .EINVAL)
        // Two writes on one descriptor make one 64-byte store at close.
        let fd = try #require(Sys.open(entry + "/inblob", O_WRONLY).value)
        #expect(Sys.write(fd, [UInt8](repeating: 2, count: 32)).value == 32)
        #expect(Sys.write(fd, [UInt8](repeating: 3, count: 32)).value == 32)
        #expect(Sys.write(fd, [4]).error == .EFBIG)
        close(fd)
        #expect(Sys.readFile(entry + "/generation").value == Array("3\n".utf8))
        let quote = try #require(readAll(entry + "/outblob").value)
        #expect(Array(quote[568..<632]) == [UInt8](repeating: 2, count: 32) + [UInt8](repeating: 3, count: 32))
        // Opened for writing but never written (a flock holder): no store, no new generation.
        let holder = try #require(Sys.open(entry + "/inblob", O_WRONLY).value)
        #expect(flock(holder, LOCK_EX) == 0)
        close(holder)
        #expect(Sys.readFile(entry + "/generation").value == Array("3\n".utf8))
        // Modes: root too.
        #expect(Sys.open(entry + "/inblob", O_RDONLY).error == .EACCES)
        #expect(Sys.open(entry + "/outblob", O_WRONLY).error == .EACCES)
        #expect(Sys.open(entry + "/generation", O_WRONLY).error == .EACCES)
        #expect(rmdir(entry) == 0)
    }

    @Test("structure: entries independent; rmdir of a populated entry; nothing else can be made")
    func structure() throws {
        let a = try makeEntry("a"), b = try makeEntry("b")
        #expect(Sys.writeFile(a + "/inblob", [UInt8](repeating: 0xAA, count: 64)).value == 64)
        #expect(Sys.writeFile(b + "/inblob", [UInt8](repeating: 0xBB, count: 64)).value == 64)
        #expect(Array((readAll(a + "/outblob").value ?? [])[568..<632]) == [UInt8](repeating: 0xAA, count: 64))
        #expect(Array((readAll(b + "/outblob").value ?? [])[568..<632]) == [UInt8](repeating: 0xBB, count: 64))
        #expect(Sys.readFile(b + "/generation").value == Array("1\n".utf8))
        #expect(mkdir(report + "/a", 0o755) == -1 && errno == EEXIST)
        #expect(mkdir(a + "/sub", 0o755) == -1 && errno == EPERM)
        #expect(Sys.open(report + "/file", O_WRONLY | O_CREAT).error == .EACCES)
        #expect(unlink(a + "/inblob") == -1 && errno == EPERM)
        #expect(mkdir(mount.path("sys/kernel/config/tsm/other"), 0o755) == -1 && errno == EPERM)
        #expect(rmdir(a) == 0)
        #expect(rmdir(b) == 0)
        #expect(try FileManager.default.contentsOfDirectory(atPath: report) == [])
    }
}

/// configfs-tsm report entries of a SEV-SNP guest sysroot.
@Suite("configfs-tsm reports: SEV-SNP guest", .serialized, .needsMount)
final class SNPReportTests {
    let mount: MountedTSMFS
    let report: String

    init() throws {
        mount = try MountedTSMFS(["--guest", "sev-snp", "--privlevel-floor", "1"], sysroot: true)
        report = mount.path("sys/kernel/config/tsm/report")
    }

    deinit {
        #expect(mount.stop() == 0, "\(mount.log)")
    }

    @Test("sev_guest attributes, privlevel and its floor, and a report whose VCEK chains to the mock ARK")
    func snpReport() throws {
        let entry = report + "/snp"
        #expect(mkdir(entry, 0o755) == 0)
        defer { rmdir(entry) }
        #expect(
            try FileManager.default.contentsOfDirectory(atPath: entry).sorted() == [
                "auxblob", "generation", "inblob", "outblob", "privlevel", "privlevel_floor", "provider",
            ])
        #expect(Sys.readFile(entry + "/provider").value == Array("sev_guest\n".utf8))
        #expect(Sys.readFile(entry + "/privlevel_floor").value == Array("1\n".utf8))
        #expect(Sys.stat(entry + "/privlevel").value.map { $0.st_mode & 0o7777 } == 0o200)
        #expect(Sys.writeFile(entry + "/privlevel", Array("0\n".utf8)).error == .EINVAL, "below the floor")
        #expect(Sys.writeFile(entry + "/privlevel", Array("4".utf8)).error == .EINVAL, "above 3")
        #expect(Sys.writeFile(entry + "/privlevel", Array("two".utf8)).error == .EINVAL)
        #expect(Sys.readFile(entry + "/generation").value == Array("0\n".utf8))
        #expect(Sys.writeFile(entry + "/privlevel", Array("2\n".utf8)).value == 2)
        let nonce = (0..<64).map { UInt8(255 - $0) }
        #expect(Sys.writeFile(entry + "/inblob", nonce).value == 64)
        #expect(Sys.readFile(entry + "/generation").value == Array("2\n".utf8))
        let outblob = try #require(readAll(entry + "/outblob").value)
        let auxblob = try #require(readAll(entry + "/auxblob").value)
        #expect(outblob.count == 0x4A0)
        #expect(Array(outblob[0x50..<0x90]) == nonce)
        #expect(Array(outblob[0x30..<0x34]) == [2, 0, 0, 0], "VMPL = privlevel")
        let snp = mount.path("sys/kernel/tsm/sev-snp")
        #expect(Array(outblob[0x90..<0xC0]) == Sys.readFile(snp + "/measurement/digest").value)
        #expect(Array(outblob[0xC0..<0xE0]) == Sys.readFile(snp + "/host_data").value)
        let files = mount.directory
        try Data(outblob).write(to: URL(fileURLWithPath: files + "/report"))
        try Data(auxblob).write(to: URL(fileURLWithPath: files + "/auxblob"))
        let r = try shell(snpVerifierScript(files: files, nonce: hex(nonce)))
        #expect(r.status == 0, "\(r.stderr)")
        var corrupted = outblob
        corrupted[0x95] ^= 0x80
        try Data(corrupted).write(to: URL(fileURLWithPath: files + "/report.bad"))
        let bad = try shell(
            """
            '\(tsmfsBinary())' verify '\(files)/report.bad' --guest sev-snp --auxblob '\(files)/auxblob' \
            --trust-anchor '\(files)/ark.pem'
            """
        )
        #expect(bad.status != 0)
    }
}
