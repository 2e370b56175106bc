#!/usr/bin/env python3
"""Checks a tsmfs SEV-SNP report with omne-attest (PyPI, Apache-2.0), a third-party verifier of
AMD's chain: report signature by the VCEK, ARK pinned by the SHA-256 of its DER, ARK -> ASK ->
VCEK with RSASSA-PSS SHA-384 salt 48, the VCEK's hwID and SPLs against CHIP_ID and REPORTED_TCB.

    check_with_omne_attest.py REPORT AUXBLOB ARK_PEM

The pin is computed from ARK_PEM (the anchor `tsmfs trust-anchor --guest sev-snp` prints), the
VCEK, ASK and ARK come from the auxblob's certificate table. Exit 0 when omne-attest accepts,
1 with its failure on stderr.
"""
import hashlib
import sys

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from omne_attest import Fail, Policy, verify
from snp_certificate_table import GUIDS, table




def main(argv):
    if len(argv) != 4:
        print(__doc__, file=sys.stderr)
        return 2
    report, auxblob, anchor = (open(path, "rb").read() for path in argv[1:])
    pin = hashlib.sha256(x509.load_pem_x509_certificate(anchor).public_bytes(Encoding.DER)).digest()
    certificates = table(auxblob)
    try:
        verify(report, certificates[GUIDS["vcek"]], certificates[GUIDS["ask"]], certificates[GUIDS["ark"]], pin,
               Policy(max_vmpl=3, reject_debug=True))
    except (Fail, KeyError) as failure:
        print(f"omne-attest: {failure}", file=sys.stderr)
        return 1
    print("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
