import Foundation
import Glibc
import Testing
import TestSupport

/// Issue 28's second pass through real mounts: the ID block keys (`--id-key`, `--author-key`) and
/// the CCA platform config and software components land where the formats put them, signed so
/// the independent verifiers accept them, and `tsmfs verify`'s reference values refuse them; the
/// ARK's CRL from `tsmfs kds --revoke ask` makes `tsmfs verify --crl` refuse a chain.
@Suite("reference values and revocation: signed correctly, refused by policy", .serialized, .needsMount)
struct ReferenceValueTests {
    let policy = PolicyTests()

    /// `openssl ecparam` P-384 keys `id.pem` and `author.pem` in a new temporary directory.
    func keys() throws -> String {
        let directory = try makeTemporaryDirectory("tsmfs-id-keys")
        let r = try shell(
            """
            set -e
            cd '\(directory)'
            openssl ecparam -name secp384r1 -genkey -noout -out id.pem
            openssl ecparam -name secp384r1 -genkey -noout -out author.pem
            """)
        #expect(r.status == 0, "\(r.stderr)")
        return directory
    }

    @Test("SEV-SNP --id-key and --author-key: the digests and AUTHOR_KEY_EN; omne-attest accepts, verify refuses")
    func snpAuthorKey() throws {
        let keys = try keys()
        defer { try? FileManager.default.removeItem(atPath: keys) }
        try policy.evidence("sev-snp", ["--id-key", keys + "/id.pem", "--author-key", keys + "/author.pem"]) {
            mount, report, directory in
            #expect(report[0x48] & 1 == 1)
            // The digests as virtee/sev computes them (SevEcdsaPubKey: curve 2, QX, QY little-endian in 72
            // bytes each, 0x404 bytes), read by omne-attest's parser from the report.
            let digests = try shell(
                """
                set -e
                python3 - '\(keys)/id.pem' '\(keys)/author.pem' '\(directory)/evidence' <<'EOF'
                import hashlib, sys
                from cryptography.hazmat.primitives import serialization
                from omne_attest.snp import Report
                def digest(path):
                    n = serialization.load_pem_private_key(open(path, "rb").read(), None).public_key().public_numbers()
                    key = (2).to_bytes(4, "little") + n.x.to_bytes(72, "little") + n.y.to_bytes(72, "little")
                    return hashlib.sha384(key + bytes(0x404 - len(key))).hexdigest()
                report = Report.parse(open(sys.argv[3], "rb").read())
                print(digest(sys.argv[1]), report.id_key_digest.hex())
                print(digest(sys.argv[2]), report.author_key_digest.hex())
                EOF
                """)
            #expect(digests.status == 0, "\(digests.stderr)")
            let lines = digests.text.split(separator: "\n").map { $0.split(separator: " ").map(String.init) }
            #expect(lines.count == 2 && lines.allSatisfy { $0.count == 2 && $0[0] == $0[1] }, "\(digests.text)")
            let (id, author) = (lines.first?.first ?? "", lines.last?.first ?? "")
            let register = try #require(Sys.readFile(mount.path("sys/kernel/tsm/sev-snp/author_key_digest")).value)
            #expect(register.map { String(format: "%02x", $0) }.joined() == author)
            let omne = try shell(
                """
                python3 '\(independentVerifier("check_with_omne_attest.py"))' '\(directory)/evidence' \
                '\(directory)/auxblob' '\(directory)/anchor.pem'
                """)
            #expect(omne.status == 0, "\(omne.stderr)")
            #expect(
                try policy.verify("sev-snp", directory, "--id-key-digest \(id) --author-key-digest \(author)").status
                    == 0)
            let other = String(repeating: "ab", count: 48)
            let refused = try policy.verify("sev-snp", directory, "--author-key-digest \(other)")
            #expect(refused.status == 1)
            #expect(
                refused.stderr.contains(
                    "policy: author_key_digest is \(author): --author-key-digest requires \(other)"),
                "\(refused.stderr)")
        }
        try policy.evidence("sev-snp", []) { _, report, directory in
            #expect(report[0x48] & 1 == 0)
            let refused = try policy.verify(
                "sev-snp", directory, "--author-key-digest \(String(repeating: "ab", count: 48))")
            #expect(refused.stderr.contains("policy: author_key_en is 0"), "\(refused.stderr)")
        }
    }

    @Test("CCA --cca-platform-config and --cca-sw-component: claims 2401 and 2399; COSE check accepts; verify refuses")
    func ccaReferenceValues() throws {
        let bl2 = String(repeating: "b2", count: 48), extra = String(repeating: "e7", count: 32)
        let options = [
            "--cca-platform-config", "cfcfcfcf", "--cca-sw-component", "BL2:\(bl2):2.1",
            "--cca-sw-component", "TEST:\(extra)",
        ]
        try policy.evidence("cca", options) { _, _, directory in
            let checked = try shell("python3 '\(ccaChecker())' '\(directory)/evidence' '\(directory)/anchor.pem'")
            #expect(checked.status == 0, "\(checked.stderr)")
            let claims = try shell(
                """
                python3 - '\(directory)/evidence' <<'EOF'
                import sys, cbor2
                token = cbor2.loads(open(sys.argv[1], "rb").read()).value
                platform = cbor2.loads(cbor2.loads(token[44234]).value[2])
                print(platform[2401].hex())
                for component in platform[2399]:
                    print(component[1], component[2].hex(), component.get(4), component.get(6))
                EOF
                """)
            #expect(claims.status == 0, "\(claims.stderr)")
            let lines = claims.text.split(separator: "\n").map(String.init)
            #expect(lines.first == "cfcfcfcf", "\(claims.text)")
            #expect(lines.contains("BL2 \(bl2) 2.1 sha-384"), "\(claims.text)")
            #expect(lines.last == "TEST \(extra) 1.0.0 sha-256", "\(claims.text)")
            let accepted = try policy.verify(
                "cca", directory, "--platform-config cfcfcfcf --sw-component BL2:\(bl2) --sw-component TEST:\(extra)")
            #expect(accepted.status == 0, "\(accepted.stderr)")
            let config = try policy.verify("cca", directory, "--platform-config 00")
            #expect(config.status == 1)
            #expect(config.stderr.contains("policy: platform_config is cfcfcfcf: --platform-config requires 00"))
            let version = try policy.verify("cca", directory, "--sw-component BL2:\(bl2):2.0")
            #expect(version.stderr.contains("policy: sw_component BL2 version is 2.1: --sw-component requires 2.0"))
        }
    }

    @Test("verify --crl: the kds CRL with --revoke ask refuses the chain naming the ASK; certs --signing-key vlek")
    func crlAndVLEKCertificates() throws {
        try policy.evidence("sev-snp", []) { _, _, directory in
            let r = try shell(
                """
                set -e
                fetch='import sys, urllib.request as u; sys.stdout.buffer.write(u.urlopen(sys.argv[1]).read())'
                for revoke in '' '--revoke ask'; do
                    \(serviceStartScript(
                        "kds", "--seed \(PolicyTests.seed) $revoke", fifo: directory + "/kds", pid: "kds"))
                    trap 'kill $kds 2> /dev/null || true' EXIT
                    python3 -c "$fetch" "$url/vcek/v1/Milan/crl" > "\(directory)/crl${revoke:+-revoked}.der"
                    kill $kds; wait $kds || true
                done
                '\(tsmfsBinary())' certs --guest sev-snp --seed \(PolicyTests.seed) --signing-key vlek \
                    --out '\(directory)/certs'
                cd '\(directory)/certs'
                openssl verify -CAfile ark.pem -untrusted asvk.pem vlek.pem
                """)
            #expect(r.status == 0, "\(r.stderr)")
            #expect(r.text.contains("certs/asvk.pem") && r.text.contains("vlek.pem: OK"), "\(r.text)")
            #expect(try policy.verify("sev-snp", directory, "--crl '\(directory)/crl.der'").status == 0)
            let revoked = try policy.verify("sev-snp", directory, "--crl '\(directory)/crl-revoked.der'")
            #expect(revoked.status == 1)
            #expect(revoked.stderr.contains("revocation: the ASK (serial "), "\(revoked.stderr)")
            #expect(revoked.stderr.contains(") is revoked: the ARK's CRL lists it"), "\(revoked.stderr)")
            #expect(try policy.verify("sev-snp", directory, "--no-policy").status == 0)
        }
        let wrong = try shell("'\(tsmfsBinary())' verify /dev/null --guest tdx --crl /dev/null")
        #expect(wrong.status == 64 && wrong.stderr.contains("--crl is for --guest sev-snp"), "\(wrong.stderr)")
        let certs = try shell("'\(tsmfsBinary())' certs --guest tdx --signing-key vlek --out /nonexistent/x")
        #expect(certs.status == 64 && certs.stderr.contains("--signing-key needs --guest sev-snp"), "\(certs.stderr)")
    }
}
