#!/usr/bin/env python3
"""An independent verifier of tsmfs evidence, written from the formats alone (ABI.md 4.6) with
only the `cryptography` package (38 or later, Debian 12's python3-cryptography), so that the
Swift encoder and verifier are not checked only against each other. SEV-SNP follows AMD's
documents: the ARK -> ASK -> VCEK chain signed with RSASSA-PSS SHA-384 (salt 48), the VCEK's
extensions (hwID, SPLs, productName) against the report (SEV-SNP ABI, VCEK certificate spec).

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
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
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
    """The GHCB certificate table; refuses a repeated GUID and entries that overlap or point into
    the table, so no byte is read twice."""
    entries, spans, offset = {}, [], 0
    while True:
        entry, offset = take(auxblob, offset, 24, "certificate table entry")
        guid, start, length = entry[:16], *struct.unpack("<II", entry[16:])
        if guid == bytes(16) and start == 0 and length == 0:
            break
        if guid in entries:
            raise Failure("malformed certificate table: a GUID appears twice")
        entries[guid], _ = take(auxblob, start, length, "certificate")
        spans.append((start, length))
    spans = sorted(span for span in spans if span[1] > 0)
    if spans and spans[0][0] < offset:
        raise Failure("malformed certificate table: an entry points inside the table")
    if any(a[0] + a[1] > b[0] for a, b in zip(spans, spans[1:])):
        raise Failure("malformed certificate table: two entries overlap")
    return entries


AMD_OID = "1.3.6.1.4.1.3704.1."
MILAN_NAMES = {"Milan-B0": 0, "Milan-B1": 1}


def der_integer(value, what):
    """A DER INTEGER 0-255 as AMD's VCEK extensions hold the SPLs: 02 01 xx, or 02 02 00 xx for xx >= 0x80."""
    if len(value) == 3 and value[:2] == b"\x02\x01" and value[2] < 0x80:
        return value[2]
    if len(value) == 4 and value[:3] == b"\x02\x02\x00" and value[3] >= 0x80:
        return value[3]
    raise Failure(f"VCEK binding: {what} is not a DER INTEGER 0-255: {value.hex()}")


def extension(certificate, arc, what):
    try:
        return certificate.extensions.get_extension_for_oid(x509.ObjectIdentifier(AMD_OID + arc)).value.value
    except x509.ExtensionNotFound:
        raise Failure(f"VCEK binding: the VCEK has no {what} extension ({AMD_OID}{arc})")


def verify_amd_chain(vcek, ask, ark, anchor_pem):
    """AMD's chain: ARK self-signed, ASK by ARK, VCEK by ASK, each RSASSA-PSS SHA-384, MGF1-SHA-384,
    salt 48 (SEV-SNP ABI / KDS spec); the ARK is the pinned anchor (same DER, so same SHA-256)."""
    anchor = x509.load_pem_x509_certificate(anchor_pem)
    if ark.public_bytes(Encoding.DER) != anchor.public_bytes(Encoding.DER):
        pin = hashlib.sha256(ark.public_bytes(Encoding.DER)).hexdigest()
        raise Failure(f"VCEK chain: the ARK (SHA-256 {pin}) is not the trust anchor")
    for child, parent, name in [(ark, ark, "ARK"), (ask, ark, "ASK"), (vcek, ask, "VCEK")]:
        if child.issuer != parent.subject:
            raise Failure(f"VCEK chain: the {name}'s issuer is not its issuer's subject")
        if child.signature_algorithm_oid != x509.oid.SignatureAlgorithmOID.RSASSA_PSS:
            raise Failure(f"VCEK chain: the {name} is not signed with RSASSA-PSS")
        key = parent.public_key()
        if not isinstance(key, rsa.RSAPublicKey) or key.key_size != 4096:
            raise Failure(f"VCEK chain: the {name}'s issuer key is not RSA-4096")
        try:
            key.verify(child.signature, child.tbs_certificate_bytes,
                       padding.PSS(mgf=padding.MGF1(hashes.SHA384()), salt_length=48), hashes.SHA384())
        except InvalidSignature:
            raise Failure(f"VCEK chain: the {name} is not signed by its issuer")
    for certificate, name in [(ark, "ARK"), (ask, "ASK")]:
        if not certificate.extensions.get_extension_for_class(x509.BasicConstraints).value.ca:
            raise Failure(f"VCEK chain: the {name} is not a CA")
    key = vcek.public_key()
    if not isinstance(key, ec.EllipticCurvePublicKey) or key.curve.name != "secp384r1":
        raise Failure("VCEK chain: the VCEK key is not P-384")
    names = [attribute.value for attribute in ark.subject.get_attributes_for_oid(x509.oid.NameOID.COMMON_NAME)]
    if names != ["ARK-Milan"] or vcek.subject.get_attributes_for_oid(x509.oid.NameOID.COMMON_NAME)[0].value != "SEV-VCEK":
        raise Failure("VCEK chain: the common names are not AMD's (ARK-Milan, SEV-VCEK)")


def check_report_fields(report):
    """ATTESTATION_REPORT fields (SEV-SNP ABI 1.55, version 3): reserved bytes zero, Milan CPUID."""
    version, = struct.unpack_from("<I", report, 0)
    if not 2 <= version <= 5:
        raise Failure(f"malformed report: version {version}")
    if struct.unpack_from("<I", report, 0x34)[0] != 1:
        raise Failure("malformed report: signature algorithm")
    signer_info, = struct.unpack_from("<I", report, 0x48)
    if (signer_info >> 2) & 7 != 0 or signer_info >> 5:
        raise Failure(f"malformed report: signer info {signer_info:#x} (expected a VCEK signature)")
    reserved = [(0x4C, 0x50), (0x18B if version >= 3 else 0x188, 0x1A0), (0x1EB, 0x1EC), (0x1EF, 0x1F0),
                (0x1F8 if version < 5 else 0x208, 0x2A0), (0x2A0 + 144, 0x4A0)]
    for start, end in reserved:
        if any(report[start:end]):
            raise Failure(f"malformed report: reserved bytes {start:#x}..{end:#x} are not zero")
    if version >= 3 and (report[0x188] != 0x19 or report[0x189] > 0x0F):
        raise Failure(f"malformed report: CPUID family {report[0x188]:#x} model {report[0x189]:#x} is not Milan")
    return version


def check_vcek_binding(report, vcek, version):
    """The VCEK's AMD extensions against the report: hwID (raw 64 bytes) = CHIP_ID, the SPLs =
    REPORTED_TCB (Milan layout: boot loader byte 0, TEE 1, SNP 6, microcode 7)."""
    hw_id = extension(vcek, "4", "hwID")
    if hw_id != report[0x1A0:0x1E0]:
        raise Failure("VCEK binding: CHIP_ID is not the VCEK's hwID")
    tcb = report[0x180:0x188]
    for arc, index, name in [("3.1", 0, "boot loader"), ("3.2", 1, "TEE"), ("3.3", 6, "SNP"), ("3.8", 7, "microcode")]:
        if der_integer(extension(vcek, arc, f"{name} SPL"), name) != tcb[index]:
            raise Failure(f"VCEK binding: REPORTED_TCB's {name} SPL is not the VCEK's")
    for arc in ["3.4", "3.5", "3.6", "3.7"]:
        der_integer(extension(vcek, arc, f"SPL {arc}"), f"SPL {arc}")
    if der_integer(extension(vcek, "1", "structVersion"), "structVersion") != 0:
        raise Failure("VCEK binding: structVersion is not 0")
    product = extension(vcek, "2", "productName")
    if product[:1] != b"\x16" or product[1] != len(product) - 2 or product[2:].decode() not in MILAN_NAMES:
        raise Failure(f"VCEK binding: productName {product!r} is not a Milan IA5String")
    if version >= 3 and MILAN_NAMES[product[2:].decode()] != report[0x18A]:
        raise Failure("VCEK binding: productName's stepping is not the report's CPUID_STEP")


def verify_snp(report, auxblob, anchor_pem):
    if len(report) != 0x4A0:
        raise Failure(f"malformed report: {len(report)} bytes")
    version = check_report_fields(report)
    table = certificate_table(auxblob)
    try:
        vcek, ask, ark = (x509.load_der_x509_certificate(table[GUIDS[name]]) for name in ("vcek", "ask", "ark"))
    except KeyError:
        raise Failure("VCEK chain: a certificate is missing from the table")
    verify_amd_chain(vcek, ask, ark, anchor_pem)
    r = int.from_bytes(report[0x2A0:0x2A0 + 72], "little")
    s = int.from_bytes(report[0x2A0 + 72:0x2A0 + 144], "little")
    verify_raw(vcek.public_key(), r, s, report[:0x2A0], hashes.SHA384(), "report signature")
    check_vcek_binding(report, vcek, version)


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
