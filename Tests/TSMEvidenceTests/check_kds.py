#!/usr/bin/env python3
"""Fetches a report's VCEK and the chain from a KDS as AMD's clients do (snpguest's URL: lowercase
hex CHIP_ID, SPLs of REPORTED_TCB zero-padded to two digits) and checks they are the certificates
of the report's auxblob; an unknown chip must get 404.

    check_kds.py REPORT AUXBLOB BASE_URL        (BASE_URL like http://127.0.0.1:8082)

Exit 0 when all holds, 1 with the difference on stderr.
"""
import sys
import urllib.error
import urllib.request

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from snp_certificate_table import GUIDS, table




def get(url):
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def main(argv):
    if len(argv) != 4:
        print(__doc__, file=sys.stderr)
        return 2
    report, auxblob = (open(path, "rb").read() for path in argv[1:3])
    base = argv[3].rstrip("/")
    certificates = table(auxblob)
    tcb = report[0x180:0x188]
    chip = report[0x1A0:0x1E0].hex()
    url = f"{base}/vcek/v1/Milan/{chip}?blSPL={tcb[0]:02}&teeSPL={tcb[1]:02}&snpSPL={tcb[6]:02}&ucodeSPL={tcb[7]:02}"
    status, vcek = get(url)
    if status != 200 or vcek != certificates[GUIDS["vcek"]]:
        print(f"KDS VCEK ({status}) is not the auxblob's", file=sys.stderr)
        return 1
    status, chain = get(f"{base}/vcek/v1/Milan/cert_chain")
    ders = [certificate.public_bytes(Encoding.DER) for certificate in x509.load_pem_x509_certificates(chain)]
    if status != 200 or ders != [certificates[GUIDS["ask"]], certificates[GUIDS["ark"]]]:
        print(f"KDS cert_chain ({status}) is not the auxblob's ASK then ARK", file=sys.stderr)
        return 1
    status, _ = get(f"{base}/vcek/v1/Milan/{'ab' * 64}?blSPL=1")
    if status != 404:
        print(f"an unknown chip got {status}, not 404", file=sys.stderr)
        return 1
    print("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
