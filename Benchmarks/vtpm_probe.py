#!/usr/bin/env python3
"""One round of the vTPM bench line (Scripts/bench): TPM2_GetRandom(8) through a mount's
/dev/tpmrm0, the same command straight to a swtpm's Unix socket, and a write+read of a register
file on the same mount, COUNT of each on kept descriptors, in the order given by the round.

Usage: vtpm_probe.py SYSROOT SOCKET COUNT ROUND
Prints "vtpm.tpmrm NS", "vtpm.socket NS" and "vtpm.register NS" (ns per operation, tab-separated).
"""
import os
import socket
import struct
import sys
import time

GET_RANDOM = struct.pack(">HIIH", 0x8001, 12, 0x17B, 8)


def check(response):
    tag, size, rc = struct.unpack(">HII", response[:10])
    if rc != 0 or size != len(response):
        sys.exit(f"vtpm_probe: TPM2_GetRandom answered rc {rc:#x}, {len(response)} of {size} bytes")


def device(path, count):
    fd = os.open(path, os.O_RDWR)
    try:
        start = time.perf_counter_ns()
        for _ in range(count):
            os.write(fd, GET_RANDOM)
            check(os.read(fd, 4096))
        return (time.perf_counter_ns() - start) / count
    finally:
        os.close(fd)


def direct(path, count):
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.connect(path)
        start = time.perf_counter_ns()
        for _ in range(count):
            s.sendall(GET_RANDOM)
            response = s.recv(4096)
            while len(response) < 10 or len(response) < struct.unpack(">I", response[2:6])[0]:
                response += s.recv(4096)
            check(response)
        return (time.perf_counter_ns() - start) / count


def register(path, count):
    fd = os.open(path, os.O_RDWR)
    data = bytes(range(48))
    try:
        start = time.perf_counter_ns()
        for _ in range(count):
            os.pwrite(fd, data, 0)
            if len(os.pread(fd, 48, 0)) != 48:
                sys.exit("vtpm_probe: a short register read")
        return (time.perf_counter_ns() - start) / count
    finally:
        os.close(fd)


def main():
    root, sock, count, round_number = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    runs = {
        "tpmrm": lambda: device(root + "/dev/tpmrm0", count),
        "socket": lambda: direct(sock, count),
        "register": lambda: register(root + "/sys/kernel/tsm/tdx/rtmr3/digest", count),
    }
    order = ["tpmrm", "socket", "register"]
    order = order[round_number % 3:] + order[:round_number % 3]
    for name in order:
        print(f"vtpm.{name}\t{runs[name]()}")


main()
