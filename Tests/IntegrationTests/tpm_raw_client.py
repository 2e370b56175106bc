#!/usr/bin/env python3
"""Raw TPM 2.0 commands through /dev/tpm0 and /dev/tpmrm0, as a client of the kernel's devices
would send them (one write, one read), for what tpm2-tools cannot show: two open files at once.

Usage: tpm_raw_client.py isolation | busy | rules | getrandom DEVICE | kill-swtpm PATH
       | reboot-space ROOT CTL...
Prints one JSON object; exits 0 when it could run (the test judges the values).
"""
import errno
import json
import os
import select
import struct
import subprocess
import sys

TPM_RH_OWNER, TPM_RS_PW, TPM_RH_NULL = 0x40000001, 0x40000009, 0x40000007


def command(tag, code, body):
    return struct.pack(">HII", tag, 10 + len(body), code) + body


def transact(fd, cmd):
    os.write(fd, cmd)
    response = os.read(fd, 4096)
    tag, size, rc = struct.unpack(">HII", response[:10])
    return rc, response[10:size]


def create_primary(fd):
    """TPM2_CreatePrimary of an ECC P-256 storage key in the owner hierarchy (password session)."""
    auth = struct.pack(">IHBH", TPM_RS_PW, 0, 0, 0)
    sensitive = struct.pack(">HHH", 4, 0, 0)
    # TPMT_PUBLIC: ECC, SHA-256, fixedTPM|fixedParent|sensitiveDataOrigin|userWithAuth|restricted|decrypt,
    # no policy, AES-128-CFB, no scheme, NIST P-256, no KDF, empty unique point.
    public = struct.pack(">HHIH", 0x0023, 0x000B, 0x00030072, 0) + struct.pack(
        ">HHHHHHHH", 0x0006, 128, 0x0043, 0x0010, 0x0003, 0x0010, 0, 0)
    body = (struct.pack(">I", TPM_RH_OWNER) + struct.pack(">I", len(auth)) + auth + sensitive
            + struct.pack(">H", len(public)) + public + struct.pack(">HI", 0, 0))
    rc, rest = transact(fd, command(0x8002, 0x131, body))
    return rc, (struct.unpack(">I", rest[:4])[0] if rc == 0 else None)


def start_session(fd):
    """TPM2_StartAuthSession: an unbound, unsalted HMAC session with SHA-256."""
    body = struct.pack(">IIH", TPM_RH_NULL, TPM_RH_NULL, 16) + bytes(range(16)) + struct.pack(
        ">HBHH", 0, 0x00, 0x0010, 0x000B)
    rc, rest = transact(fd, command(0x8001, 0x176, body))
    return rc, (struct.unpack(">I", rest[:4])[0] if rc == 0 else None)


def handles(fd, first):
    """TPM2_GetCapability(TPM_CAP_HANDLES) from `first`, the handles of that type."""
    rc, rest = transact(fd, command(0x8001, 0x17A, struct.pack(">III", 1, first, 64)))
    if rc != 0:
        return None
    count = struct.unpack(">I", rest[5:9])[0]
    found = [struct.unpack(">I", rest[9 + 4 * i:13 + 4 * i])[0] for i in range(count)]
    # Sessions come back under their own type (an HMAC session's 0x02 among the saved ones, 0x03).
    kinds = {0x02, 0x03} if first >> 24 in (0x02, 0x03) else {first >> 24}
    return [h for h in found if h >> 24 in kinds]


def sessions_at_tpm():
    """Loaded and saved sessions the TPM holds, asked through /dev/tpm0."""
    fd = os.open("/dev/tpm0", os.O_RDWR)
    try:
        return sorted(set((handles(fd, 0x02000000) or []) + (handles(fd, 0x03000000) or [])))
    finally:
        os.close(fd)


def isolation():
    result = {}
    a = os.open("/dev/tpmrm0", os.O_RDWR)
    b = os.open("/dev/tpmrm0", os.O_RDWR)
    result["a_create"], handle_a = create_primary(a)
    result["b_sees_before"] = handles(b, 0x80000000)
    result["b_create"], handle_b = create_primary(b)
    result["a_sees"] = handles(a, 0x80000000)
    result["b_sees"] = handles(b, 0x80000000)
    result["a_handle"], result["b_handle"] = handle_a, handle_b
    result["sessions_before"] = len(sessions_at_tpm())
    result["a_session"], _ = start_session(a)
    result["sessions_open"] = len(sessions_at_tpm())
    os.close(a)
    # /dev/tpm0's open waits for the closed file's release: its session is flushed by then.
    result["sessions_after_close"] = len(sessions_at_tpm())
    result["b_sees_after"] = handles(b, 0x80000000)
    os.close(b)
    return result


def busy():
    first = os.open("/dev/tpm0", os.O_RDWR)
    try:
        os.open("/dev/tpm0", os.O_RDWR)
        second = "opened"
    except OSError as error:
        second = errno.errorcode.get(error.errno, str(error.errno))
    os.close(first)
    again = os.open("/dev/tpm0", os.O_RDWR)
    os.close(again)
    return {"second_open": second, "reopen": "ok"}


def attempt(body):
    try:
        return body()
    except OSError as error:
        return errno.errorcode.get(error.errno, str(error.errno))


def rules():
    """tpm-dev-common.c's answers through the files: sizes, EBUSY, partial reads, the offset."""
    get_random = command(0x8001, 0x17B, struct.pack(">H", 8))
    fd = os.open("/dev/tpmrm0", os.O_RDWR)
    result = {"read_nothing": len(os.read(fd, 4096))}
    result["write_4097"] = attempt(lambda: os.write(fd, get_random + bytes(4097 - len(get_random))))
    result["write_5"] = attempt(lambda: os.write(fd, get_random[:5]))
    result["write_short_of_size"] = attempt(lambda: os.write(fd, get_random[:11]))
    result["write"] = os.write(fd, get_random)
    result["second_write"] = attempt(lambda: os.write(fd, get_random))
    head = os.read(fd, 10)
    rest = os.read(fd, 4096)
    result["parts"] = [len(head), len(rest)]
    result["size_in_header"] = struct.unpack(">I", head[2:6])[0]
    result["read_after"] = len(os.read(fd, 4096))
    result["pread"] = attempt(lambda: os.pread(fd, 10, 0))
    os.close(fd)
    # /dev/tpm0 ignores the offset: a pread at 1000 reads the response from its start.
    fd = os.open("/dev/tpm0", os.O_RDWR)
    os.pwrite(fd, get_random, 777)
    result["tpm0_pread_1000"] = len(os.pread(fd, 4096, 1000))
    os.close(fd)
    # O_NONBLOCK as tpm2-tss opens: the command has run when poll reports POLLIN.
    fd = os.open("/dev/tpmrm0", os.O_RDWR | os.O_NONBLOCK)
    os.write(fd, get_random)
    poller = select.poll()
    poller.register(fd, select.POLLIN)
    result["poll"] = [event for _, event in poller.poll(1000)]
    result["nonblocking_read"] = len(os.read(fd, 4096))
    os.close(fd)
    return result


def getrandom(device):
    fd = os.open(device, os.O_RDWR)
    try:
        rc, rest = transact(fd, command(0x8001, 0x17B, struct.pack(">H", 8)))
        return {"rc": rc, "bytes": len(rest) - 2}
    except OSError as error:
        return {"errno": errno.errorcode.get(error.errno, str(error.errno))}
    finally:
        os.close(fd)


def kill_swtpm(path):
    """SIGKILL to the swtpm processes whose arguments name `path` (this test's state directory)."""
    killed = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                argv = f.read().split(b"\0")
        except OSError:
            continue
        if os.path.basename(argv[0]) == b"swtpm" and any(path.encode() in arg for arg in argv):
            os.kill(int(pid), 9)
            killed.append(int(pid))
    return {"killed": killed}


def reboot_space(root, ctl):
    """Two /dev/tpmrm0 files of the sysroot at ROOT open across a reboot (CTL: the command that
    reboots), one holding an object, one a session; then each file's next two commands, and a
    file opened after."""
    get_random = command(0x8001, 0x17B, struct.pack(">H", 8))
    objects = os.open(root + "/dev/tpmrm0", os.O_RDWR)
    sessions = os.open(root + "/dev/tpmrm0", os.O_RDWR)
    result = {"create": create_primary(objects)[0], "session": start_session(sessions)[0]}
    result["reboot"] = subprocess.run(ctl, stdout=subprocess.DEVNULL).returncode
    result["objects_after"] = [attempt(lambda: transact(objects, get_random)[0]) for _ in range(2)]
    result["sessions_after"] = [attempt(lambda: transact(sessions, get_random)[0]) for _ in range(2)]
    fresh = os.open(root + "/dev/tpmrm0", os.O_RDWR)
    result["fresh"] = create_primary(fresh)[0]
    for fd in (objects, sessions, fresh):
        os.close(fd)
    return result


if __name__ == "__main__":
    what = sys.argv[1]
    commands = {
        "isolation": isolation, "busy": busy, "rules": rules, "kill-swtpm": lambda: kill_swtpm(sys.argv[2]),
        "reboot-space": lambda: reboot_space(sys.argv[2], sys.argv[3:]),
    }
    out = commands.get(what, lambda: getrandom(sys.argv[2]))()
    print(json.dumps(out))
