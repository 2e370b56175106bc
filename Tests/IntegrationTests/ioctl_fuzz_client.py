#!/usr/bin/env python3
"""Seeded ioctl fuzz of a guest's device files, from inside `tsmfs exec`.

usage: ioctl_fuzz_client.py SEED COUNT DEVICE...

For each of COUNT calls: a DEVICE, a request (one the guest drivers have, or one with its
number, type, size or direction changed), and an argument struct of random bytes whose pointer
fields are a real buffer of random size and content, 0, or a wild address. Every call must return
0 or fail with an errno (EINVAL, EFAULT, ENOTTY, EIO, ...); the device must still answer a good
request afterwards. Prints one JSON line: calls, the errnos seen, and `alive`.
"""
import ctypes
import errno
import json
import os
import random
import sys

SNP_GET_REPORT, SNP_GET_DERIVED_KEY, SNP_GET_EXT_REPORT = 0xC0205300, 0xC0205301, 0xC0205302
TDX_GET_REPORT0, TDX_EXTEND_RTMR, TDX_GET_QUOTE = 0xC4405401, 0x80315403, 0x80105404
KNOWN = [SNP_GET_REPORT, SNP_GET_DERIVED_KEY, SNP_GET_EXT_REPORT, TDX_GET_REPORT0, TDX_EXTEND_RTMR, TDX_GET_QUOTE]
LIBC = ctypes.CDLL(None, use_errno=True)
LIBC.ioctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_void_p]
WILD = [1, 0xFFFFFFFFFFFFF000, 0x1000, 0x7FFFFFFFFFFF, 0xDEADBEEF]


def ioctl(fd, cmd, address):
    """ioctl(2) with a pointer argument (fcntl.ioctl takes a C int); OSError on failure."""
    if LIBC.ioctl(fd, cmd, address) < 0:
        code = ctypes.get_errno()
        raise OSError(code, os.strerror(code))


def request(rng):
    cmd = rng.choice(KNOWN)
    if rng.random() < 0.5:
        part = rng.randrange(4)
        if part == 0:  # the number
            cmd = (cmd & ~0xFF) | rng.randrange(256)
        elif part == 1:  # the size (14 bits)
            cmd = (cmd & ~(0x3FFF << 16)) | (rng.choice([0, 1, 16, 32, 49, 1088, 4096, 0x3FFF]) << 16)
        elif part == 2:  # the direction
            cmd = (cmd & ~(0x3 << 30)) | (rng.randrange(4) << 30)
        else:  # the type
            cmd = (cmd & ~(0xFF << 8)) | (rng.choice([ord("S"), ord("T"), 0, 0xFF]) << 8)
    return cmd


def argument(rng, cmd, keep):
    """An argument buffer at least the request's size: random bytes, each of its first eight
    8-byte slots maybe a pointer to another buffer (with its length beside it), 0 or wild."""
    size = max(rng.choice([16, 32, 64, 1088, 4096]), (cmd >> 16) & 0x3FFF)
    raw = bytearray(rng.getrandbits(8) for _ in range(size))
    for slot in range(0, min(size, 64), 8):
        choice = rng.random()
        if choice < 0.4:
            length = rng.choice([0, 1, 24, 64, 96, 112, 1024, 4096, 8192, 16384, 0x20000])
            # Always room for what a driver may write there (a 4000-byte response, certificates
            # up to their limit, a quote buffer of its stated length): an overrun would corrupt
            # this process, on the kernel as here.
            inner = (ctypes.c_uint8 * (0x24000 + length))()
            for index in range(0, min(length, 64)):
                inner[index] = rng.getrandbits(8)
            if length >= 8 and rng.random() < 0.5:  # a GET_QUOTE header's version 1
                inner[0] = 1
            keep.append(inner)
            raw[slot:slot + 8] = ctypes.addressof(inner).to_bytes(8, "little")
            if slot + 16 <= size and rng.random() < 0.5:  # its length beside it
                raw[slot + 8:slot + 12] = length.to_bytes(4, "little")
        elif choice < 0.55:
            raw[slot:slot + 8] = bytes(8)
        elif choice < 0.7:
            raw[slot:slot + 8] = rng.choice(WILD).to_bytes(8, "little")
    buffer = (ctypes.c_uint8 * size).from_buffer_copy(bytes(raw))
    keep.append(buffer)
    return ctypes.addressof(buffer)


def alive(device):
    """A good request on `device` answers."""
    fd = os.open(device, os.O_RDWR)
    try:
        if device.endswith("sev-guest"):
            req, resp = (ctypes.c_uint8 * 96)(), (ctypes.c_uint8 * 4000)()
            arg = (ctypes.c_uint8 * 32).from_buffer_copy(
                bytes([1]) + bytes(7) + ctypes.addressof(req).to_bytes(8, "little")
                + ctypes.addressof(resp).to_bytes(8, "little") + bytes(8))
            ioctl(fd, SNP_GET_REPORT, ctypes.addressof(arg))
        else:
            arg = (ctypes.c_uint8 * 1088)()
            ioctl(fd, TDX_GET_REPORT0, ctypes.addressof(arg))
            if bytes(arg[64:68]) != bytes([0x81, 0, 0, 0]):
                return False
        return True
    except OSError:
        return False
    finally:
        os.close(fd)


def main():
    seed, count, devices = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3:]
    rng = random.Random(seed)
    errnos = {}
    calls = 0
    descriptors = {device: os.open(device, os.O_RDWR) for device in devices}
    for _ in range(count):
        device = rng.choice(devices)
        keep = []
        try:
            cmd = request(rng)
            ioctl(descriptors[device], cmd, argument(rng, cmd, keep))
            name = "0"
        except OSError as error:
            name = errno.errorcode.get(error.errno, str(error.errno))
        errnos[name] = errnos.get(name, 0) + 1
        calls += 1
    for fd in descriptors.values():
        os.close(fd)
    print(json.dumps({"calls": calls, "errnos": errnos, "alive": all(alive(d) for d in devices)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
