import Crypto
import Foundation
import Testing
import TestSupport

/// `--vtpm plain` under `tsmfs exec`: swtpm behind `/dev/tpm0` and `/dev/tpmrm0`, asked by
/// tpm2-tools (Debian 5.4, its default TCTI: the device TCTI on /dev/tpmrm0) and by a raw client.
@Suite("vTPM: /dev/tpm0, /dev/tpmrm0, the boot log and the tpm provider", .serialized, .needsMount)
struct VTPMTests {
    static let rawClient = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("tpm_raw_client.py").path

    static func requireTools() throws {
        let found = try shell("command -v swtpm && command -v swtpm_setup && command -v tpm2_pcrread")
        try #require(found.status == 0, "swtpm, swtpm-tools and tpm2-tools are needed (Scripts/test installs them)")
    }

    /// `index: value` pairs of `bank` in tpm2_pcrread's or tpm2_eventlog's output.
    static func pcrs(_ text: String, bank: String = "sha256") -> [Int: String] {
        var result: [Int: String] = [:]
        var inBank = false
        for line in text.split(separator: "\n") {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.hasSuffix(":") && !trimmed.contains("0x") {
                inBank = trimmed == bank + ":"
                continue
            }
            let parts = trimmed.split(separator: ":", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard inBank, parts.count == 2, let index = Int(parts[0]), parts[1].hasPrefix("0x") else { continue }
            result[index] = parts[1].dropFirst(2).lowercased()
        }
        return result
    }

    @Test(
        "tpm2-tools: PCRs, a primary and an AK, a quote tpm2_checkquote accepts; the boot log replays to the PCRs",
        arguments: ["sev-snp", "tdx"])
    func tools(guest: String) throws {
        try Self.requireTools()
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let r = try shell(
            """
            '\(tsmfsBinary())' exec --guest \(guest) --vtpm plain -- bash -euo pipefail -c '
            cd "\(directory)"
            cat /sys/class/tpm/tpm0/tpm_version_major > version
            tpm2_pcrread sha256 > pcrs.start
            tpm2_pcrread sha384 > pcrs384.start
            tpm2_eventlog /sys/kernel/security/tpm0/binary_bios_measurements > eventlog.yaml 2> eventlog.err
            tpm2_createprimary -C o -g sha256 -G ecc -c primary.ctx -Q
            tpm2_createek -c ek.ctx -G rsa -u ek.pub -Q
            tpm2_createak -C ek.ctx -c ak.ctx -G rsa -g sha256 -s rsassa -u ak.pub -n ak.name -f pem -Q
            tpm2_readpublic -c ak.ctx -f pem -o ak.pem -Q
            tpm2_quote -c ak.ctx -l sha256:0,1,4,5,7,8,9,10 -q c0ffee00 -m quote.msg -s quote.sig -o quote.pcrs \\
                -g sha256 > /dev/null
            tpm2_checkquote -u ak.pem -m quote.msg -s quote.sig -f quote.pcrs -g sha256 -q c0ffee00 > /dev/null
            echo checked'
            """)
        #expect(r.status == 0, "\(r.text) \(r.stderr)")
        #expect(r.text.contains("checked"), "\(r.text) \(r.stderr)")
        let version = try String(contentsOfFile: directory + "/version", encoding: .utf8)
        #expect(version == "2\n")
        let start = Self.pcrs(try String(contentsOfFile: directory + "/pcrs.start", encoding: .utf8))
        let replay = Self.pcrs(try String(contentsOfFile: directory + "/eventlog.yaml", encoding: .utf8))
        #expect(start.count == 24, "\(start)")
        #expect(replay.keys.sorted() == [0, 1, 4, 5, 7, 8, 9], "\(replay)")
        for (index, value) in replay { #expect(start[index] == value, "PCR \(index)") }
        // The SHA-384 bank swtpm_setup allocates is measured too, and replays as well.
        let log = try String(contentsOfFile: directory + "/eventlog.yaml", encoding: .utf8)
        let start384 = Self.pcrs(
            try String(contentsOfFile: directory + "/pcrs384.start", encoding: .utf8), bank: "sha384")
        let replay384 = Self.pcrs(log, bank: "sha384")
        #expect(replay384.keys.sorted() == [0, 1, 4, 5, 7, 8, 9], "\(replay384)")
        for (index, value) in replay384 { #expect(start384[index] == value, "PCR \(index) sha384") }
        let warnings = try String(contentsOfFile: directory + "/eventlog.err", encoding: .utf8)
        #expect(!warnings.contains("WARN"), "\(warnings)")
    }

    @Test("pcr10/digest: a 32-byte write is TPM2_PCR_Extend; tpm2_pcrextend shows in the file; pcr17 is EACCES")
    func pcrRegisters() throws {
        try Self.requireTools()
        let data = (0..<32).map { UInt8($0 * 7 & 0xFF) }
        let hex = data.map { String(format: "%02x", $0) }.joined()
        let extendHex = String(repeating: "ab", count: 32)
        let r = try shell(
            """
            '\(tsmfsBinary())' exec --guest sev-snp --vtpm plain -- bash -euo pipefail -c '
            pcr() { tpm2_pcrread sha256:10 | grep -o "0x[0-9A-F]*" | cut -c3- | tr A-F a-f; }
            echo "old=$(pcr)"
            put() { python3 -c "import os, sys; os.write(os.open(sys.argv[1], 1), bytes.fromhex(sys.argv[2]))" "$@"; }
            put /sys/kernel/tsm/tpm/pcr10/digest \(hex)
            echo "new=$(pcr)"
            tpm2_pcrextend 10:sha256=\(extendHex)
            echo "tools=$(pcr)"
            echo "file=$(xxd -p -c 64 /sys/kernel/tsm/tpm/pcr10/digest)"
            echo "algo=$(cat /sys/kernel/tsm/tpm/pcr10/hash_algo)"
            put /sys/kernel/tsm/tpm/pcr11_sha384/digest $(printf "%096d" 0)
            echo "tools384=$(tpm2_pcrread sha384:11 | grep -o "0x[0-9A-F]*" | cut -c3- | tr A-F a-f)"
            echo "file384=$(xxd -p -c 64 /sys/kernel/tsm/tpm/pcr11_sha384/digest)"
            { printf "%032d" 0 > /sys/kernel/tsm/tpm/pcr17/digest; } 2>&1 | grep -o "Permission denied" || true'
            """)
        #expect(r.status == 0, "\(r.text) \(r.stderr)")
        let fields = Dictionary(
            r.text.split(separator: "\n").compactMap { line -> (String, String)? in
                let parts = line.split(separator: "=", maxSplits: 1).map(String.init)
                return parts.count == 2 ? (parts[0], parts[1]) : nil
            }, uniquingKeysWith: { $1 })
        let old = try #require(fields["old"].flatMap(hexBytes), "\(r.text) \(r.stderr)")
        let expected = Array(SHA256.hash(data: old + data))
        #expect(fields["new"].flatMap(hexBytes) == expected, "\(r.text)")
        let afterTools = Array(SHA256.hash(data: expected + [UInt8](repeating: 0xAB, count: 32)))
        #expect(fields["tools"].flatMap(hexBytes) == afterTools, "\(r.text)")
        #expect(fields["file"].flatMap(hexBytes) == afterTools, "\(r.text)")
        #expect(fields["algo"] == "sha256")
        let zero384 = [UInt8](repeating: 0, count: 48)
        #expect(fields["tools384"].flatMap(hexBytes) == Array(SHA384.hash(data: zero384 + zero384)), "\(r.text)")
        #expect(fields["file384"] == fields["tools384"], "\(r.text)")
        #expect(r.text.contains("Permission denied"), "\(r.text)")
    }

    @Test("the driver's answers through the files: E2BIG, EINVAL, EBUSY, partial reads, 0 when idle, ESPIPE, POLLIN")
    func driverRules() throws {
        try Self.requireTools()
        let r = try shell(
            "'\(tsmfsBinary())' exec --guest sev-snp --vtpm plain -- python3 '\(Self.rawClient)' rules")
        let line = try #require(r.text.split(separator: "\n").last { $0.hasPrefix("{") }, "\(r.text) \(r.stderr)")
        let result = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        #expect(result["read_nothing"] as? Int == 0, "\(line)")
        #expect(result["write_4097"] as? String == "E2BIG", "\(line)")
        #expect(result["write_5"] as? String == "EINVAL" && result["write_short_of_size"] as? String == "EINVAL")
        #expect(result["write"] as? Int == 12 && result["second_write"] as? String == "EBUSY", "\(line)")
        #expect(result["parts"] as? [Int] == [10, 10] && result["size_in_header"] as? Int == 20, "\(line)")
        #expect(result["read_after"] as? Int == 0 && result["pread"] as? String == "ESPIPE", "\(line)")
        #expect(result["tpm0_pread_1000"] as? Int == 20, "\(line)")
        #expect(result["poll"] as? [Int] == [1] && result["nonblocking_read"] as? Int == 20, "\(line)")
    }

    @Test("/dev/tpmrm0: two open files do not see each other's objects, a closed file's session is flushed")
    func spaces() throws {
        try Self.requireTools()
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        // Beside the raw client, two tpm2-tools clients at once, each loading objects three times:
        // every tool's objects go with its file, so the TPM's 3 object slots never run out.
        let r = try shell(
            """
            '\(tsmfsBinary())' exec --guest tdx --vtpm plain -- bash -c '
            python3 "\(Self.rawClient)" isolation && python3 "\(Self.rawClient)" busy || exit 1
            for c in 1 2; do (
                mkdir "\(directory)/c$c" && cd "\(directory)/c$c" || exit 1
                for n in 1 2 3; do
                    tpm2_createprimary -C o -G ecc -c p.ctx -Q && tpm2_create -C p.ctx -G ecc -u k.pub -r k.priv -Q \
                        && tpm2_load -C p.ctx -u k.pub -r k.priv -c k.ctx -Q || exit 1
                    test -z "$(tpm2_getcap handles-transient)" || exit 1
                done; echo "client$c=ok" ) & done; wait'
            """)
        #expect(r.status == 0, "\(r.text) \(r.stderr)")
        #expect(r.text.contains("client1=ok") && r.text.contains("client2=ok"), "\(r.text) \(r.stderr)")
        let lines = r.text.split(separator: "\n").filter { $0.hasPrefix("{") }
        try #require(lines.count == 2, "\(r.text) \(r.stderr)")
        let isolation = try #require(try JSONSerialization.jsonObject(with: Data(lines[0].utf8)) as? [String: Any])
        #expect(isolation["a_create"] as? Int == 0 && isolation["b_create"] as? Int == 0, "\(lines[0])")
        #expect((isolation["b_sees_before"] as? [Int])?.isEmpty == true, "\(lines[0])")
        let a = isolation["a_handle"] as? Int, b = isolation["b_handle"] as? Int
        #expect(isolation["a_sees"] as? [Int] == a.map { [$0] }, "\(lines[0])")
        #expect(isolation["b_sees"] as? [Int] == b.map { [$0] }, "\(lines[0])")
        #expect(isolation["b_sees_after"] as? [Int] == b.map { [$0] }, "\(lines[0])")
        let before = isolation["sessions_before"] as? Int
        #expect(isolation["sessions_open"] as? Int == before.map { $0 + 1 }, "\(lines[0])")
        #expect(isolation["sessions_after_close"] as? Int == before, "\(lines[0])")
        #expect(lines[1].contains("\"second_open\": \"EBUSY\""), "\(lines[1])")
    }

}

private func hexBytes(_ text: String) -> [UInt8]? {
    let characters = Array(text.trimmingCharacters(in: .whitespaces))
    guard characters.count % 2 == 0 else { return nil }
    return stride(from: 0, to: characters.count, by: 2).map { index -> UInt8? in
        UInt8(String(characters[index...index + 1]), radix: 16)
    }.reduce([UInt8]?([])) { partial, byte in
        guard let partial, let byte else { return nil }
        return partial + [byte]
    }
}
