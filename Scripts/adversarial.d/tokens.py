"""Forged evidence for the adversarial rows: a CCA token re-signed with keys of our own (our CPAK is
then the trust anchor, as issue 24 item 7 has it), SEV-SNP certificate tables and TDX quotes reshaped."""
import hashlib
import struct

import cbor2
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

ES384 = cbor2.dumps({1: -35})


def _sign(key, protected, payload):
    to_be_signed = cbor2.dumps(["Signature1", protected, b"", payload])
    r, s = decode_dss_signature(key.sign(to_be_signed, ec.ECDSA(hashes.SHA384())))
    return r.to_bytes(48, "big") + s.to_bytes(48, "big")


def _cose_key(key):
    numbers = key.public_key().public_numbers()
    return cbor2.dumps({1: 2, -1: 2, -2: numbers.x.to_bytes(48, "big"), -3: numbers.y.to_bytes(48, "big")})


def cca_token(valid_token, realm_protected=ES384, realm_claims=None):
    """`valid_token` (tag 399) with the realm token's protected header and claims replaced, re-signed:
    a fresh RAK signs the realm token, the platform challenge binds it, a fresh CPAK signs the
    platform token. Returns (token bytes, the CPAK public key PEM)."""
    outer = cbor2.loads(valid_token)
    platform = cbor2.loads(outer.value[44234]).value if isinstance(outer.value[44234], bytes) \
        else outer.value[44234].value
    realm = cbor2.loads(outer.value[44241]).value if isinstance(outer.value[44241], bytes) \
        else outer.value[44241].value
    rak, cpak = ec.generate_private_key(ec.SECP384R1()), ec.generate_private_key(ec.SECP384R1())
    claims = cbor2.loads(realm[2])
    claims[44237] = _cose_key(rak)
    claims.update(realm_claims or {})
    realm_payload = cbor2.dumps(claims)
    realm_token = cbor2.CBORTag(18, [realm_protected, {}, realm_payload, _sign(rak, realm_protected, realm_payload)])
    platform_claims = cbor2.loads(platform[2])
    platform_claims[10] = hashlib.sha256(claims[44237]).digest()
    platform_payload = cbor2.dumps(platform_claims)
    platform_token = cbor2.CBORTag(18, [ES384, {}, platform_payload, _sign(cpak, ES384, platform_payload)])
    token = cbor2.dumps(cbor2.CBORTag(399, {44234: cbor2.dumps(platform_token), 44241: cbor2.dumps(realm_token)}))
    anchor = cpak.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    return token, anchor


def snp_table(valid_auxblob, entries, region):
    """A certificate table of `entries` rows (GUID, offset, length) over a `region` of bytes, the
    GUIDs taken as distinct so that only the offsets and lengths are at fault."""
    header = 24 * (len(entries) + 1)
    rows = b"".join(struct.pack("<16sII", guid, header + offset, length) for guid, offset, length in entries)
    return rows + b"\0" * 24 + region


def guid(index):
    return struct.pack("<I", index) + bytes(12)


def tdx_quote_with_chain(valid_quote, chain):
    """A v4 quote whose PCK chain (certification data type 5) is `chain`, every size fixed up."""
    quote = bytearray(valid_quote)
    signature_at = 48 + 584  # header, TD report body: then the signature data's u32 size
    qe_certification_at = signature_at + 4 + 128  # signature, attestation key: then type 6 and its size
    auth_at = qe_certification_at + 6 + 384 + 64
    auth_size = struct.unpack_from("<H", quote, auth_at)[0]
    chain_at = auth_at + 2 + auth_size  # type 5, u32 size, the PEM
    quote[chain_at + 2:] = struct.pack("<I", len(chain)) + chain
    struct.pack_into("<I", quote, qe_certification_at + 2, len(quote) - (qe_certification_at + 6))
    struct.pack_into("<I", quote, signature_at, len(quote) - (signature_at + 4))
    return bytes(quote)


def pck_chain(valid_quote):
    """The quote's PCK chain (PEM), as tdx_quote_with_chain finds it."""
    start = valid_quote.find(b"-----BEGIN CERTIFICATE-----")
    return valid_quote[start:]
