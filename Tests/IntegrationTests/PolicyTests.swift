import Foundation
import Glibc
import Testing
import TestSupport

/// Evidence a verifier must refuse (issue 28): each knob lands where its format puts it, the
/// signatures and chain still verify (the independent verifiers, `tsmfs verify --no-policy` or
/// `--allow-debug`), and `tsmfs verify`'s default policy refuses it, naming the field and value.
@Suite("policy knobs: signed correctly, refused by policy", .serialized, .needsMount)
struct PolicyTests {
    static let seed = "policy-test"

    /// One report of `guest` with `options` over `nonce`: its outblob and auxblob written as
    /// `evidence` and `auxblob` in the mount's directory, with the seed's trust anchor as
    /// `anchor.pem`; `body` runs while the mount is up.
    func evidence(
        _ guest: String, _ options: [String], body: (MountedTSMFS, [UInt8], String) throws -> Void
    ) throws {
        let mount = try MountedTSMFS(["--guest", guest, "--seed", Self.seed] + options, sysroot: true)
        defer { #expect(mount.stop() == 0, "\(mount.log)") }
        let entry = mount.path("sys/kernel/config/tsm/report/policy")
        #expect(mkdir(entry, 0o755) == 0)
        defer { rmdir(entry) }
        #expect(Sys.writeFile(entry + "/inblob", [UInt8](repeating: 0x28, count: 64)).value == 64)
        let outblob = try #require(readAll(entry + "/outblob").value)
        let auxblob = readAll(entry + "/auxblob").value ?? []
        try Data(outblob).write(to: URL(fileURLWithPath: mount.directory + "/evidence"))
        try Data(auxblob).write(to: URL(fileURLWithPath: mount.directory + "/auxblob"))
        let anchor = try shell(
            "'\(tsmfsBinary())' trust-anchor --guest \(guest) --seed \(Self.seed) > '\(mount.directory)/anchor.pem'")
        #expect(anchor.status == 0, "\(anchor.stderr)")
        try body(mount, outblob, mount.directory)
    }

    /// `tsmfs verify` of the evidence in `directory` with `flags`.
    func verify(_ guest: String, _ directory: String, _ flags: String = "") throws -> ShellResult {
        let aux = guest == "sev-snp" ? "--auxblob '\(directory)/auxblob'" : ""
        return try shell(
            "'\(tsmfsBinary())' verify '\(directory)/evidence' --guest \(guest) --seed \(Self.seed) \(aux) \(flags)")
    }

    @Test("TDX --td-attributes debug and --xfam: in report0 and the quote; verified, refused by default")
    func tdxDebug() throws {
        try evidence("tdx", ["--td-attributes", "debug,sept-ve-disable,perfmon", "--xfam", "0x2e7"]) {
            mount, quote, directory in
            let attributes: [UInt8] = [0x01, 0, 0, 0x10, 0, 0, 0, 0x80], xfam: [UInt8] = [0xe7, 0x02, 0, 0, 0, 0, 0, 0]
            #expect(Array(quote[(48 + 120)..<(48 + 128)]) == attributes)
            #expect(Array(quote[(48 + 128)..<(48 + 136)]) == xfam)
            let report0 = try #require(Sys.readFile(mount.path("sys/kernel/tsm/tdx/report0")).value)
            #expect(Array(report0[512..<520]) == attributes)
            #expect(Array(report0[520..<528]) == xfam)
            let independent = try shell(
                "python3 '\(independentVerifier())' tdx '\(directory)/evidence' '\(directory)/anchor.pem'")
            #expect(independent.status == 0, "\(independent.stderr)")
            let refused = try verify("tdx", directory)
            #expect(refused.status == 1)
            #expect(
                refused.stderr.contains("policy: td_attributes is 0x8000000010000001: DEBUG (bit 0) is set"),
                "\(refused.stderr)")
            let allowed = try verify("tdx", directory, "--allow-debug")
            #expect(allowed.status == 0, "\(allowed.stderr)")
            #expect(allowed.text.contains("\"td_attributes\": \"0100001000000080\""), "\(allowed.text)")
            let minimum = try verify("tdx", directory, "--allow-debug --min-tcb UpToDate")
            #expect(minimum.status == 0, "\(minimum.stderr)")
        }
    }

    @Test("TDX --min-tcb: an OutOfDate TCB is refused under --min-tcb SWHardeningNeeded")
    func tdxMinTCB() throws {
        try evidence("tdx", ["--tcb-status", "OutOfDate"]) { _, _, directory in
            #expect(try verify("tdx", directory).status == 0)
            let refused = try verify("tdx", directory, "--min-tcb SWHardeningNeeded")
            #expect(refused.status == 1)
            #expect(
                refused.stderr.contains("policy: tcb_status is OutOfDate: worse than --min-tcb SWHardeningNeeded"),
                "\(refused.stderr)")
        }
    }

    @Test("SEV-SNP --snp-policy debug and the TCBs: in the report, VCEK for REPORTED_TCB, refused by policy")
    func snp() throws {
        let options = [
            "--snp-policy", "smt,debug,abi=1.51", "--reported-tcb", "bl=3,tee=0,snp=8,ucode=115",
            "--committed-tcb", "bl=4,tee=0,snp=20,ucode=200", "--launch-tcb", "bl=2,tee=1,snp=7,ucode=100",
        ]
        try evidence("sev-snp", options) { mount, report, directory in
            func u64(_ offset: Int) -> UInt64 {
                report[offset..<(offset + 8)].reversed().reduce(0) { $0 << 8 | UInt64($1) }
            }
            #expect(u64(0x08) == 0xB_0133)
            #expect(
                Sys.readFile(mount.path("sys/kernel/tsm/sev-snp/policy")).value == [0x33, 0x01, 0x0B, 0, 0, 0, 0, 0])
            #expect(u64(0x180) == 0x7308_0000_0000_0003)
            #expect(u64(0x1E0) == 0xC814_0000_0000_0004)
            #expect(u64(0x1F0) == 0x6407_0000_0000_0102)
            let independent = try shell(
                """
                python3 '\(independentVerifier())' sev-snp '\(directory)/evidence' '\(directory)/auxblob' \
                '\(directory)/anchor.pem'
                """)
            #expect(independent.status == 0, "\(independent.stderr)")
            let refused = try verify("sev-snp", directory)
            #expect(refused.status == 1)
            #expect(refused.stderr.contains("policy: policy is 0xb0133: DEBUG (bit 19) is set"), "\(refused.stderr)")
            let allowed = try verify("sev-snp", directory, "--allow-debug --signing-key vcek")
            #expect(allowed.status == 0, "\(allowed.stderr)")
            let old = try verify("sev-snp", directory, "--allow-debug --min-tcb bl=3,tee=0,snp=22,ucode=115")
            #expect(old.status == 1)
            #expect(
                old.stderr.contains(
                    "policy: reported_tcb is bl=3,tee=0,snp=8,ucode=115: snp 8 is below --min-tcb's 22"),
                "\(old.stderr)")
            let vlek = try verify("sev-snp", directory, "--allow-debug --signing-key vlek")
            #expect(vlek.status == 1)
            #expect(vlek.stderr.contains("policy: signing_key is 0 (vcek): --signing-key vlek is required"))
        }
    }

    @Test("SEV-SNP --signing-key vlek: SIGNING_KEY 1, verified, refused under --signing-key vcek; omne-attest with kds")
    func snpVLEK() throws {
        try evidence("sev-snp", ["--signing-key", "vlek"]) { _, report, directory in
            #expect((report[0x48] >> 2) & 7 == 1)
            #expect(report[0x1A0..<0x1E0].allSatisfy { $0 == 0 })
            let accepted = try verify("sev-snp", directory, "--signing-key vlek")
            #expect(accepted.status == 0, "\(accepted.stderr)")
            let refused = try verify("sev-snp", directory, "--signing-key vcek")
            #expect(refused.status == 1)
            #expect(
                refused.stderr.contains("policy: signing_key is 1 (vlek): --signing-key vcek is required"),
                "\(refused.stderr)")
            let omne = try shell(
                """
                set -e
                python3 -c 'import omne_attest' || { echo 'no omne-attest' >&2; exit 3; }
                \(serviceStartScript("kds", "--seed \(Self.seed)", fifo: directory + "/kds", pid: "kds"))
                trap 'kill $kds' EXIT
                python3 -c 'import sys, urllib.request as u; sys.stdout.buffer.write(u.urlopen(sys.argv[1]).read())' \
                    "$url/vlek/v1/Milan/cert_chain" > '\(directory)/vlek-chain.pem'
                python3 '\(independentVerifier("check_vlek_with_omne_attest.py"))' '\(directory)/evidence' \
                    '\(directory)/auxblob' '\(directory)/vlek-chain.pem' '\(directory)/anchor.pem'
                """)
            let hasOmne = try shell("python3 -c 'import omne_attest'").status == 0
            #expect(omne.status == (hasOmne ? 0 : 3), "\(omne.stderr)")
            #expect(!hasOmne || omne.text.contains("ok: signature and chain"), "\(omne.text)")
        }
    }

    @Test("tsmfs kds --revoke ask: the ARK-signed DER CRL at /vcek/v1/Milan/crl lists the ASK")
    func kdsCRL() throws {
        let directory = try makeTemporaryDirectory("tsmfs-kds-crl")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let r = try shell(
            """
            set -e
            '\(tsmfsBinary())' trust-anchor --guest sev-snp --seed \(Self.seed) > '\(directory)/ark.pem'
            '\(tsmfsBinary())' certs --guest sev-snp --seed \(Self.seed) --out '\(directory)/certs' > /dev/null
            \(serviceStartScript("kds", "--seed \(Self.seed) --revoke ask", fifo: directory + "/kds", pid: "kds"))
            trap 'kill $kds' EXIT
            python3 -c 'import sys, urllib.request as u; sys.stdout.buffer.write(u.urlopen(sys.argv[1]).read())' \
                "$url/vcek/v1/Milan/crl" > '\(directory)/crl.der'
            python3 '\(independentVerifier("check_amd_crl.py"))' '\(directory)/crl.der' '\(directory)/ark.pem'
            openssl x509 -in '\(directory)/certs/ask.pem' -noout -serial
            """)
        #expect(r.status == 0, "\(r.stderr)")
        let lines = r.text.split(separator: "\n").map(String.init)
        #expect(lines.count == 2, "\(r.text)")
        #expect(lines.last?.lowercased() == "serial=" + (lines.first ?? "-"), "\(r.text)")
        let bad = try shell("'\(tsmfsBinary())' kds --revoke vcek --listen 127.0.0.1:0")
        #expect(bad.status == 64, "\(bad.stderr)")
    }

    @Test("CCA --cca-lifecycle debug: the claim carries it, both signatures check, refused by default")
    func ccaLifecycle() throws {
        try evidence("cca", ["--cca-lifecycle", "debug"]) { _, _, directory in
            let checked = try shell(
                "python3 '\(ccaChecker())' '\(directory)/evidence' '\(directory)/anchor.pem'")
            #expect(checked.status == 0, "\(checked.stderr)")
            let claims = try JSONSerialization.jsonObject(with: Data(checked.text.utf8)) as? [String: Any]
            #expect(claims?["lifecycle"] as? Int == 0x4000, "\(checked.text)")
            let refused = try verify("cca", directory)
            #expect(refused.status == 1)
            #expect(
                refused.stderr.contains(
                    "policy: lifecycle is 0x4000 (non-cca-platform-rot-debug): --lifecycle accepts secured"),
                "\(refused.stderr)")
            #expect(try verify("cca", directory, "--lifecycle secured,debug").status == 0)
            #expect(try verify("cca", directory, "--no-policy").status == 0)
        }
    }

    @Test("the defaults pass the default policy; a bad knob value is refused at start")
    func defaults() throws {
        for guest in ["tdx", "sev-snp", "cca"] {
            try evidence(guest, []) { _, _, directory in
                let r = try verify(guest, directory)
                #expect(r.status == 0, "\(guest): \(r.stderr)")
            }
        }
        let bad = try shell("'\(tsmfsBinary())' exec --guest tdx --td-attributes debug,nosuch -- true")
        #expect(bad.status != 0)
        #expect(bad.stderr.contains("--td-attributes nosuch: not one of debug"), "\(bad.stderr)")
    }
}
