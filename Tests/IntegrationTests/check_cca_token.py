#!/usr/bin/env python3
"""An independent check of a CCA attestation token, written from the specifications (Arm RMM 1.0
DEN0137 A7.2, RFC 9052/9053 COSE, draft-ffm-rats-cca-token), not from tsmfs's Swift code.

    check_cca_token.py TOKEN CPAK.pem

Accepts the RMM 1.0 collection (tag 399) and the CMW collection (tag 907, records [263, bstr]).
Verifies the realm token's ES384 signature with the RAK COSE_Key it carries, the platform
challenge = hash(RAK COSE_Key bytes) with the 44240 algorithm, and the platform token's ES384
signature with the CPAK public key (PEM). Prints the claims as JSON (bytes as hex); exits 1 with
the reason on stderr if any check fails. Needs cbor2 (pinned in Scripts/test) and cryptography.
"""
import hashlib
import json
import sys

import cbor2
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, utils

ES384 = -35
# RMM 1.0's realm hash algorithms and the size of the RIM and REMs each gives.
REALM_DIGEST_SIZES = {"sha-256": 32, "sha-512": 64}
HASHES = {"sha-256": hashlib.sha256, "sha-384": hashlib.sha384, "sha-512": hashlib.sha512}


def fail(reason):
    print("check_cca_token: " + reason, file=sys.stderr)
    sys.exit(1)


def untag(item, number, what):
    if not isinstance(item, cbor2.CBORTag) or item.tag != number:
        fail(f"{what}: expected CBOR tag {number}")
    return item.value


def cose_sign1(data, what):
    """COSE_Sign1_Tagged: 18([protected bstr, unprotected map, payload bstr, signature bstr])."""
    msg = untag(cbor2.loads(data), 18, what)
    if not isinstance(msg, (list, tuple)) or len(msg) != 4:
        fail(f"{what}: COSE_Sign1 is not an array of 4")
    protected, unprotected, payload, signature = msg
    if not all(isinstance(x, bytes) for x in (protected, payload, signature)) or not isinstance(unprotected, dict):
        fail(f"{what}: COSE_Sign1 member types")
    header = cbor2.loads(protected) if protected else {}
    if not isinstance(header, dict):
        fail(f"{what}: the protected header is not a map")
    if map_length(protected) != len(header):
        fail(f"{what}: the protected header has a key twice (RFC 9052 section 3)")
    if set(header) & set(unprotected):
        fail(f"{what}: a label is in both the protected and unprotected header")
    if 2 in unprotected:
        fail(f"{what}: crit (2) is in the unprotected header")
    if 2 in header:
        crit = header[2]
        if not isinstance(crit, (list, tuple)) or not crit:
            fail(f"{what}: crit (2) is not a non-empty array")
        # This checker processes alg (1) only; RFC 9052 3.1: refuse a critical label not understood.
        if any(label != 1 for label in crit):
            fail(f"{what}: crit (2) names a label this checker does not process")
    if header.get(1) != ES384:
        fail(f"{what}: protected header alg is not ES384 (-35)")
    return protected, payload, signature


def map_length(encoded):
    """The number of pairs a definite-length CBOR map's head declares (0 for an empty bstr)."""
    if not encoded:
        return 0
    head, info = encoded[0] >> 5, encoded[0] & 0x1F
    if head != 5 or info > 27:
        fail("the protected header is not a definite-length map")
    if info < 24:
        return info
    return int.from_bytes(encoded[1:1 + (1 << (info - 24))], "big")


def verify_es384(key, protected, payload, signature, what):
    if len(signature) != 96:
        fail(f"{what}: ES384 signature is {len(signature)} bytes, not 96 (r||s)")
    to_be_signed = cbor2.dumps(["Signature1", protected, b"", payload])
    der = utils.encode_dss_signature(int.from_bytes(signature[:48], "big"), int.from_bytes(signature[48:], "big"))
    try:
        key.verify(der, to_be_signed, ec.ECDSA(hashes.SHA384()))
    except InvalidSignature:
        fail(f"{what}: signature does not verify")


def rak_from_cose_key(data):
    key = cbor2.loads(data)
    if key.get(1) != 2 or key.get(-1) != 2:
        fail("realm public key: not an EC2 P-384 COSE_Key")
    x, y = key.get(-2), key.get(-3)
    if not (isinstance(x, bytes) and isinstance(y, bytes) and len(x) == 48 and len(y) == 48):
        fail("realm public key: x and y must be 48 bytes")
    return ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP384R1(), b"\x04" + x + y)


def want(claims, key, kind, what, sizes=None):
    value = claims.get(key)
    if not isinstance(value, kind) or (sizes is not None and len(value) not in sizes):
        fail(f"{what} ({key}) missing or of the wrong type or size")
    return value


def main():
    if len(sys.argv) != 3:
        fail("usage: check_cca_token.py TOKEN CPAK.pem")
    with open(sys.argv[1], "rb") as f:
        token = f.read()
    with open(sys.argv[2], "rb") as f:
        try:
            cpak = serialization.load_pem_public_key(f.read())
        except ValueError as error:
            fail(f"{sys.argv[2]}: not a PEM public key: {error}")
    top = cbor2.loads(token)
    if isinstance(top, cbor2.CBORTag) and top.tag == 907:
        # CMW collection: each entry a CMW record [content-format 263, bstr].
        collection = {}
        for key, record in top.value.items():
            if not isinstance(record, (list, tuple)) or len(record) != 2 or record[0] != 263:
                fail("CCA token: CMW record is not [263, bstr]")
            collection[key] = record[1]
    else:
        collection = untag(top, 399, "CCA token")
    if set(collection) != {44234, 44241}:
        fail("CCA token: collection keys are not {44234, 44241}")

    r_prot, r_payload, r_sig = cose_sign1(collection[44241], "realm token")
    realm = cbor2.loads(r_payload)
    if want(realm, 265, str, "realm profile") != "tag:arm.com,2023:realm#1.0.0":
        fail("realm profile is not tag:arm.com,2023:realm#1.0.0")
    challenge = want(realm, 10, bytes, "realm challenge", {64})
    rpv = want(realm, 44235, bytes, "personalization value", {64})
    hash_alg = want(realm, 44236, str, "realm hash algorithm")
    rak_bytes = want(realm, 44237, bytes, "realm public key")
    rak_hash_alg = want(realm, 44240, str, "realm public key hash algorithm")
    rim = want(realm, 44238, bytes, "RIM", {32, 48, 64})
    if REALM_DIGEST_SIZES.get(hash_alg) != len(rim):
        fail(f"realm hash algorithm {hash_alg!r} is not sha-256 or sha-512 with a RIM of its size ({len(rim)} bytes)")
    rems = want(realm, 44239, (list, tuple), "REMs")
    if len(rems) != 4 or not all(isinstance(r, bytes) and len(r) == len(rim) for r in rems):
        fail("REMs: not 4 byte strings of the RIM's size")
    verify_es384(rak_from_cose_key(rak_bytes), r_prot, r_payload, r_sig, "realm token")

    p_prot, p_payload, p_sig = cose_sign1(collection[44234], "platform token")
    platform = cbor2.loads(p_payload)
    if rak_hash_alg not in HASHES:
        fail(f"unknown RAK hash algorithm {rak_hash_alg}")
    p_challenge = want(platform, 10, bytes, "platform challenge", {32, 48, 64})
    if p_challenge != HASHES[rak_hash_alg](rak_bytes).digest():
        fail("platform challenge is not the hash of the RAK COSE_Key")
    instance = want(platform, 256, bytes, "instance ID", {33})
    if instance[0] != 0x01:
        fail("instance ID does not start with 0x01")
    components = want(platform, 2399, (list, tuple), "software components")
    for c in components:
        want(c, 2, bytes, "sw component measurement", {32, 48, 64})
        want(c, 5, bytes, "sw component signer ID", {32, 48, 64})
    verify_es384(cpak, p_prot, p_payload, p_sig, "platform token")

    print(json.dumps({
        "collection_tag": top.tag,
        "realm_challenge": challenge.hex(), "personalization_value": rpv.hex(), "realm_hash_algorithm": hash_alg,
        "rak": rak_bytes.hex(), "rim": rim.hex(), "rems": [r.hex() for r in rems],
        "platform_profile": want(platform, 265, str, "platform profile"), "platform_challenge": p_challenge.hex(),
        "implementation_id": want(platform, 2396, bytes, "implementation ID", {32}).hex(), "instance_id": instance.hex(),
        "lifecycle": want(platform, 2395, int, "lifecycle"), "sw_components": len(components),
        "platform_hash_algorithm": want(platform, 2402, str, "platform hash algorithm"),
    }, indent=1))


if __name__ == "__main__":
    try:
        main()
    except (ValueError, TypeError, KeyError, AttributeError, IndexError, cbor2.CBORDecodeError) as error:
        fail(f"malformed token: {error!r}")
