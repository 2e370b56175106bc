"""cvm-attest 1.0.0 (PyPI), as its README calls it, under `tsmfs exec --guest sev-snp`.

Usage: cvm_attest_client.py KDS_URL. Collects SEV-SNP evidence with `attest_vm` (configfs-tsm
first, /dev/sev-guest as its fallback), its VCEK and chain fetched from KDS_URL (`tsmfs kds`)
through the module constant `cvm_attest.snp.verify.AMD_KDS_BASE`; then the same evidence with
one measurement byte flipped, which must fail. Prints one JSON object.
"""

import dataclasses
import json
import logging
import os
import sys

import cvm_attest.snp.verify as snp_verify
from cvm_attest import TeeType, attest_vm

logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
snp_verify.AMD_KDS_BASE = sys.argv[1]
nonce = bytes((i * 5 + 1) & 0xFF for i in range(64))

result = attest_vm(tee_type=TeeType.SNP, nonce=nonce)
evidence = result.evidence
tampered = bytearray(evidence.raw_quote)
tampered[0x90] ^= 1  # MEASUREMENT's first byte, under the signature
flipped = snp_verify.verify_evidence(dataclasses.replace(evidence, raw_quote=bytes(tampered)), result.tee_info)

print(
    json.dumps(
        {
            "status": result.status.value,
            "signature": result.report_signature_valid,
            "chain": result.cert_chain_valid,
            "errors": result.errors,
            "warnings": result.warnings,
            "device": evidence.aux_data.get("device"),
            "vmpl": evidence.aux_data.get("vmpl"),
            "report_data_matches": result.parsed_report.get("report_data") == nonce.hex(),
            "configfs": os.path.exists("/sys/kernel/config/tsm/report"),
            "tampered_signature": flipped.report_signature_valid,
            "tampered_status": flipped.status.value,
        }
    )
)
