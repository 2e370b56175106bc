import Foundation
import Glibc
import Testing
import TestSupport

/// The Python CCA token checker written from the specifications (check_cca_token.py).
func ccaChecker() -> String {
    URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("check_cca_token.py").path
}

/// configfs-tsm report entries of an Arm CCA realm sysroot: `arm_cca_guest` and its token.
@Suite("configfs-tsm reports: Arm CCA realm", .serialized, .needsMount)
final class CCAReportTests {
    static let seed = "cca-test"
    let mount: MountedTSMFS
    let report: String
    let tsm: String

    init() throws {
        mount = try MountedTSMFS(["--guest", "cca", "--seed", Self.seed], sysroot: true)
        report = mount.path("sys/kernel/config/tsm/report")
        tsm = mount.path("sys/kernel/tsm/cca")
    }

    deinit {
        #expect(mount.stop() == 0, "\(mount.log)")
    }

    func makeEntry(_ name: String) throws -> String {
        #expect(mkdir(report + "/" + name, 0o755) == 0, "mkdir \(name): \(errno)")
        return report + "/" + name
    }

    /// The checker's JSON for `token`, or nil with the reason recorded.
    func check(_ token: [UInt8], name: String) throws -> [String: Any]? {
        let tokenFile = mount.directory + "/" + name
        try Data(token).write(to: URL(fileURLWithPath: tokenFile))
        let r = try shell(
            """
            set -e
            '\(tsmfsBinary())' trust-anchor --guest cca --seed '\(Self.seed)' > '\(mount.directory)/cpak.pem'
            '\(tsmfsBinary())' verify '\(tokenFile)' --guest cca --trust-anchor '\(mount.directory)/cpak.pem' > \
            /dev/null
            python3 '\(ccaChecker())' '\(tokenFile)' '\(mount.directory)/cpak.pem'
            """)
        guard r.status == 0 else {
            Issue.record("\(r.stderr)")
            return nil
        }
        return try JSONSerialization.jsonObject(with: Data(r.text.utf8)) as? [String: Any]
    }

    @Test("every attribute exists (the driver sets no visibility callback); provider is arm_cca_guest")
    func entryAttributes() throws {
        let entry = try makeEntry("attrs")
        let names = try FileManager.default.contentsOfDirectory(atPath: entry).sorted()
        #expect(
            names == [
                "auxblob", "generation", "inblob", "manifestblob", "outblob", "privlevel", "privlevel_floor",
                "provider", "service_guid", "service_manifest_version", "service_provider",
            ])
        #expect(Sys.readFile(entry + "/provider").value == Array("arm_cca_guest\n".utf8))
        #expect(Sys.readFile(entry + "/privlevel_floor").value == Array("0\n".utf8))
        #expect(rmdir(entry) == 0)
    }

    @Test("a 48-byte challenge: realm challenge padded, RIM/REMs live, both signatures and the RAK binding verify")
    func tokenThroughConfigfs() throws {
        let entry = try makeEntry("token")
        let challenge = (0..<48).map { UInt8(($0 * 29 + 3) & 0xFF) }
        #expect(Sys.writeFile(entry + "/inblob", challenge).value == 48)
        let first = try #require(readAll(entry + "/outblob").value)
        #expect(Sys.readFile(entry + "/auxblob").value == [])
        #expect(Sys.readFile(entry + "/manifestblob").value == [])
        let claims = try #require(try check(first, name: "first.cbor"))
        #expect(claims["realm_challenge"] as? String == hex(challenge + [UInt8](repeating: 0, count: 16)))
        func registers() -> [String] {
            ["rim", "rem0", "rem1", "rem2", "rem3"].map { hex(Sys.readFile("\(tsm)/\($0)/digest").value ?? []) }
        }
        #expect([claims["rim"] as? String ?? ""] + (claims["rems"] as? [String] ?? []) == registers())
        // An extend of rem0 through the RFC v2 tree shows in the next token.
        let old = Sys.readFile(tsm + "/rem0/digest").value ?? []
        let data = [UInt8](repeating: 0xA5, count: 32)
        #expect(Sys.writeFile(tsm + "/rem0/digest", data).value == 32)
        #expect(Sys.readFile(tsm + "/rem0/digest").value == extendDigest("sha256", old, data))
        #expect(Sys.writeFile(entry + "/inblob", challenge).value == 48)
        let second = try #require(readAll(entry + "/outblob").value)
        let after = try #require(try check(second, name: "second.cbor"))
        #expect([after["rim"] as? String ?? ""] + (after["rems"] as? [String] ?? []) == registers())
        #expect((after["rems"] as? [String])?.first == hex(extendDigest("sha256", old, data)))
        // The platform challenge is the hash of the RAK the realm token carries.
        let rak = try #require((after["rak"] as? String).map(bytes))
        #expect(after["platform_challenge"] as? String == hex(extendDigest("sha256", [], rak)))
        #expect(rmdir(entry) == 0)
    }

    @Test("31 bytes -> EINVAL at the outblob read; 65 -> EFBIG at the store; 32 and 64 work")
    func challengeSizes() throws {
        let entry = try makeEntry("sizes")
        #expect(Sys.writeFile(entry + "/inblob", [UInt8](repeating: 1, count: 31)).value == 31)
        #expect(readAll(entry + "/outblob").error == .EINVAL)
        #expect(Sys.writeFile(entry + "/inblob", [UInt8](repeating: 1, count: 65)).error == .EFBIG)
        // privlevel and the service attributes are stored (bumping generation) and ignored.
        #expect(Sys.writeFile(entry + "/privlevel", Array("2\n".utf8)).value == 2)
        #expect(Sys.writeFile(entry + "/service_provider", Array("svsm\n".utf8)).value == 5)
        #expect(Sys.writeFile(entry + "/privlevel", Array("4\n".utf8)).error == .EINVAL)
        for size in [32, 64] {
            #expect(Sys.writeFile(entry + "/inblob", [UInt8](repeating: 2, count: size)).value == size)
            #expect((readAll(entry + "/outblob").value?.count ?? 0) > 900, "\(size)")
        }
        #expect(rmdir(entry) == 0)
    }

    @Test("tsmfs verify accepts the token and refuses it with a byte of either payload flipped")
    func flippedPayloadBytes() throws {
        let entry = try makeEntry("flip")
        #expect(Sys.writeFile(entry + "/inblob", [UInt8](repeating: 7, count: 64)).value == 64)
        let token = try #require(readAll(entry + "/outblob").value)
        let directory = mount.directory + "/flips"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        // Each payload is a bstr whose head is 59 LL LL, found after the protected header and `a0`.
        var offsets: [Int] = []
        var search = 0
        while let range = token[search...].firstRange(of: [0x44, 0xA1, 0x01, 0x38, 0x22, 0xA0, 0x59]) {
            let start = range.upperBound + 2
            let length = Int(token[range.upperBound]) << 8 | Int(token[range.upperBound + 1])
            offsets += Array(start..<start + length)
            search = start + length
        }
        #expect(offsets.count > 600)
        // Every 7th byte and the last of each run through the CLI (the unit tests flip every byte).
        let sample = offsets.enumerated().compactMap { $0.offset % 7 == 0 ? $0.element : nil } + offsets.suffix(1)
        for offset in sample {
            var flipped = token
            flipped[offset] ^= 0x01
            try Data(flipped).write(to: URL(fileURLWithPath: "\(directory)/\(offset)"))
        }
        try Data(token).write(to: URL(fileURLWithPath: "\(directory)/good"))
        let r = try shell(
            """
            cd '\(directory)'
            '\(tsmfsBinary())' verify good --guest cca --seed '\(Self.seed)' > good.json || exit 3
            '\(tsmfsBinary())' verify good --guest cca --seed '\(Self.seed)' --report-data \
            \(hex([UInt8](repeating: 7, count: 64))) > /dev/null || exit 4
            '\(tsmfsBinary())' verify good --guest cca --seed '\(Self.seed)' --report-data 08 > /dev/null 2>&1 && exit 5
            for f in [0-9]*; do
                if '\(tsmfsBinary())' verify "$f" --guest cca --seed '\(Self.seed)' > /dev/null 2>&1; then echo \
            "accepted $f"; fi
            done
            """)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.text == "", "\(r.text)")
        // The independent checker refuses them too (a sample), and a cut token is refused by name.
        try shell("'\(tsmfsBinary())' trust-anchor --guest cca --seed '\(Self.seed)' > '\(directory)/cpak.pem'")
        for offset in [sample[0], sample[sample.count / 2], sample[sample.count - 1]] {
            let python = try shell("python3 '\(ccaChecker())' '\(directory)/\(offset)' '\(directory)/cpak.pem'")
            #expect(
                python.status == 1 && python.stderr.contains("check_cca_token: "), "offset \(offset): \(python.stderr)")
        }
        try Data(token.prefix(token.count - 1)).write(to: URL(fileURLWithPath: "\(directory)/cut"))
        let cut = try shell("'\(tsmfsBinary())' verify '\(directory)/cut' --guest cca --seed '\(Self.seed)'")
        #expect(cut.status != 0 && cut.stderr.contains("CCA token"), "\(cut.stderr)")
        let json = try String(contentsOfFile: directory + "/good.json", encoding: .utf8)
        #expect(json.contains("\"guest\": \"cca\"") && json.contains("\"rem3\": "))
        #expect(rmdir(entry) == 0)
    }
}

/// `tsmfs exec --guest cca`: the command sees the realm's paths at their real places.
@Suite("tsmfs exec --guest cca", .serialized, .needsMount)
struct CCAExecTests {
    @Test("a token through the real configfs path; the cca registers under /sys/kernel/tsm")
    func realPaths() throws {
        let r = try shell(
            """
            '\(tsmfsBinary())' exec --guest cca --seed exec-cca -- sh -c 'set -e
            mkdir /sys/kernel/config/tsm/report/e
            cat /sys/kernel/config/tsm/report/e/provider
            head -c 48 /dev/urandom > /sys/kernel/config/tsm/report/e/inblob
            head -c 3 /sys/kernel/config/tsm/report/e/outblob | xxd -p
            xxd -p -c 32 /sys/kernel/tsm/cca/rem3/digest
            rmdir /sys/kernel/config/tsm/report/e'
            """)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.text.hasPrefix("arm_cca_guest\nd9018f\n"), "\(r.text)")
        #expect(r.text.split(separator: "\n").last?.count == 64)
        #expect(!daemonsRunning(seed: "exec-cca"))
    }
}

extension CCAExecTests {
    @Test("--realm-personalization sets the personalization value (44235); --cca-token-format cmw the CMW collection")
    func personalization() throws {
        let value = (0..<64).map { UInt8($0) }
        let directory = try makeTemporaryDirectory("tsmfs-cca-rpv")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let r = try shell(
            """
            set -e
            '\(tsmfsBinary())' exec --guest cca --seed exec-rpv --realm-personalization \(hex(value)) -- sh -c 'set -e
            mkdir /sys/kernel/config/tsm/report/e
            head -c 32 /dev/zero > /sys/kernel/config/tsm/report/e/inblob
            cat /sys/kernel/config/tsm/report/e/outblob > \(directory)/token
            rmdir /sys/kernel/config/tsm/report/e'
            '\(tsmfsBinary())' verify '\(directory)/token' --guest cca --seed exec-rpv
            """)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.text.contains("\"realm_personalization_value\": \"\(hex(value))\""), "\(r.text)")
        // The CMW collection behind --cca-token-format cmw, accepted by both verifiers.
        let cmw = try shell(
            """
            set -e
            '\(tsmfsBinary())' exec --guest cca --seed exec-rpv --cca-token-format cmw -- sh -c 'set -e
            mkdir /sys/kernel/config/tsm/report/e
            head -c 64 /dev/zero > /sys/kernel/config/tsm/report/e/inblob
            cat /sys/kernel/config/tsm/report/e/outblob > \(directory)/cmw
            rmdir /sys/kernel/config/tsm/report/e'
            head -c 3 '\(directory)/cmw' | xxd -p
            '\(tsmfsBinary())' verify '\(directory)/cmw' --guest cca --seed exec-rpv | grep token_format
            '\(tsmfsBinary())' trust-anchor --guest cca --seed exec-rpv > '\(directory)/cpak.pem'
            python3 '\(ccaChecker())' '\(directory)/cmw' '\(directory)/cpak.pem' | grep collection_tag
            """)
        #expect(cmw.status == 0, "\(cmw.stderr)")
        #expect(cmw.text == "d9038b\n  \"token_format\": \"cmw\",\n \"collection_tag\": 907,\n", "\(cmw.text)")
        let refused = try shell("'\(tsmfsBinary())' exec --guest tdx --realm-personalization \(hex(value)) -- true")
        #expect(
            refused.status != 0 && refused.stderr.contains("--realm-personalization needs --guest cca"),
            "\(refused.stderr)")
    }
}
