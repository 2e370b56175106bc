import Foundation
import Glibc
import Testing
import TestSupport

/// Tests/IntegrationTests/dcap_qvl_check.py: dcap-qvl (PyPI, pinned by Scripts/test) over a quote.
func dcapQVLCheck() -> String {
    URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("dcap_qvl_check.py").path
}

/// What dcap_qvl_check.py prints for an accepted quote.
struct DCAPVerdict: Decodable {
    var body: String
    var mr_service_td: String?
    var status: String
    var advisory_ids: [String]
    var report_data: String
    var mr_td: String
    var rtmrs: [String]
}

/// A real third-party DCAP verifier (dcap-qvl) accepts tsmfs quotes with tsmfs's collateral and
/// refuses what it must.
@Suite("dcap-qvl verifies TDX quotes", .serialized, .needsMount)
struct DCAPVerifierTests {
    static let seed = "dcap-qvl-test"

    /// Mounts a TDX sysroot with `extra`, makes one quote over `nonce`, and writes the quote,
    /// the collateral and the root of `seed` beside it. Returns the directory and the live RTMRs.
    func quote(_ extra: [String] = [], nonce: [UInt8], body: (String, [String]) throws -> Void) throws {
        let importable = try shell("python3 -c 'import dcap_qvl'")
        try #require(importable.status == 0, "dcap-qvl 0.7.0 is not installed (Scripts/test installs it)")
        let mount = try MountedTSMFS(["--guest", "tdx", "--seed", Self.seed] + extra, sysroot: true)
        defer { #expect(mount.stop() == 0, "\(mount.log)") }
        let entry = mount.path("sys/kernel/config/tsm/report/dcap")
        #expect(mkdir(entry, 0o755) == 0)
        #expect(Sys.writeFile(entry + "/inblob", nonce).value == 64)
        let quote = try #require(readAll(entry + "/outblob").value)
        try Data(quote).write(to: URL(fileURLWithPath: mount.directory + "/quote"))
        let rtmrs = try (0..<4).map { index in
            try #require(Sys.readFile(mount.path("sys/kernel/tsm/tdx/rtmr\(index)/digest")).value).map {
                String(format: "%02x", $0)
            }.joined()
        }
        let r = try shell(
            """
            set -e
            '\(tsmfsBinary())' collateral --guest tdx --seed '\(Self.seed)' > '\(mount.directory)/collateral.json'
            '\(tsmfsBinary())' trust-anchor --guest tdx --seed '\(Self.seed)' > '\(mount.directory)/root.pem'
            '\(tsmfsBinary())' trust-anchor --guest tdx --seed other > '\(mount.directory)/other.pem'
            """)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(rmdir(entry) == 0)
        try body(mount.directory, rtmrs)
    }

    func verify(_ directory: String, quote: String = "quote", root: String = "root.pem", extra: String = "") throws
        -> ShellResult
    {
        try shell(
            """
            python3 '\(dcapQVLCheck())' '\(directory)/\(quote)' '\(directory)/\(root)' --collateral \
            '\(directory)/collateral.json' \(extra)
            """
        )
    }

    @Test("UpToDate, with report data = the inblob and RTMRs = the live registers")
    func upToDate() throws {
        let nonce = (0..<64).map { UInt8(($0 * 29 + 3) & 0xFF) }
        try quote(nonce: nonce) { directory, rtmrs in
            let r = try verify(directory)
            #expect(r.status == 0, "\(r.stderr)")
            let verdict = try JSONDecoder().decode(DCAPVerdict.self, from: r.stdout)
            #expect(verdict.status == "UpToDate")
            #expect(verdict.advisory_ids.isEmpty)
            #expect(verdict.report_data == nonce.map { String(format: "%02x", $0) }.joined())
            #expect(verdict.rtmrs == rtmrs)
        }
    }

    @Test("a flipped byte, another seed's root and collateral past nextUpdate are refused")
    func refusals() throws {
        try quote(nonce: [UInt8](repeating: 7, count: 64)) { directory, _ in
            var quote = try Data(contentsOf: URL(fileURLWithPath: directory + "/quote")).map { $0 }
            quote[48 + 136] ^= 0x01  // MRTD, inside the TD report
            try Data(quote).write(to: URL(fileURLWithPath: directory + "/flipped"))
            let flipped = try verify(directory, quote: "flipped")
            #expect(flipped.status == 1, "\(flipped.stderr)")
            #expect(flipped.stderr.contains("refused"), "\(flipped.stderr)")
            let other = try verify(directory, root: "other.pem")
            #expect(other.status == 1, "\(other.stderr)")
            let late = try verify(directory, extra: "--now-offset \(31 * 86_400)")
            #expect(late.status == 1, "\(late.stderr)")
            #expect(late.stderr.lowercased().contains("expired"), "\(late.stderr)")
            // Served collateral is 1 to 2 hours old (issue 24): 3 hours before now is before its issue.
            let early = try verify(directory, extra: "--now-offset \(-3 * 3600)")
            #expect(early.status == 1, "\(early.stderr)")
        }
    }

    @Test("a verifier whose clock is behind, or read before the fetch, accepts the collateral (issue 24)")
    func clockBehind() throws {
        try quote(nonce: [UInt8](repeating: 5, count: 64)) { directory, _ in
            for offset in [-1, -600, -3599] {
                let r = try verify(directory, extra: "--now-offset \(offset)")
                #expect(r.status == 0, "offset \(offset): \(r.stderr)")
            }
        }
    }

    @Test(
        "each --tcb-status gives the status dcap-qvl reports; Revoked is refused",
        arguments: [
            "SWHardeningNeeded", "ConfigurationNeeded", "ConfigurationAndSWHardeningNeeded", "OutOfDate",
            "OutOfDateConfigurationNeeded", "Revoked",
        ])
    func tcbStatus(_ status: String) throws {
        try quote(["--tcb-status", status], nonce: [UInt8](repeating: 9, count: 64)) { directory, _ in
            let r = try verify(directory)
            // tsmfs's own verifier, over its own collateral, gives the same verdict.
            let own = try shell("'\(tsmfsBinary())' verify '\(directory)/quote' --guest tdx --seed '\(Self.seed)'")
            if status == "Revoked" {
                #expect(r.status == 1)
                #expect(r.stderr.contains("Revoked"), "\(r.stderr)")
                #expect(own.status != 0)
                #expect(own.stderr.contains("Revoked"), "\(own.stderr)")
            } else {
                #expect(own.status == 0, "\(own.stderr)")
                #expect(own.text.contains("\"tcb_status\": \"\(status)\""), "\(own.text)")
                #expect(r.status == 0, "\(r.stderr)")
                let verdict = try JSONDecoder().decode(DCAPVerdict.self, from: r.stdout)
                #expect(verdict.status == status)
                #expect(!verdict.advisory_ids.isEmpty)
            }
        }
    }

    @Test("dcap-qvl fetches the collateral from tsmfs pccs itself: UpToDate; an unknown FMSPC is 404; SIGTERM stops it")
    func pccs() throws {
        let nonce = [UInt8](repeating: 0x42, count: 64)
        try quote(nonce: nonce) { directory, rtmrs in
            let r = try shell(
                """
                \(serviceStartScript("pccs", "--seed '\(Self.seed)'", fifo: directory + "/pccs", pid: "pid"))
                python3 '\(dcapQVLCheck())' '\(directory)/quote' '\(directory)/root.pem' --pccs "$url" > \
                '\(directory)/verdict.json'
                verified=$?
                unknown=$(python3 -c 'import sys, urllib.request, urllib.error
                try:
                    urllib.request.urlopen(sys.argv[1] + "/tdx/certification/v4/tcb?fmspc=000000000000"); print(200)
                except urllib.error.HTTPError as error:
                    print(error.code)' "$url")
                # The PCK route: the leaf in the body, intermediate and root in the percent-encoded
                # issuer-chain header; together, the chain the quote carries.
                pck=$(python3 -c 'import sys, urllib.request, urllib.parse
                r = urllib.request.urlopen(sys.argv[1] + "/sgx/certification/v4/pckcert?encrypted_ppid=" \
                + "0" * 768 + "&cpusvn=" + "0" * 32 + "&pcesvn=0000&pceid=0000")
                body, issuers = r.read().decode(), urllib.parse.unquote(r.headers["SGX-PCK-Certificate-Issuer-Chain"])
                q = open(sys.argv[2], "rb").read()
                start, end = q.index(b"-----BEGIN CERTIFICATE-----"), q.rindex(b"-----END CERTIFICATE-----") + 25
                ok = (body + issuers).rstrip() == q[start:end].decode() and body.count("BEGIN") == 1 and \
                issuers.count("BEGIN") == 2
                print("same" if ok else "differs")' "$url" '\(directory)/quote')
                kill -TERM $pid
                wait $pid
                echo "url=$url verified=$verified unknown=$unknown pck=$pck exit=$?"
                """)
            #expect(r.text.contains("verified=0 unknown=404 pck=same exit=0"), "\(r.text) \(r.stderr)")
            #expect(r.text.contains("url=http://127.0.0.1:"), "\(r.text)")
            let verdict = try JSONDecoder().decode(
                DCAPVerdict.self, from: Data(contentsOf: URL(fileURLWithPath: directory + "/verdict.json")))
            #expect(verdict.status == "UpToDate")
            #expect(verdict.report_data == nonce.map { String(format: "%02x", $0) }.joined())
            #expect(verdict.rtmrs == rtmrs)
        }
    }

    @Test(
        """
        --tdx-module 1.5: Quote v5 with a TD 1.5 body, MRSERVICETD zero, verified UpToDate by dcap-qvl and tsmfs \
        verify
        """
    )
    func td15() throws {
        let nonce = [UInt8](repeating: 0x15, count: 64)
        try quote(["--tdx-module", "1.5"], nonce: nonce) { directory, rtmrs in
            let quote = try Data(contentsOf: URL(fileURLWithPath: directory + "/quote")).map { $0 }
            #expect(Array(quote[0..<2]) == [5, 0])
            #expect(Array(quote[48..<54]) == [3, 0, 0x88, 0x02, 0, 0])  // body type 3, 648 bytes
            let r = try verify(directory)
            #expect(r.status == 0, "\(r.stderr)")
            let verdict = try JSONDecoder().decode(DCAPVerdict.self, from: r.stdout)
            #expect(verdict.body == "TD15")
            #expect(verdict.mr_service_td == String(repeating: "0", count: 96))
            #expect(verdict.status == "UpToDate")
            #expect(verdict.report_data == nonce.map { String(format: "%02x", $0) }.joined())
            #expect(verdict.rtmrs == rtmrs)
            let own = try shell("'\(tsmfsBinary())' verify '\(directory)/quote' --guest tdx --seed '\(Self.seed)'")
            #expect(own.status == 0, "\(own.stderr)")
            #expect(own.text.contains("\"mrservicetd\": \"\(String(repeating: "0", count: 96))\""), "\(own.text)")
        }
    }

    @Test("--td-attributes debug: dcap-qvl refuses the debug TD's quote, as a real one's; the default it accepts")
    func debugTD() throws {
        try quote(["--td-attributes", "debug,sept-ve-disable"], nonce: [UInt8](repeating: 0xDB, count: 64)) {
            directory, _ in
            let quote = try Data(contentsOf: URL(fileURLWithPath: directory + "/quote")).map { $0 }
            #expect(Array(quote[(48 + 120)..<(48 + 128)]) == [0x01, 0, 0, 0x10, 0, 0, 0, 0], "TDATTRIBUTES")
            let r = try verify(directory)
            #expect(r.status == 1, "\(r.text)")
            #expect(r.stderr.contains("Debug mode is enabled"), "\(r.stderr)")
            let own = try shell("'\(tsmfsBinary())' verify '\(directory)/quote' --guest tdx --seed '\(Self.seed)'")
            #expect(own.status == 1)
            #expect(own.stderr.contains("policy: td_attributes is 0x10000001"), "\(own.stderr)")
        }
        try quote(["--td-attributes", "sept-ve-disable"], nonce: [UInt8](repeating: 0xDC, count: 64)) {
            directory, _ in
            let r = try verify(directory)
            #expect(r.status == 0, "\(r.stderr)")
        }
    }
}
