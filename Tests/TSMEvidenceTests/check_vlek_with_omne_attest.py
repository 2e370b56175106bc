#!/usr/bin/env python3
"""Checks a VLEK-signed tsmfs SEV-SNP report with omne-attest 0.1.0's own steps: the report
signature by the VLEK (Report.verify_signature) and the chain VLEK <- ASVK <- ARK with the ARK
pinned by the SHA-256 of its DER (verify_chain, RSASSA-PSS SHA-384 salt 48).

    check_vlek_with_omne_attest.py REPORT AUXBLOB KDS_CHAIN_PEM ARK_PEM

The VLEK comes from the auxblob's certificate table (GUID a8074bc2-...), the ASVK and ARK from
KDS_CHAIN_PEM (what `tsmfs kds` serves at /vlek/v1/Milan/cert_chain: ASVK then ARK), the pin
from ARK_PEM (`tsmfs trust-anchor --guest sev-snp`).

omne-attest 0.1.0 cannot take a VLEK whole: its verify() runs verify_vcek_binding, which reads
the hwID extension (1.3.6.1.4.1.3704.1.4) a VLEK does not have. This script therefore also
runs verify() and requires exactly that refusal (MISSING_EXTENSION for the hwID OID), so a
later omne-attest that accepts VLEKs shows up as a failure here to revisit.
Exit 0 when the signature and chain verify and verify() refuses only for the hwID, 1 otherwise.
"""
import hashlib
import sys

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from omne_attest import Fail, Policy, verify
from omne_attest.snp import FailKind, Report, verify_chain
from snp_certificate_table import GUIDS, table

VLEK = GUIDS["vlek"]
HWID_OID = "1.3.6.1.4.1.3704.1.4"



def main(argv):
    if len(argv) != 5:
        print(__doc__, file=sys.stderr)
        return 2
    report, auxblob, chain, anchor = (open(path, "rb").read() for path in argv[1:])
    pin = hashlib.sha256(x509.load_pem_x509_certificate(anchor).public_bytes(Encoding.DER)).digest()
    asvk, ark = (c.public_bytes(Encoding.DER) for c in x509.load_pem_x509_certificates(chain))
    try:
        vlek = table(auxblob)[VLEK]
        Report.parse(report).verify_signature(vlek)
        verify_chain(vlek, asvk, ark, pin)
    except (Fail, KeyError) as failure:
        print(f"omne-attest: {failure!r}", file=sys.stderr)
        return 1
    try:
        verify(report, vlek, asvk, ark, pin, Policy(max_vmpl=3, reject_debug=True))
    except Fail as failure:
        if failure.kind == FailKind.MISSING_EXTENSION and failure.detail.get("oid") == HWID_OID:
            print(f"ok: signature and chain; verify() refuses the VLEK: {failure}")
            return 0
        print(f"omne-attest verify(): {failure!r}", file=sys.stderr)
        return 1
    print("omne-attest verify() accepted the VLEK whole: revisit check_vlek_with_omne_attest.py", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
