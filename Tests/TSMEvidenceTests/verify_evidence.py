#!/usr/bin/env python3
"""An independent verifier of tsmfs evidence, written from the formats alone (ABI.md 4.6) with
only the `cryptography` package (38 or later, Debian 12's python3-cryptography), so that the
Swift encoder and verifier are not checked only against each other.

    verify_evidence.py tdx QUOTE ROOT_PEM
    verify_evidence.py sev-snp REPORT AUXBLOB ARK_PEM

Exit 0 when every check passes; otherwise exit 1 with the failed check on stderr.
"""
import hashlib
import struct
import sys
import uuid

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from cryptography.hazmat.primitives.serialization import Encoding


class Failure(Exception):
    pass


def take(data, offset, count, what):
    if offset + count > len(data):
        raise Failure(f"truncated: {what} needs {count} bytes at {offset}, have {len(data) - offset}")
    return data[offset:offset + count], offset + count


def verify_raw(public_key, r, s, message, hash_algorithm, check):
    try:
        public_key.verify(encode_dss_signature(r, s), message, ec.ECDSA(hash_algorithm))
    except InvalidSignature:
        raise Failure(f"{check}: does not verify")


def verify_chain(leaf, intermediate, root, anchor_pem, check):
    anchor = x509.load_pem_x509_certificate(anchor_pem)
    if root.public_bytes(Encoding.DER) != anchor.public_bytes(Encoding.DER):
        raise Failure(f"{check}: the root is not the trust anchor")
    for child, parent, name in [(intermediate, root, "intermediate"), (leaf, intermediate, "leaf")]:
        if child.issuer != parent.subject:
            raise Failure(f"{check}: the {name}'s issuer is not its parent's subject")
        try:
            parent.public_key().verify(child.signature, child.tbs_certificate_bytes,
                                       ec.ECDSA(child.signature_hash_algorithm))
        except InvalidSignature:
            raise Failure(f"{check}: the {name} is not signed by its parent")
        constraints = parent.extensions.get_extension_for_class(x509.BasicConstraints).value
        if not constraints.ca:
            raise Failure(f"{check}: an issuer is not a CA")


def verify_tdx(quote, anchor_pem):
    if len(quote) < 0x3FC:
        raise Failure(f"truncated quote: {len(quote)} bytes")
    version, key_type, tee_type = struct.unpack_from("<HHI", quote, 0)
    if (version, key_type, tee_type) != (4, 2, 0x81):
        raise Failure(f"malformed quote: version {version}, key type {key_type}, TEE type {tee_type:#x}")
    (signature_data_length,) = struct.unpack_from("<I", quote, 632)
    if 636 + signature_data_length != len(quote):
        raise Failure("malformed quote: signature data length")
    offset = 636
    signature, offset = take(quote, offset, 64, "signature")
    attestation_key, offset = take(quote, offset, 64, "attestation key")
    header, offset = take(quote, offset, 6, "certification data header")
    certification_type, certification_size = struct.unpack("<HI", header)
    if certification_type != 6 or offset + certification_size != len(quote):
        raise Failure("malformed quote: certification data type 6")
    qe_report, offset = take(quote, offset, 384, "QE report")
    qe_signature, offset = take(quote, offset, 64, "QE report signature")
    size, offset = take(quote, offset, 2, "QE auth data size")
    auth_data, offset = take(quote, offset, struct.unpack("<H", size)[0], "QE auth data")
    header, offset = take(quote, offset, 6, "PCK chain header")
    chain_type, chain_size = struct.unpack("<HI", header)
    if chain_type != 5:
        raise Failure("malformed quote: nested certification data type 5")
    chain_pem, offset = take(quote, offset, chain_size, "PCK chain")

    end = b"-----END CERTIFICATE-----"
    blocks = [block + end for block in chain_pem.rstrip(b"\0").split(end) if block.strip()]
    try:
        certificates = [x509.load_pem_x509_certificate(block) for block in blocks]
    except ValueError as error:
        raise Failure(f"PCK chain: {error}")
    if len(certificates) != 3:
        raise Failure(f"PCK chain: {len(certificates)} certificates")
    leaf, intermediate, root = certificates
    verify_chain(leaf, intermediate, root, anchor_pem, "PCK chain")

    verify_raw(leaf.public_key(), int.from_bytes(qe_signature[:32], "big"), int.from_bytes(qe_signature[32:], "big"),
               qe_report, hashes.SHA256(), "QE report signature")
    if qe_report[320:384] != hashlib.sha256(attestation_key + auth_data).digest() + bytes(32):
        raise Failure("QE report data does not bind the attestation key")
    key = ec.EllipticCurvePublicNumbers(int.from_bytes(attestation_key[:32], "big"),
                                        int.from_bytes(attestation_key[32:], "big"), ec.SECP256R1()).public_key()
    verify_raw(key, int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big"),
               quote[:632], hashes.SHA256(), "attestation key signature")


GUIDS = {
    "vcek": uuid.UUID("63da758d-e664-4564-adc5-f4b93be8accd").bytes,
    "ask": uuid.UUID("4ab7b379-bbac-4fe4-a02f-05aef327c782").bytes,
    "ark": uuid.UUID("c0b406a4-a803-4952-9743-3fb6014cd0ae").bytes,
}


def certificate_table(auxblob):
    entries, offset = {}, 0
    while True:
        entry, offset = take(auxblob, offset, 24, "certificate table entry")
        guid, start, length = entry[:16], *struct.unpack("<II", entry[16:])
        if guid == bytes(16) and start == 0 and length == 0:
            return entries
        entries[guid], _ = take(auxblob, start, length, "certificate")


def verify_snp(report, auxblob, anchor_pem):
    if len(report) != 0x4A0:
        raise Failure(f"malformed report: {len(report)} bytes")
    if struct.unpack_from("<I", report, 0x34)[0] != 1:
        raise Failure("malformed report: signature algorithm")
    table = certificate_table(auxblob)
    try:
        vcek, ask, ark = (x509.load_der_x509_certificate(table[GUIDS[name]]) for name in ("vcek", "ask", "ark"))
    except KeyError:
        raise Failure("VCEK chain: a certificate is missing from the table")
    verify_chain(vcek, ask, ark, anchor_pem, "VCEK chain")
    r = int.from_bytes(report[0x2A0:0x2A0 + 72], "little")
    s = int.from_bytes(report[0x2A0 + 72:0x2A0 + 144], "little")
    verify_raw(vcek.public_key(), r, s, report[:0x2A0], hashes.SHA384(), "report signature")


def main(argv):
    def read(path):
        with open(path, "rb") as file:
            return file.read()
    try:
        if len(argv) == 4 and argv[1] == "tdx":
            verify_tdx(read(argv[2]), read(argv[3]))
        elif len(argv) == 5 and argv[1] == "sev-snp":
            verify_snp(read(argv[2]), read(argv[3]), read(argv[4]))
        else:
            print(__doc__, file=sys.stderr)
            return 2
    except Failure as failure:
        print(failure, file=sys.stderr)
        return 1
    print("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
