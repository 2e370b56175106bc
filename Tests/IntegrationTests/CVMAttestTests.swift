import Foundation
import Testing
import TestSupport

/// cvm-attest 1.0.0 (PyPI), unmodified, on a Linux 6.6 SEV-SNP guest: no configfs-tsm, so it
/// falls back to `/dev/sev-guest` (after its two pre-5.19-numbered attempts get ENOTTY), and
/// fetches the VCEK and chain from `tsmfs kds` through its module constant `AMD_KDS_BASE`.
@Suite("cvm-attest through /dev/sev-guest", .needsMount)
struct CVMAttestTests {
    static let client = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("cvm_attest_client.py").path

    @Test("--kernel 6.6: evidence through the device, the signature and the chain valid; a flipped byte fails")
    func deviceFallback() throws {
        let importable = try shell("python3 -c 'import cvm_attest, cryptography'")
        try #require(importable.status == 0, "cvm-attest 1.0.0 is not installed (Scripts/test installs it)")
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        // The KDS's ready line is read through a FIFO: the test waits for the line, not for time.
        let r = try shell(
            """
            mkfifo '\(directory)/ready'
            '\(tsmfsBinary())' kds --seed cvm-attest --listen 127.0.0.1:0 \
                > '\(directory)/ready' 2> '\(directory)/kds.log' &
            pid=$!; trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null' EXIT
            read -r line < '\(directory)/ready' || { echo "no ready line: $(cat '\(directory)/kds.log')"; exit 2; }
            url=${line##*ready on }
            '\(tsmfsBinary())' exec --guest sev-snp --kernel 6.6 --seed cvm-attest -- \
                python3 '\(Self.client)' "$url"
            """)
        #expect(r.status == 0, "\(r.text) \(r.stderr)")
        let line = try #require(r.text.split(separator: "\n").last { $0.hasPrefix("{") }, "\(r.text) \(r.stderr)")
        let result = try #require(
            try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], "\(line)")
        #expect(result["configfs"] as? Bool == false, "Linux 6.6 has no configfs-tsm: \(line)")
        #expect(result["device"] as? String == "/dev/sev-guest", "\(line)")
        #expect(result["report_data_matches"] as? Bool == true, "\(line)")
        #expect(result["signature"] as? Bool == true && result["chain"] as? Bool == true, "\(line) \(r.stderr)")
        #expect(result["status"] as? String == "PASS" && (result["errors"] as? [Any])?.isEmpty == true, "\(line)")
        #expect(result["tampered_signature"] as? Bool == false && result["tampered_status"] as? String == "FAIL")
    }
}
