#!/usr/bin/env python3
"""Checks a KDS CRL with python `cryptography`: it parses as a DER X.509 CRL
(x509.load_der_x509_crl), its issuer is the ARK's subject, its signature verifies with the ARK's
key as RSASSA-PSS SHA-384 / MGF1-SHA-384 / salt 48 (as AMD signs), and it is current.

    check_amd_crl.py CRL_DER ARK_PEM [OUT]

Writes the revoked serial numbers, lowercase hex one a line, to OUT (or stdout) and exits 0;
1 with the failure on stderr.
"""
import datetime
import sys

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding


def main(argv):
    if len(argv) not in (3, 4):
        print(__doc__, file=sys.stderr)
        return 2
    der, anchor = (open(path, "rb").read() for path in argv[1:3])
    try:
        crl = x509.load_der_x509_crl(der)
    except ValueError as error:
        print(f"not a DER X.509 CRL: {error}", file=sys.stderr)
        return 1
    ark = x509.load_pem_x509_certificate(anchor)
    if crl.issuer != ark.subject:
        print(f"issuer {crl.issuer.rfc4514_string()} is not the ARK", file=sys.stderr)
        return 1
    try:
        ark.public_key().verify(
            crl.signature, crl.tbs_certlist_bytes,
            padding.PSS(mgf=padding.MGF1(hashes.SHA384()), salt_length=48), hashes.SHA384())
    except InvalidSignature:
        print("the CRL's signature does not verify with the ARK's key", file=sys.stderr)
        return 1
    now = datetime.datetime.now(datetime.timezone.utc)
    if not crl.last_update_utc <= now < crl.next_update_utc:
        print(f"not current: {crl.last_update_utc} to {crl.next_update_utc}", file=sys.stderr)
        return 1
    lines = "".join(format(revoked.serial_number, "x") + "\n" for revoked in crl)
    if len(argv) == 4:
        with open(argv[3], "w") as out:
            out.write(lines)
    else:
        sys.stdout.write(lines)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
