/// The SEV-SNP checks of a report and auxblob written to `files`: `tsmfs verify` against the ARK
/// `trust-anchor` prints, the independent verifier, `tsmfs certs`, omne-attest (when installed;
/// Scripts/test installs it) and `tsmfs kds` serving the auxblob's VCEK and chain.
func snpVerifierScript(files: String, nonce: String) -> String {
    """
        set -e
        '\(tsmfsBinary())' trust-anchor --guest sev-snp > '\(files)/ark.pem'
        '\(tsmfsBinary())' verify '\(files)/report' --guest sev-snp --auxblob '\(files)/auxblob' --trust-anchor \
    '\(files)/ark.pem' --report-data \(nonce) > /dev/null
        ! '\(tsmfsBinary())' verify '\(files)/report' --guest sev-snp --auxblob '\(files)/auxblob' --trust-anchor \
    '\(files)/ark.pem' --report-data 00 2> /dev/null
        python3 '\(independentVerifier())' sev-snp '\(files)/report' '\(files)/auxblob' '\(files)/ark.pem'
        '\(tsmfsBinary())' certs --guest sev-snp --out '\(files)/certs' > /dev/null
        cmp '\(files)/ark.pem' '\(files)/certs/ark.pem'
        test -s '\(files)/certs/ask.pem'
        test -s '\(files)/certs/vcek.pem'
        if command -v openssl > /dev/null; then
            (cd '\(files)/certs'; openssl verify -CAfile ark.pem -untrusted ask.pem vcek.pem > /dev/null)
        fi
        if python3 -c 'import omne_attest' 2>/dev/null; then
            python3 '\(independentVerifier("check_with_omne_attest.py"))' '\(files)/report' '\(files)/auxblob' \
    '\(files)/ark.pem'
        fi
        \(serviceStartScript("kds", fifo: files + "/kds", pid: "kds"))
        trap 'kill $kds' EXIT
        python3 '\(independentVerifier("check_kds.py"))' '\(files)/report' '\(files)/auxblob' "$url"
    """
}
