#!/usr/bin/env python3
"""The stale-read probe of Scripts/bench: extends through one face, reads through every other.

Usage: stale_probe.py SYSROOT [EXTENDS]

SYSROOT is a `tsmfs mount --sysroot DIR --guest tdx` mount. The probe extends tdx's rtmr2
EXTENDS times [1000], alternating between the RFC v2 file (sys/kernel/tsm/tdx/rtmr2/digest) and
the 6.16 file (.../measurements/rtmr2:sha384). After each write returned it reads rtmr2 through
both files, report0 (which shows rtmr2 at 816..863) and rtmr3 (live, unchanged), each on a fresh
open and on a descriptor kept open since the start, while a second process reads all four in a
loop. Every read is compared with SHA-384 computed here. Prints, one "KEY<TAB>VALUE" a line:
stale.extends, stale.reads (reads checked) and stale.stale (reads that disagreed; target 0).
Exits 1 when the probe itself broke (a failed write or read, the concurrent reader died).
Only the standard library: the bench must not need pip.
"""
import hashlib
import os
import sys


def comparable(value):
    """report0 without TEE_INFO_HASH (80..127) and the MAC (224..255): they cover RTMR2, whose
    bytes at 816 are compared, and the MAC's key is the daemon's own."""
    if len(value) != 1024:
        return value
    return value[:80] + bytes(48) + value[128:224] + bytes(32) + value[256:]


def read_all(path):
    fd = os.open(path, os.O_RDONLY)
    try:
        return os.pread(fd, 4096, 0)
    finally:
        os.close(fd)


def concurrent_reader(paths):
    """The child: reads every face until killed."""
    while True:
        for path in paths:
            read_all(path)


def main():
    if len(sys.argv) not in (2, 3):
        sys.exit(__doc__)
    root = sys.argv[1]
    extends = int(sys.argv[2]) if len(sys.argv) == 3 else 1000
    tdx = os.path.join(root, "sys/kernel/tsm/tdx")
    rfc = os.path.join(tdx, "rtmr2/digest")
    merged = os.path.join(root, "sys/devices/virtual/misc/tdx_guest/measurements/rtmr2:sha384")
    report0 = os.path.join(tdx, "report0")
    other = os.path.join(tdx, "rtmr3/digest")
    faces = [rfc, merged, report0, other]

    value = read_all(rfc)
    baseline = read_all(report0)
    other_value = read_all(other)
    if len(value) != 48 or len(baseline) != 1024:
        sys.exit(f"stale_probe: unexpected sizes {len(value)}, {len(baseline)}: not a tdx sysroot?")
    kept = [os.open(path, os.O_RDONLY) for path in faces]
    child = os.fork()
    if child == 0:
        try:
            concurrent_reader(faces)
        finally:
            os._exit(1)
    reads = stale = 0
    try:
        for i in range(extends):
            data = bytes([i & 0xFF, (i >> 8) & 0xFF]) + bytes([0xA5]) * 46
            fd = os.open(rfc if i % 2 == 0 else merged, os.O_WRONLY)
            try:
                if os.write(fd, data) != 48:
                    sys.exit(f"stale_probe: extend {i} was short")
            finally:
                os.close(fd)
            value = hashlib.sha384(value + data).digest()
            report = baseline[:816] + value + baseline[864:]
            wants = [value, value, report, other_value]
            for path, want, fd in zip(faces, wants, kept):
                for got in (read_all(path), os.pread(fd, 4096, 0)):
                    reads += 1
                    stale += comparable(got) != comparable(want)
        pid, status = os.waitpid(child, os.WNOHANG)
        if pid != 0:
            sys.exit(f"stale_probe: the concurrent reader died (status {status})")
    finally:
        for fd in kept:
            os.close(fd)
        try:
            os.kill(child, 9)
            os.waitpid(child, 0)
        except (ProcessLookupError, ChildProcessError):
            pass
    print(f"stale.extends\t{extends}\nstale.reads\t{reads}\nstale.stale\t{stale}")


if __name__ == "__main__":
    main()
