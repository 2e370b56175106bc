import Foundation
import Testing
import TestSupport

/// `--vtpm azure`, `gcp` and `svsm` under `tsmfs exec`, asked by tpm2-tools with its default TCTI
/// (/dev/tpmrm0) and checked outside by vtpm_personality_check.py, openssl and tpm2_checkquote.
@Suite("vTPM personalities: Azure's HCL report, GCE's AK certificates, the SVSM's vTPM entry", .serialized, .needsMount)
struct VTPMPersonalityTests {
    static let check = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("vtpm_personality_check.py").path

    /// Starts `tsmfs kds` in the script's shell: `$url` its base, stopped when the shell exits.
    /// Its ready line is read through a FIFO (``serviceStartScript(_:_:fifo:pid:)``): observed,
    /// never slept for.
    static let kds = """
        trap 'kill $kds 2>/dev/null' EXIT
        \(serviceStartScript("kds", fifo: "kds.fifo", pid: "kds"))
        """

    /// Splits `tsmfs trust-anchor --vtpm NAME`'s output into root.pem and intermediate.pem.
    static func anchors(_ name: String) -> String {
        """
        '\(tsmfsBinary())' trust-anchor --vtpm \(name) > ca.pem
        awk '/BEGIN/ { n++ } { print > (n == 1 ? "root.pem" : "intermediate.pem") }' ca.pem
        """
    }

    @Test(
        "azure: tpm2_nvread of the HCL report (owner, index auth); its SNP report, its AK's quote, user data"
    )
    func azure() throws {
        try VTPMTests.requireTools()
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let userData = (0..<64).map { String(format: "%02x", ($0 * 5 + 3) & 0xFF) }.joined()
        let r = try shell(
            """
            set -euo pipefail
            cd '\(directory)'
            '\(tsmfsBinary())' exec --guest sev-snp --vtpm azure -- bash -euo pipefail -c '
            cd "\(directory)"
            test ! -e /dev/sev-guest && test ! -e /sys/kernel/config/tsm/report && echo "no-snp-faces"
            tpm2_nvread 0x01400001 -C o -o hcl.owner
            tpm2_nvread 0x01400001 -o hcl.index
            tpm2_nvread 0x01C101D0 -o akcert.der
            tpm2_readpublic -c 0x81000003 -f pem -o ak.tpm.pem -Q
            tpm2_quote -c 0x81000003 -l sha256:0,1,4,7 -q c0ffee01 -m quote.msg -s quote.sig -o quote.pcrs \\
                -g sha256 > /dev/null
            echo \(userData) | xxd -r -p > user.bin
            tpm2_nvwrite 0x01400002 -C o -i user.bin
            tpm2_nvread 0x01400001 -o hcl.fresh'
            cmp hcl.owner hcl.index
            test "$(stat -c %s hcl.index)" = 2600
            \(Self.kds)
            python3 '\(Self.check)' hcl hcl.index "$url" > ak.pem
            cmp ak.pem <(openssl pkey -pubin -in ak.tpm.pem)
            tpm2_checkquote -u ak.pem -m quote.msg -s quote.sig -f quote.pcrs -g sha256 -q c0ffee01 > /dev/null
            echo quote-checked
            if python3 '\(Self.check)' hcl hcl.index "$url" \(userData) 2> /dev/null; then exit 3; fi
            python3 '\(Self.check)' hcl hcl.fresh "$url" \(userData) > /dev/null
            echo fresh-report
            \(Self.anchors("azure"))
            openssl x509 -inform DER -in akcert.der -out akcert.pem
            openssl verify -CAfile root.pem -untrusted intermediate.pem akcert.pem
            cmp <(openssl x509 -in akcert.pem -noout -pubkey) ak.pem
            """)
        #expect(r.status == 0, "\(r.text) \(r.stderr)")
        for line in ["no-snp-faces", "quote-checked", "fresh-report", "akcert.pem: OK"] {
            #expect(r.text.contains(line), "\(line): \(r.text) \(r.stderr)")
        }
    }

    @Test(
        "gcp: the AK certificate of 0x01c10000 to the mock CA, its key the AK tpm2_createprimary makes from 0x01c10001",
        arguments: ["sev-snp", "tdx"])
    func gcp(guest: String) throws {
        try VTPMTests.requireTools()
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let r = try shell(
            """
            set -euo pipefail
            cd '\(directory)'
            '\(tsmfsBinary())' exec --guest \(guest) --vtpm gcp -- bash -euo pipefail -c '
            cd "\(directory)"
            tpm2_nvread 0x01c10000 -o akcert.der
            tpm2_nvread 0x01c10001 -o template.bin
            tpm2_createprimary -C e $(python3 "\(Self.check)" template template.bin) -c ak.ctx \\
                --template-data used.tpmt -Q
            tpm2_readpublic -c ak.ctx -f pem -o ak.pem -Q'
            cmp used.tpmt template.bin
            \(Self.anchors("gcp"))
            openssl x509 -inform DER -in akcert.der -out akcert.pem
            openssl verify -CAfile root.pem -untrusted intermediate.pem akcert.pem
            test "$(openssl x509 -in akcert.pem -noout -modulus)" = "$(openssl rsa -pubin -in ak.pem -noout -modulus)"
            echo same-key
            """)
        #expect(r.status == 0, "\(r.text) \(r.stderr)")
        #expect(r.text.contains("akcert.pem: OK") && r.text.contains("same-key"), "\(r.text) \(r.stderr)")
    }

    @Test("svsm: the vTPM service's manifest is the EK's TPMT_PUBLIC, REPORT_DATA = SHA-512(nonce || manifest), VMPL 0")
    func svsm() throws {
        try VTPMTests.requireTools()
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let r = try shell(
            """
            set -euo pipefail
            cd '\(directory)'
            '\(tsmfsBinary())' exec --guest sev-snp --vtpm svsm -- bash -euo pipefail -c '
            cd "\(directory)"
            report=/sys/kernel/config/tsm/report/vtpm
            mkdir $report
            echo svsm > $report/service_provider
            echo c476f1eb-0123-45a5-9641-b4e7dde5bfe3 > $report/service_guid
            python3 -c "import sys; sys.stdout.buffer.write(bytes(range(64)))" > nonce.bin
            cat nonce.bin > $report/inblob
            cat $report/outblob > outblob
            cat $report/manifestblob > manifest
            rmdir $report
            tpm2_readpublic -c 0x81010001 -f tpmt -o ek.tpmt -Q'
            cmp manifest ek.tpmt
            python3 '\(Self.check)' svsm outblob manifest nonce.bin
            """)
        #expect(r.status == 0, "\(r.text) \(r.stderr)")
        #expect(r.text.contains("ok"), "\(r.text) \(r.stderr)")
    }
}
