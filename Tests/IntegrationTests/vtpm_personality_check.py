#!/usr/bin/env python3
"""Checks what tpm2-tools read from a cloud vTPM personality under `tsmfs exec` (VTPMPersonalityTests).

    vtpm_personality_check.py hcl REPORT KDS_URL [USER_DATA_HEX]
        The Azure HCL report: header `HCLA`, the SNP report in the 1184-byte slot with VMPL 0,
        REPORTED_TCB = COMMITTED_TCB, REPORT_DATA[0:32] = SHA-256(claims) and zeros after, its
        signature verified with the VCEK the KDS at KDS_URL serves for the report's chip and
        REPORTED_TCB; the claims' user-data when given. Prints the AK (HCLAkPub) as PEM.
    vtpm_personality_check.py template TEMPLATE
        A raw TPMT_PUBLIC AK template (GCE's 0x01c10001): prints the tpm2_createprimary options that
        make it (algorithm, name algorithm, attributes); refuses what those options cannot say.
    vtpm_personality_check.py svsm OUTBLOB MANIFEST NONCE_FILE
        An SVSM attestation: VMPL 0, REPORT_DATA = SHA-512(nonce || manifest).

Exit 0 when all holds, 1 with the difference on stderr.
"""
import base64
import hashlib
import json
import struct
import sys
import urllib.request

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature


def fail(message):
    print(message, file=sys.stderr)
    sys.exit(1)


def number(text):
    return int.from_bytes(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)), "big")


def verify_snp(report, kds):
    tcb = report[0x180:0x188]
    if report[0x1E0:0x1E8] != tcb:
        fail(f"REPORTED_TCB {tcb.hex()} is not COMMITTED_TCB {report[0x1E0:0x1E8].hex()}")
    chip = report[0x1A0:0x1E0].hex()
    url = f"{kds}/vcek/v1/Milan/{chip}?blSPL={tcb[0]:02}&teeSPL={tcb[1]:02}&snpSPL={tcb[6]:02}&ucodeSPL={tcb[7]:02}"
    with urllib.request.urlopen(url, timeout=10) as response:
        vcek = x509.load_der_x509_certificate(response.read())
    r = int.from_bytes(report[0x2A0:0x2A0 + 72], "little")
    s = int.from_bytes(report[0x2A0 + 72:0x2A0 + 144], "little")
    vcek.public_key().verify(encode_dss_signature(r, s), report[:0x2A0], ec.ECDSA(hashes.SHA384()))
    if struct.unpack_from("<I", report, 0x30)[0] != 0:
        fail("VMPL is not 0")


def hcl(path, kds, user_data=None):
    data = open(path, "rb").read()
    if data[:4] != b"HCLA":
        fail(f"no HCLA header: {data[:4]!r}")
    report = data[32:32 + 1184]
    claims_size = struct.unpack_from("<I", data, 32 + 1184 + 16)[0]
    claims = data[32 + 1184 + 20:32 + 1184 + 20 + claims_size]
    verify_snp(report, kds)
    if report[0x50:0x90] != hashlib.sha256(claims).digest() + bytes(32):
        fail("REPORT_DATA is not SHA-256(claims) then zeros")
    parsed = json.loads(claims)
    if user_data is not None and parsed.get("user-data", "").lower() != user_data.lower():
        fail(f"user-data {parsed.get('user-data')} is not {user_data}")
    ak = next(key for key in parsed["keys"] if key["kid"] == "HCLAkPub")
    key = rsa.RSAPublicNumbers(number(ak["e"]), number(ak["n"])).public_key()
    print(key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode(),
          end="")


ATTRIBUTES = {1: "fixedtpm", 4: "fixedparent", 5: "sensitivedataorigin", 6: "userwithauth", 16: "restricted",
              17: "decrypt", 18: "sign"}
HASHES = {0x000B: "sha256", 0x000C: "sha384"}


def template(path):
    data = open(path, "rb").read()
    kind, name_alg, attributes, policy_size = struct.unpack_from(">HHIH", data, 0)
    if kind != 0x0001 or policy_size != 0:
        fail(f"not an RSA template without a policy: type {kind:#x}, policy {policy_size} bytes")
    symmetric, scheme, scheme_hash, bits, exponent, unique = struct.unpack_from(">HHHHIH", data, 10)
    if symmetric != 0x0010 or scheme != 0x0014 or exponent != 0 or unique != 0 or len(data) != 24:
        fail(f"a template these options cannot say: {data.hex()}")
    names = [name for bit, name in ATTRIBUTES.items() if attributes & (1 << bit)]
    if sum(1 << bit for bit, name in ATTRIBUTES.items() if name in names) != attributes:
        fail(f"attributes {attributes:#x} have bits without a name here")
    print(f"-G rsa{bits}:rsassa-{HASHES[scheme_hash]}:null -g {HASHES[name_alg]} -a {'|'.join(names)}")


def svsm(outblob, manifest, nonce):
    report, manifest, nonce = (open(path, "rb").read() for path in (outblob, manifest, nonce))
    if struct.unpack_from("<I", report, 0x30)[0] != 0:
        fail("VMPL is not 0")
    if report[0x50:0x90] != hashlib.sha512(nonce + manifest).digest():
        fail("REPORT_DATA is not SHA-512(nonce || manifest)")
    print("ok")


if __name__ == "__main__":
    commands = {"hcl": hcl, "template": template, "svsm": svsm}
    if len(sys.argv) < 3 or sys.argv[1] not in commands:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    commands[sys.argv[1]](*sys.argv[2:])
