import Foundation
import Glibc
import Testing
import TestSupport

/// A `--sysroot` mount: the guest's paths relative to / (issue: the whole guest).
@Suite("Guest sysroot: merged 6.16 layout and shared registers", .serialized, .needsMount)
final class SysrootTests {
    let mount: MountedTSMFS
    let measurements: String
    let sample: String

    init() throws {
        mount = try MountedTSMFS(["--guest", "tdx"], sysroot: true)
        measurements = mount.path("sys/devices/virtual/misc/tdx_guest/measurements")
        sample = mount.path("sys/devices/virtual/misc/tsm_mr_sample/measurements")
    }

    deinit {
        #expect(mount.stop() == 0, "\(mount.log)")
    }

    @Test("the tdx_guest measurements files: 6.16 names, modes and sizes (ABI.md 3.6)")
    func tdxGuestFiles() throws {
        let expected: [(String, UInt32)] = [
            ("mrconfigid", 0o444), ("mrowner", 0o444), ("mrownerconfig", 0o444), ("mrtd:sha384", 0o444),
            ("rtmr0:sha384", 0o644), ("rtmr1:sha384", 0o644), ("rtmr2:sha384", 0o644), ("rtmr3:sha384", 0o644),
        ]
        #expect(try FileManager.default.contentsOfDirectory(atPath: measurements).sorted() == expected.map(\.0))
        for (name, mode) in expected {
            let st = try #require(Sys.stat(measurements + "/" + name).value)
            #expect(st.st_mode & 0o7777 == mode, "\(name)")
            #expect(st.st_size == 48, "\(name)")
            #expect(Sys.readFile(measurements + "/" + name).value?.count == 48)
            if mode == 0o444 {
                #expect(Sys.open(measurements + "/" + name, O_WRONLY).error == .EACCES, "\(name)")
            }
        }
        #expect(
            Sys.stat(mount.path("sys/devices/virtual/misc/tdx_guest/measurements")).value.map { $0.st_mode & 0o7777 }
                == 0o755)
    }

    @Test("the faces share registers: measurements, the RFC v2 tree and report0")
    func sharedRegisters() throws {
        let tsm = mount.path("sys/kernel/tsm/tdx")
        for name in ["mrtd", "mrconfigid", "mrowner", "mrownerconfig", "rtmr0"] {
            let file = name == "mrtd" || name.hasPrefix("rtmr") ? "\(name):sha384" : name
            #expect(
                Sys.readFile(measurements + "/" + file).value == Sys.readFile("\(tsm)/\(name)/digest").value, "\(name)")
        }
        let data = [UInt8](repeating: 0x11, count: 48)
        // RTMRs start where the sysroot's boot log leaves them.
        let old = Sys.readFile(tsm + "/rtmr2/digest").value ?? []
        #expect(Sys.writeFile(measurements + "/rtmr2:sha384", data).value == 48)
        let expected = extendDigest("sha384", old, data)
        #expect(Sys.readFile(tsm + "/rtmr2/digest").value == expected)
        let report = Sys.readFile(tsm + "/report0").value ?? []
        #expect(report.count == 1024 && Array(report[816..<864]) == expected)
        // And the other way round.
        let old3 = Sys.readFile(measurements + "/rtmr3:sha384").value ?? []
        #expect(Sys.writeFile(tsm + "/rtmr3/digest", data).value == 48)
        #expect(Sys.readFile(measurements + "/rtmr3:sha384").value == extendDigest("sha384", old3, data))
    }

    @Test("6.16 write rules: exactly 48 bytes at offset 0; EINVAL, EFBIG; a longer write is cut")
    func writeRules() throws {
        let path = measurements + "/rtmr1:sha384"
        let fd = try #require(Sys.open(path, O_RDWR).value)
        defer { close(fd) }
        let before = Sys.pread(fd, count: 48).value
        #expect(Sys.pwrite(fd, [UInt8](repeating: 1, count: 47)).error == .EINVAL)
        #expect(Sys.pwrite(fd, [UInt8](repeating: 1, count: 48), offset: 1).error == .EINVAL)
        #expect(Sys.pwrite(fd, [UInt8](repeating: 1, count: 48), offset: 48).error == .EFBIG)
        #expect(Sys.pread(fd, count: 48).value == before)
        #expect(Sys.pwrite(fd, [UInt8](repeating: 2, count: 100)).value == 48)
        #expect(
            Sys.pread(fd, count: 48).value == extendDigest("sha384", before ?? [], [UInt8](repeating: 2, count: 48)))
    }

    @Test("the 6.16 sample: files, modes, the report_digest vector and the crypto-agile banks (ABI.md 3.5)")
    func sample616() throws {
        let expected: [(String, UInt32, Int)] = [
            ("config_mr", 0o444, 64), ("report_digest:sha512", 0o444, 64), ("rtmr0:sha256", 0o444, 32),
            ("rtmr1:sha384", 0o644, 48), ("rtmr_crypto_agile:sha256", 0o644, 32),
            ("rtmr_crypto_agile:sha384", 0o644, 48),
            ("static_mr:sha384", 0o444, 48),
        ]
        #expect(try FileManager.default.contentsOfDirectory(atPath: sample).sorted() == expected.map(\.0))
        for (name, mode, size) in expected {
            let st = try #require(Sys.stat(sample + "/" + name).value)
            #expect(st.st_mode & 0o7777 == mode, "\(name)")
            #expect(st.st_size == size, "\(name)")
        }
        #expect(
            hex(Sys.readFile(sample + "/report_digest:sha512").value ?? [])
                == """
                106d079f9954b62443dc0595906460dba92ce1398aeeb6430e27ac5704322307cdd16d1512d7cbae214c99ff484f7bb5d8bb26\
                7d1f4f4d5cd75f4f77fe3d63cf
                """
        )
        #expect(Sys.writeFile(sample + "/rtmr_crypto_agile:sha256", [UInt8](repeating: 0, count: 32)).value == 32)
        let bank = Sys.readFile(sample + "/rtmr0:sha256").value ?? []
        #expect(hex(bank) == "c42739bcf42811b0926bf01d4e85059841249144d1fde8c0c5ca27c8c452f2a6")
        #expect(Sys.readFile(sample + "/rtmr_crypto_agile:sha256").value == bank)
        #expect(Sys.writeFile(sample + "/rtmr_crypto_agile:sha384", [UInt8](repeating: 0, count: 48)).value == 48)
        #expect(
            Sys.readFile(sample + "/rtmr1:sha384").value == Sys.readFile(sample + "/rtmr_crypto_agile:sha384").value)
        // report_digest follows: SHA-512 of static_mr ‖ config_mr ‖ rtmr0 ‖ rtmr1.
        let head = ["static_mr:sha384", "config_mr", "rtmr0:sha256", "rtmr1:sha384"].flatMap {
            Sys.readFile(sample + "/" + $0).value ?? []
        }
        #expect(Sys.readFile(sample + "/report_digest:sha512").value == extendDigest("sha512", [], head))
        #expect(Sys.open(sample + "/rtmr0:sha256", O_WRONLY).error == .EACCES)
    }

    @Test("sys/class/misc links to the devices")
    func classLinks() throws {
        let link = mount.path("sys/class/misc/tdx_guest")
        #expect(
            try FileManager.default.destinationOfSymbolicLink(atPath: link) == "../../devices/virtual/misc/tdx_guest")
        #expect(
            Sys.readFile(link + "/measurements/mrtd:sha384").value == Sys.readFile(measurements + "/mrtd:sha384").value)
        #expect(
            try FileManager.default.destinationOfSymbolicLink(atPath: mount.path("sys/class/misc/tsm_mr_sample"))
                == "../../devices/virtual/misc/tsm_mr_sample")
    }

    @Test("the RFC v2 tree inside the sysroot passes the same conformance table")
    func conformance() {
        RFCv2Conformance(root: mount.path("sys/kernel/tsm"), files: RFCv2Conformance.builtinFiles).run()
    }
}

/// `dev/tdx_guest` in a TDX sysroot: the TDX_CMD_GET_REPORT0 ioctl (ABI.md 3.6).
@Suite("Sysroot /dev/tdx_guest", .needsMount)
struct TDXGuestDeviceTests {
    @Test("the kernel selftest's check: report data 0..63 comes back at TDREPORT offset 128, with the registers")
    func getReport0() throws {
        let mount = try MountedTSMFS(["--guest", "tdx"], sysroot: true)
        let device = mount.path("dev/tdx_guest")
        let st = try #require(Sys.stat(device).value)
        #expect(st.st_mode & 0o7777 == 0o600)
        #expect(
            Sys.writeFile(mount.path("sys/kernel/tsm/tdx/rtmr1/digest"), [UInt8](repeating: 0, count: 48)).value == 48)
        let r = try shell(
            """
            python3 - '\(device)' <<'PY'
            import fcntl, sys, errno
            TDX_CMD_GET_REPORT0 = 0xC4405401
            req = bytearray(range(64)) + bytearray(1024)
            with open(sys.argv[1], "rb+", buffering=0) as f:
                fcntl.ioctl(f, TDX_CMD_GET_REPORT0, req, True)
                try:
                    fcntl.ioctl(f, 0xC4405402, bytearray(1088), True)
                    print("unknown-ioctl-accepted")
                except OSError as e:
                    print("unknown", errno.errorcode[e.errno])
                try:
                    f.read(10)
                except OSError as e:
                    print("read", errno.errorcode[e.errno])
            sys.stdout.write(req.hex() + "\\n")
            PY
            """)
        #expect(r.status == 0, "\(r.stderr)")
        let lines = r.text.split(separator: "\n").map(String.init)
        #expect(lines.contains("unknown ENOTTY"))
        #expect(lines.contains("read EINVAL"))
        let request = bytes(lines.last ?? "")
        #expect(request.count == 1088)
        let report = Array(request.dropFirst(64))
        #expect(Array(request.prefix(64)) == (0..<64).map { UInt8($0) })
        #expect(Array(report[128..<192]) == (0..<64).map { UInt8($0) })
        #expect(Array(report[0..<4]) == [0x81, 0, 0, 0])
        let tsm = mount.path("sys/kernel/tsm/tdx")
        #expect(Array(report[528..<576]) == Sys.readFile(tsm + "/mrtd/digest").value)
        #expect(Array(report[768..<816]) == Sys.readFile(tsm + "/rtmr1/digest").value)
        #expect(mount.stop() == 0)
    }
}
