#!/usr/bin/env python3
"""Intel's cctrusted-vm SDK, unmodified, as a TDX guest would run it: initialise, read the
measurements, fetch and replay the event log, and get a report through configfs-tsm.

Prints one JSON object: count, rtmrs (hex, from the TDREPORT via /dev/tdx_guest), replayed
(IMR index -> hex), report (hex outblob), provider, expected_reportdata (SHA-512(nonce || data),
as the SDK computes it). Exits 77 when cctrusted cannot be imported, 1 when the SDK fails.
"""
import base64
import hashlib
import json
import logging
import sys

logging.disable(logging.CRITICAL)
try:
    from cctrusted_vm.sdk import CCTrustedVmSdk
except ImportError as error:  # pragma: no cover
    print(f"cctrusted-vm not importable: {error}", file=sys.stderr)
    sys.exit(77)

SHA384 = 0x000C


def main():
    sdk = CCTrustedVmSdk.inst()
    if sdk is None:
        print("CCTrustedVmSdk.inst() failed", file=sys.stderr)
        return 1
    count = sdk.get_measurement_count()
    rtmrs = []
    for index in range(count):
        imr = sdk.get_cc_measurement([index, SHA384])
        rtmrs.append(bytes(imr.digest(SHA384).hash).hex())
    events = sdk.get_cc_eventlog()
    replay = CCTrustedVmSdk.replay_cc_eventlog(events)
    replayed = {str(index): bytes(values[SHA384]).hex() for index, values in replay.items() if SHA384 in values}
    nonce, data = bytes(range(64)), b"tsmfs ci"
    # The SDK takes both base64-encoded and hashes them into REPORTDATA.
    report = sdk.get_cc_report(base64.b64encode(nonce), base64.b64encode(data), None)
    if report is None:
        print("get_cc_report returned nothing", file=sys.stderr)
        return 1
    print(json.dumps({
        "count": count,
        "rtmrs": rtmrs,
        "events": len(events),
        "replayed": replayed,
        "report": bytes(report.data).hex(),
        "expected_reportdata": hashlib.sha512(nonce + data).hexdigest(),
    }))
    return 0


sys.exit(main())
