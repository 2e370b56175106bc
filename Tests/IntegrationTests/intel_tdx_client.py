#!/usr/bin/env python3
"""Clients of Intel's out-of-tree TDX guest driver ioctls on /dev/tdx_guest (--tdx-driver intel).

usage: intel_tdx_client.py pytdxmeasure DIGEST_FILE
       intel_tdx_client.py cctrusted QUOTE_OUT
       intel_tdx_client.py configfs REPORTDATA_HEX QUOTE_OUT
       intel_tdx_client.py probe DEVICE STALE_QUOTE_OUT

pytdxmeasure: pytdxmeasure 0.0.9, unmodified, reads a TD report, extends RTMR2 through
TDX_CMD_EXTEND_RTMR (0x80315403) and reads the report again; prints before, after, the RFC v2
DIGEST_FILE and the value expected (SHA-384(before || data)).
cctrusted: cctrusted-vm 0.5.0, unmodified, gets a quote (through TDX_CMD_GET_QUOTE when there is no
configfs-tsm), writes it to QUOTE_OUT; prints whether configfs-tsm exists and the REPORTDATA expected.
configfs: a configfs-tsm quote of REPORTDATA_HEX, written to QUOTE_OUT.
probe: the ioctls asked directly, well and badly framed; prints each answer (errno, status, ...),
the TDREPORT taken before an extend, the offsets whose one changed byte GET_QUOTE still quoted, and
writes the quote of that earlier TDREPORT to STALE_QUOTE_OUT.
Every mode prints one JSON line; exits 77 when a package is missing.
"""
import base64
import ctypes
import errno
import fcntl
import hashlib
import json
import logging
import os
import struct
import sys

logging.disable(logging.CRITICAL)

GET_REPORT0 = 0xC4405401
EXTEND_RTMR = 0x80315403
GET_QUOTE = 0x80105404
UNKNOWN = 0x80105402  # _IOR('T', 2, 16 bytes): no such request in either driver


def pytdxmeasure(digest_file):
    try:
        from pytdxmeasure.rtmr import RTMR
        from pytdxmeasure.tdreport import TdReport
    except ImportError as error:
        print(f"pytdxmeasure not importable: {error}", file=sys.stderr)
        return 77
    before = bytes(TdReport.get_td_report().td_info.rtmr_2)
    data = hashlib.sha384(b"tsmfs intel driver").hexdigest()
    result = RTMR.extend_rtmr(None, None, data, 2)
    after = bytes(TdReport.get_td_report().td_info.rtmr_2)
    with open(digest_file, "rb") as file:
        digest = file.read()
    print(json.dumps({
        "result": result, "before": before.hex(), "after": after.hex(), "digest": digest.hex(),
        "expected": hashlib.sha384(before + bytes.fromhex(data)).hexdigest(),
    }))
    return 0


def cctrusted(out):
    try:
        from cctrusted_vm.sdk import CCTrustedVmSdk
    except ImportError as error:
        print(f"cctrusted-vm not importable: {error}", file=sys.stderr)
        return 77
    sdk = CCTrustedVmSdk.inst()
    if sdk is None:
        print("CCTrustedVmSdk.inst() failed", file=sys.stderr)
        return 1
    nonce, data = bytes(range(64)), b"tsmfs intel driver"
    quote = sdk.get_cc_report(base64.b64encode(nonce), base64.b64encode(data), None)
    if quote is None:
        print("get_cc_report returned nothing", file=sys.stderr)
        return 1
    with open(out, "wb") as file:
        file.write(bytes(quote.data))
    print(json.dumps({
        "configfs": os.path.exists("/sys/kernel/config/tsm/report"),
        "expected_reportdata": hashlib.sha512(nonce + data).hexdigest(),
    }))
    return 0


def configfs(report_data, out):
    entry = "/sys/kernel/config/tsm/report/intel-driver-test"
    os.mkdir(entry)
    try:
        with open(entry + "/inblob", "wb") as file:
            file.write(bytes.fromhex(report_data))
        with open(entry + "/outblob", "rb") as file:
            quote = file.read()
    finally:
        os.rmdir(entry)
    with open(out, "wb") as file:
        file.write(quote)
    print(json.dumps({"size": len(quote)}))
    return 0


def call(fd, command, argument):
    """ioctl(2)'s errno (0 on success)."""
    try:
        fcntl.ioctl(fd, command, argument)
        return 0
    except OSError as error:
        return error.errno


def quote_request(tdreport, version=1, prefix=None, length=16384):
    """A tdx_quote_hdr buffer as cctrusted-vm frames it; returns (buffer, the 16-byte request)."""
    message = struct.pack("<2H5I", 1, 0, 0, 24 + len(tdreport), 0, len(tdreport), 0) + tdreport
    data = (len(message) if prefix is None else prefix).to_bytes(4, "big") + message
    buffer = ctypes.create_string_buffer(length)
    header = struct.pack("<QQII", version, 0, len(data), 0) + data
    buffer[:len(header)] = header
    return buffer, struct.pack("QQ", ctypes.addressof(buffer), length)


def answer(buffer):
    """status, out_len, the length prefix, and the QGS response's error_code and quote size."""
    raw = buffer.raw
    _, status, _, out_len = struct.unpack_from("<QQII", raw)
    prefix = int.from_bytes(raw[24:28], "big")
    _, _, msg_type, size, error_code, _, quote_size = struct.unpack_from("<2H5I", raw, 28)
    return {"status": status, "out_len": out_len, "prefix": prefix, "type": msg_type, "size": size,
            "error_code": error_code, "quote_size": quote_size}


def probe(device, stale_out):
    fd = os.open(device, os.O_RDWR)
    result = {}
    request = bytearray(64 + 1024)
    request[:64] = bytes(range(64))
    result["report0"] = call(fd, GET_REPORT0, request)
    tdreport = bytes(request[64:])
    for index in (0, 1, 4, 3):
        result[f"extend{index}"] = call(fd, EXTEND_RTMR, struct.pack("@48sB", b"\x01" * 48, index))
    result["extend_unmapped"] = call(fd, EXTEND_RTMR, 0x10)
    result["unknown"] = call(fd, UNKNOWN, struct.pack("QQ", 0, 0))
    result["quote_len0"] = call(fd, GET_QUOTE, struct.pack("QQ", 0x10, 0))
    result["quote_unmapped"] = call(fd, GET_QUOTE, struct.pack("QQ", 0x10, 4096))
    result["quote_too_long"] = call(fd, GET_QUOTE, struct.pack("QQ", 0x10, 256 * 1024))
    buffer, req = quote_request(tdreport, version=2)
    result["quote_version2"] = call(fd, GET_QUOTE, req)
    buffer, req = quote_request(tdreport, prefix=9)
    result["quote_bad_prefix"] = [call(fd, GET_QUOTE, req), answer(buffer)]
    buffer, req = quote_request(bytes(1024))
    result["quote_forged"] = [call(fd, GET_QUOTE, req), answer(buffer)]
    # A report made before the extend above: its MAC checks, so the QE quotes it, old RTMR3 and all.
    buffer, req = quote_request(tdreport)
    result["quote_stale"] = [call(fd, GET_QUOTE, req), answer(buffer)]
    stale = answer(buffer)
    with open(stale_out, "wb") as file:
        file.write(buffer.raw[52:52 + stale["quote_size"]])
    result["tdreport"] = tdreport.hex()
    # One byte changed anywhere the MAC (0..223) or a hash (TEE_TCB_INFO 256..494, TDINFO 512..1023)
    # covers, or in the MAC itself: each refused with QGS_MSG_ERROR_UNEXPECTED.
    quoted = []
    for offset in list(range(0, 495)) + list(range(512, 1024)):
        changed = bytearray(tdreport)
        changed[offset] ^= 0x01
        buffer, req = quote_request(bytes(changed))
        if call(fd, GET_QUOTE, req) != 0 or answer(buffer)["error_code"] != 0x12001:
            quoted.append(offset)
    result["tampered_quoted"] = quoted
    request = bytearray(64 + 1024)
    request[:64] = bytes(range(64))
    call(fd, GET_REPORT0, request)
    buffer, req = quote_request(bytes(request[64:]))
    result["quote"] = [call(fd, GET_QUOTE, req), answer(buffer)]
    small, req = quote_request(bytes(request[64:]), length=2048)
    result["quote_small"] = [call(fd, GET_QUOTE, req), answer(small)]
    os.close(fd)
    print(json.dumps(result))
    return 0


def main():
    mode = sys.argv[1]
    if mode == "pytdxmeasure":
        return pytdxmeasure(sys.argv[2])
    if mode == "cctrusted":
        return cctrusted(sys.argv[2])
    if mode == "configfs":
        return configfs(sys.argv[2], sys.argv[3])
    if mode == "probe":
        return probe(sys.argv[2], sys.argv[3])
    print(f"unknown mode {mode}", file=sys.stderr)
    return 2


sys.stdout.flush()
sys.exit(main())
