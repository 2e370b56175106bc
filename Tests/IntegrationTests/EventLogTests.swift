import Foundation
import Glibc
import Testing
import TestSupport

/// `tsmfs log --replay` of a sysroot: the RTMRs its records give.
func replayedRTMRs(_ sysroot: String) throws -> [String] {
    let r = try shell("'\(tsmfsBinary())' log --sysroot '\(sysroot)' --replay")
    return r.text.split(separator: "\n").filter { $0.hasPrefix("rtmr") }.map {
        String($0.split(separator: " ").last ?? "")
    }
}

/// The sysroot's event logs explain its RTMRs (issue: event logs that explain the registers).
@Suite("TDX event logs", .needsMount)
struct EventLogTests {
    @Test("replay(CCEL) equals the RTMRs at mount; after extends through every face, replay(boot + runtime) still does")
    func replayMatches() throws {
        let mount = try MountedTSMFS(["--guest", "tdx"], sysroot: true)
        let tsm = mount.path("sys/kernel/tsm/tdx")
        func live() -> [String] { (0..<4).map { hex(Sys.readFile("\(tsm)/rtmr\($0)/digest").value ?? []) } }
        let atMount = live()
        #expect(atMount.contains { $0 != String(repeating: "0", count: 96) }, "the boot log gives RTMRs values")
        #expect(try replayedRTMRs(mount.root) == atMount)
        let tableStat = try #require(Sys.stat(mount.path("sys/firmware/acpi/tables/CCEL")).value)
        #expect(tableStat.st_mode & 0o7777 == 0o400 && tableStat.st_size == 56)
        let table = try #require(Sys.readFile(mount.path("sys/firmware/acpi/tables/CCEL")).value)
        #expect(Array(table[0..<4]) == Array("CCEL".utf8))
        #expect(table.reduce(0) { $0 &+ $1 } == 0, "ACPI checksum")

        // Extends through the RFC v2 tree and the 6.16 files, some concurrent; and a failed one.
        let measurements = mount.path("sys/devices/virtual/misc/tdx_guest/measurements")
        let script =
            (0..<3).map { worker in
                """
                ( for i in $(seq 20); do head -c 48 /dev/urandom > '\(tsm)/rtmr\(worker)/digest'; head -c 48 \
                /dev/urandom > '\(measurements)/rtmr3:sha384'; done ) &
                """
            }.joined(separator: "\n") + "\nwait"
        #expect(try shell(script).status == 0)
        let before = try shell("'\(tsmfsBinary())' log --sysroot '\(mount.root)'").text
        #expect(Sys.writeFile(tsm + "/rtmr1/digest", [1, 2, 3]).error == .EINVAL)
        #expect(
            try shell("'\(tsmfsBinary())' log --sysroot '\(mount.root)'").text == before,
            "a failed extend records nothing")
        let now = live()
        #expect(now != atMount)
        #expect(try replayedRTMRs(mount.root) == now)
        #expect(before.split(separator: "\n").filter { $0.hasPrefix("runtime") }.count == 120)
        #expect(mount.stop() == 0)
    }

    @Test("a boot log description replaces the synthetic boot")
    func bootLogOption() throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try #"""
        {"events": [{"rtmr": 0, "type": "EV_EFI_ACTION", "text": "firmware"}, {"rtmr": 2, "type": "EV_IPL", \#
        "text": "kernel"}]}
        """#
        .write(toFile: directory + "/boot.json", atomically: true, encoding: .utf8)
        let mount = try MountedTSMFS(["--guest", "tdx", "--boot-log", directory + "/boot.json"], sysroot: true)
        let rtmr0 = Sys.readFile(mount.path("sys/kernel/tsm/tdx/rtmr0/digest")).value ?? []
        let expected = extendDigest(
            "sha384", [UInt8](repeating: 0, count: 48), extendDigest("sha384", [], Array("firmware".utf8)))
        #expect(rtmr0 == expected)
        #expect(Sys.readFile(mount.path("sys/kernel/tsm/tdx/rtmr1/digest")).value == [UInt8](repeating: 0, count: 48))
        #expect(mount.stop() == 0)
    }
}

/// A real third-party client, unmodified, inside `tsmfs exec`.
@Suite("cctrusted-vm 0.5.0 under tsmfs exec", .needsMount)
struct CCTrustedVMTests {
    struct Output: Decodable {
        var count: Int
        var rtmrs: [String]
        var events: Int
        var replayed: [String: String]
        var report: String
        var expected_reportdata: String
    }

    @Test("the SDK initialises, reads 4 RTMRs equal to tsmfs's, replays its event log to them, and gets a right quote")
    func sdk() throws {
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent(
            "cctrusted_client.py"
        ).path
        let importable = try shell("python3 -c 'import cctrusted_vm'")
        try #require(importable.status == 0, "cctrusted-vm 0.5.0 is not installed (Scripts/test installs it)")
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let r = try shell(
            """
            '\(tsmfsBinary())' exec -- sh -c 'python3 "\(script)" > "\(directory)/sdk.json" || exit $?
            cat "\(directory)/sdk.json"; for i in 0 1 2 3; do xxd -p -c 48 /sys/kernel/tsm/tdx/rtmr$i/digest; done'
            """)
        #expect(r.status == 0, "\(r.stderr)")
        let lines = r.text.split(separator: "\n").map(String.init)
        let json = try #require(lines.first)
        let output = try JSONDecoder().decode(Output.self, from: Data(json.utf8))
        let registers = Array(lines.dropFirst())
        #expect(output.count == 4)
        #expect(output.rtmrs == registers)
        #expect(output.events > 0)
        #expect((0..<4).map { output.replayed[String($0)] ?? String(repeating: "0", count: 96) } == registers)
        let quote = bytes(output.report)
        #expect(quote.count >= 0x3FC)
        #expect(hex(Array(quote[568..<632])) == output.expected_reportdata)
        for (index, register) in registers.enumerated() {
            #expect(hex(Array(quote[(376 + 48 * index)..<(424 + 48 * index)])) == register, "RTMR\(index) in the quote")
        }
    }
}
