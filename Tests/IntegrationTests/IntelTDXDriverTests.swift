import Crypto
import Foundation
import Testing
import TestSupport

/// `--tdx-driver intel`: Intel's out-of-tree `/dev/tdx_guest` ioctls on a Linux 6.6 TDX guest (no
/// configfs-tsm), asked by pytdxmeasure 0.0.9 and cctrusted-vm 0.5.0 unmodified (PyPI, pinned by
/// Scripts/test), and by a probe that frames requests well and badly.
@Suite("Intel's TDX driver ioctls: GET_QUOTE and EXTEND_RTMR", .serialized, .needsMount)
struct IntelTDXDriverTests {
    static let client = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("intel_tdx_client.py").path
    static let seed = "intel-tdx-driver"

    /// dcap-qvl on `quote`, with the collateral and root of the seed's mock authority written into
    /// `directory`: its verdict as dcap_qvl_check.py prints it.
    static func dcapQVL(_ quote: String, in directory: String) throws -> ShellResult {
        try shell(
            """
            set -e
            '\(tsmfsBinary())' collateral --guest tdx --seed \(seed) > '\(directory)/collateral.json'
            '\(tsmfsBinary())' trust-anchor --guest tdx --seed \(seed) > '\(directory)/root.pem'
            python3 '\(dcapQVLCheck())' '\(quote)' '\(directory)/root.pem' --collateral '\(directory)/collateral.json'
            """)
    }

    static func json(_ r: ShellResult) throws -> [String: Any] {
        let line = try #require(r.text.split(separator: "\n").last { $0.hasPrefix("{") }, "\(r.text) \(r.stderr)")
        return try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], "\(line)")
    }

    @Test("pytdxmeasure reads a TD report and extends RTMR2 through 0x80315403; the RFC v2 file shows it")
    func pytdxmeasure() throws {
        let importable = try shell("python3 -c 'import pytdxmeasure'")
        try #require(importable.status == 0, "pytdxmeasure 0.0.9 is not installed (Scripts/test installs it)")
        let r = try shell(
            """
            '\(tsmfsBinary())' exec --guest tdx --kernel 6.6 --tdx-driver intel -- \
                python3 '\(Self.client)' pytdxmeasure /sys/kernel/tsm/tdx/rtmr2/digest
            """)
        #expect(r.status == 0, "\(r.text) \(r.stderr)")
        let result = try Self.json(r)
        #expect(result["result"] as? String == "RTMR_EXTEND_SUCCESS", "\(result)")
        let expected = try #require(result["expected"] as? String)
        #expect(result["before"] as? String != expected)
        #expect(result["after"] as? String == expected, "the next TDREPORT shows the extend: \(result)")
        #expect(result["digest"] as? String == expected, "the RFC v2 digest shows the extend: \(result)")
        // Linux's own driver has neither ioctl.
        let upstream = try shell(
            """
            '\(tsmfsBinary())' exec --guest tdx --kernel 6.6 -- python3 -c '
            import fcntl, os, struct
            fd = os.open("/dev/tdx_guest", os.O_RDWR)
            for command, argument in ((0x80315403, bytes(49)), (0x80105404, bytes(16))):
                try:
                    fcntl.ioctl(fd, command, argument)
                    print("0")
                except OSError as error:
                    print(error.errno)'
            """)
        #expect(
            upstream.status == 0 && upstream.text == "25\n25\n", "ENOTTY twice: \(upstream.text) \(upstream.stderr)")
    }

    @Test(
        "cctrusted-vm gets through GET_QUOTE on 6.6 the quote configfs-tsm gives for its data; dcap-qvl accepts it"
    )
    func cctrustedQuote() throws {
        let importable = try shell("python3 -c 'import cctrusted_vm, dcap_qvl'")
        try #require(importable.status == 0, "cctrusted-vm 0.5.0 and dcap-qvl 0.7.0 (Scripts/test installs them)")
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let r = try shell(
            """
            '\(tsmfsBinary())' exec --guest tdx --kernel 6.6 --tdx-driver intel --seed \(Self.seed) -- \
                python3 '\(Self.client)' cctrusted '\(directory)/ioctl.quote'
            """)
        #expect(r.status == 0, "\(r.text) \(r.stderr)")
        let result = try Self.json(r)
        #expect(result["configfs"] as? Bool == false, "Linux 6.6 has no configfs-tsm: \(result)")
        let reportData = try #require(result["expected_reportdata"] as? String)
        // The same report data through configfs-tsm, on 6.7 with the same seed and boot.
        let configfs = try shell(
            """
            '\(tsmfsBinary())' exec --guest tdx --kernel 6.7 --seed \(Self.seed) -- \
                python3 '\(Self.client)' configfs \(reportData) '\(directory)/configfs.quote'
            """)
        #expect(configfs.status == 0, "\(configfs.text) \(configfs.stderr)")
        let ioctlQuote = try Data(contentsOf: URL(fileURLWithPath: directory + "/ioctl.quote"))
        let configfsQuote = try Data(contentsOf: URL(fileURLWithPath: directory + "/configfs.quote"))
        #expect(ioctlQuote == configfsQuote, "the quote is configfs-tsm's for the same report data")

        let verified = try Self.dcapQVL(directory + "/ioctl.quote", in: directory)
        #expect(verified.status == 0, "\(verified.text) \(verified.stderr)")
        let verdict = try JSONDecoder().decode(DCAPVerdict.self, from: verified.stdout)
        #expect(verdict.status == "UpToDate")
        #expect(verdict.report_data == reportData)

        // dcap-qvl fetching the collateral itself from `tsmfs pccs` (ready line read through a FIFO).
        let fetched = try shell(
            """
            mkfifo '\(directory)/ready'
            '\(tsmfsBinary())' pccs --seed \(Self.seed) --listen 127.0.0.1:0 \
                > '\(directory)/ready' 2> '\(directory)/pccs.log' &
            pid=$!; trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null' EXIT
            read -r line < '\(directory)/ready' || { echo "no ready line: $(cat '\(directory)/pccs.log')"; exit 2; }
            python3 '\(dcapQVLCheck())' '\(directory)/ioctl.quote' '\(directory)/root.pem' --pccs "${line##*ready on }"
            """)
        #expect(fetched.status == 0, "\(fetched.text) \(fetched.stderr)")
        let fetchedVerdict = try JSONDecoder().decode(DCAPVerdict.self, from: fetched.stdout)
        #expect(fetchedVerdict.status == "UpToDate" && fetchedVerdict.report_data == reportData)
    }

    @Test(
        """
        bad requests get the driver's errno or the VMM's status; a changed TDREPORT is refused; a TDREPORT \
        taken before an extend is quoted with its old RTMR and verifies
        """)
    func probe() throws {
        let mount = try MountedTSMFS(
            ["--guest", "tdx", "--kernel", "6.6", "--tdx-driver", "intel", "--seed", Self.seed], sysroot: true)
        defer { #expect(mount.stop() == 0, "\(mount.log)") }
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let digest = mount.path("sys/kernel/tsm/tdx/rtmr3/digest")
        let before = try #require(Sys.readFile(digest).value)
        let logBefore = try #require(Sys.readFile(mount.path("tsmfs/runtime_log"), count: 1 << 20).value)
        let staleQuote = directory + "/stale.quote"
        let r = try shell("python3 '\(Self.client)' probe '\(mount.path("dev/tdx_guest"))' '\(staleQuote)'")
        #expect(r.status == 0, "\(r.text) \(r.stderr)")
        let result = try Self.json(r)
        let errnos: [String: Int] = [
            "report0": 0, "extend0": 1, "extend1": 1, "extend4": 22, "extend3": 0, "extend_unmapped": 14,
            "unknown": 25, "quote_len0": 22, "quote_unmapped": 14, "quote_too_long": 5, "quote_version2": 5,
        ]
        for (name, value) in errnos { #expect(result[name] as? Int == value, "\(name): \(result)") }
        func answer(_ name: String) throws -> [String: Any] {
            let pair = try #require(result[name] as? [Any], "\(name): \(result)")
            #expect(pair.first as? Int == 0, "\(name): ioctl(2) returns 0 and the buffer says the rest")
            return try #require(pair.last as? [String: Any])
        }
        let error = 0x8000_0000_0000_0000 as UInt64
        let badPrefix = try answer("quote_bad_prefix")
        #expect((badPrefix["status"] as? NSNumber)?.uint64Value == error && badPrefix["out_len"] as? Int == 0)
        let forged = try answer("quote_forged")
        #expect(forged["status"] as? Int == 0 && forged["out_len"] as? Int == 28, "\(forged)")
        #expect(forged["type"] as? Int == 1 && forged["error_code"] as? Int == 0x12001, "\(forged)")
        #expect(result["tampered_quoted"] as? [Int] == [], "one changed covered byte is refused: \(result)")
        for name in ["quote", "quote_stale"] {
            let quote = try answer(name)
            #expect(quote["status"] as? Int == 0 && quote["error_code"] as? Int == 0, "\(name): \(quote)")
            let outLength = try #require(quote["out_len"] as? Int)
            #expect(quote["prefix"] as? Int == outLength - 4, "cctrusted's check: \(quote)")
            #expect(quote["size"] as? Int == outLength - 4 && quote["quote_size"] as? Int == outLength - 28)
        }
        let small = try answer("quote_small")
        #expect((small["status"] as? NSNumber)?.uint64Value == error, "a 2 KiB buffer cannot hold a quote")

        let after = try #require(Sys.readFile(digest).value)
        #expect(after == Array(SHA384.hash(data: before + [UInt8](repeating: 1, count: 48))))
        let logAfter = try #require(Sys.readFile(mount.path("tsmfs/runtime_log"), count: 1 << 20).value)
        #expect(logAfter.count > logBefore.count, "the extend is in the runtime event log")

        // The TDREPORT taken before the extend: quoted with its own RTMR3 (quote offset 48 + 472),
        // its TEE_TCB_INFO the quote's TEE fields, and the quote verifies.
        let hex = try #require(result["tdreport"] as? String)
        let tdReport = stride(from: 0, to: hex.count, by: 2).compactMap { at -> UInt8? in
            let start = hex.index(hex.startIndex, offsetBy: at)
            return UInt8(hex[start..<hex.index(start, offsetBy: 2)], radix: 16)
        }
        try #require(tdReport.count == 1024, "\(hex.count) hex digits")
        let quote = try [UInt8](Data(contentsOf: URL(fileURLWithPath: staleQuote)))
        try #require(quote.count > 632, "\(quote.count) bytes")
        #expect(Array(quote[520..<568]) == before && Array(quote[520..<568]) != after, "the old RTMR3")
        #expect(Array(tdReport[264..<384]) == Array(quote[48..<168]), "TEE_TCB_SVN, MRSEAM, MRSIGNERSEAM, ATTRIBUTES")
        let verified = try shell(
            """
            '\(tsmfsBinary())' verify '\(staleQuote)' --guest tdx --seed \(Self.seed) \
                --report-data \(hex.dropFirst(256).prefix(128))
            """)
        #expect(verified.status == 0, "tsmfs verify: \(verified.text) \(verified.stderr)")
        let qvl = try shell("python3 -c 'import dcap_qvl'")
        guard qvl.status == 0 else { return }
        let checked = try Self.dcapQVL(staleQuote, in: directory)
        #expect(checked.status == 0, "dcap-qvl: \(checked.text) \(checked.stderr)")
        let verdict = try JSONDecoder().decode(DCAPVerdict.self, from: checked.stdout)
        #expect(verdict.status == "UpToDate")
    }
}
