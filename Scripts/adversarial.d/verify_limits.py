"""verify_limits.py SECONDS [GUEST...]: mutated evidence of each guest fed to the real `tsmfs verify`
($TSMFS_BIN), each run under a 200 MiB address-space limit (RLIMIT_AS, as `prlimit --as=209715200`)
and a 2 s deadline, for SECONDS per guest. The inputs mutated: tdx the quote and the collateral,
sev-snp the report and the auxblob, cca the token and the trust anchor (the CPAK PEM); the others stay
valid. Counts inputs, refusals (exit 1 with a message) and acceptances (exit 0, whose output must be
the unmutated evidence's), and reports the slowest input and the largest peak RSS (the child's
ru_maxrss). Fails on a signal, a timeout, another exit status, an acceptance that vouches for other
claims, or a refusal without a message. Called by `Scripts/fuzz verify-limits [SECONDS]`; needs root
for `tsmfs exec`, which makes the valid evidence.
"""
import os
import random
import signal
import subprocess
import sys
import tempfile
import time

import fixtures

DEADLINE = fixtures.VERIFY_SECONDS


def mutate(data, rng):
    """One to three of: a bit flipped, a byte set, a u32 set to an extreme, a cut, random bytes
    appended, a slice repeated (as VerifyFuzzTests does)."""
    data = bytearray(data)
    for _ in range(rng.randint(1, 3)):
        if not data:
            break
        at = rng.randrange(len(data))
        kind = rng.randrange(6)
        if kind == 0:
            data[at] ^= 1 << rng.randrange(8)
        elif kind == 1:
            data[at] = rng.randrange(256)
        elif kind == 2:
            value = rng.choice([0xFFFFFFFF, 0, 0x7FFFFFFF, 0x80000000, len(data), 1 << 20])
            for index in range(4):
                if at + index < len(data):
                    data[at + index] = (value >> (8 * index)) & 0xFF
        elif kind == 3:
            del data[at:]
        elif kind == 4:
            data += bytes(rng.randrange(256) for _ in range(rng.randrange(64)))
        else:
            end = min(len(data), at + rng.randrange(256))
            data[at:at] = data[at:end]
    return bytes(data)


def run(binary, arguments, work):
    """(status, -signal or "timeout"; seconds; peak RSS in bytes, the child's own ru_maxrss from wait4;
    stdout; stderr) of one limited `tsmfs verify`."""
    with open(os.path.join(work, "out"), "w+b") as out, open(os.path.join(work, "err"), "w+b") as err:
        started = time.monotonic()
        process = subprocess.Popen([binary, "verify", *arguments], stdin=subprocess.DEVNULL, stdout=out, stderr=err,
                                   preexec_fn=fixtures.limit_address_space)
        while True:
            pid, status, usage = os.wait4(process.pid, os.WNOHANG)
            elapsed = time.monotonic() - started
            if pid:
                break
            if elapsed > DEADLINE:
                process.kill()
                os.wait4(process.pid, 0)
                process.returncode = 0  # reaped here: Popen must not wait again
                return "timeout", elapsed, 0, b"", b""
            time.sleep(0.002)
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return process.returncode, elapsed, usage.ru_maxrss * 1024, out.read(), err.read()


def main():
    binary = os.environ["TSMFS_BIN"]
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 60
    guests = sys.argv[2:] or ["tdx", "sev-snp", "cca"]
    failures = []
    with tempfile.TemporaryDirectory(prefix="tsmfs-verify-limits.") as work:
        env = fixtures.Env(binary, work, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
        evidence = env.evidence()
        collateral = os.path.join(work, "collateral.json")
        with open(collateral, "w") as file:
            file.write(env.tsmfs("collateral").out)
        layouts = {  # guest: (inputs by name, the arguments with NAME for each input's path)
            "tdx": ({"evidence": evidence["tdx"][0], "collateral": collateral},
                    ["EVIDENCE", "--guest", "tdx", "--collateral", "COLLATERAL"]),
            "sev-snp": ({"evidence": evidence["sev-snp"][0], "auxblob": evidence["sev-snp"][1]},
                        ["EVIDENCE", "--guest", "sev-snp", "--auxblob", "AUXBLOB"]),
            "cca": ({"evidence": evidence["cca"][0], "anchor": os.path.join(work, "cca.pem")},
                    ["EVIDENCE", "--guest", "cca", "--trust-anchor", "ANCHOR"]),
        }
        rng = random.Random(int(os.environ.get("TSMFS_FUZZ_SEED", "24")))
        for guest in guests:
            inputs, template = layouts[guest]
            originals = {name: open(path, "rb").read() for name, path in inputs.items()}
            valid = run(binary, [inputs.get(a.lower(), a) for a in template], work)
            if valid[0] != 0:
                failures.append(f"{guest}: the valid evidence is refused: {valid[4].decode(errors='replace')}")
                continue
            counts = {"inputs": 0, "refused": 0, "accepted": 0}
            slowest, peak = 0.0, 0
            deadline = time.monotonic() + seconds
            while time.monotonic() < deadline:
                name = rng.choice(list(originals))
                path = os.path.join(work, f"mutated.{name}")
                with open(path, "wb") as file:
                    file.write(mutate(originals[name], rng))
                paths = {**inputs, name: path}
                status, elapsed, rss, out, err = run(binary, [paths.get(a.lower(), a) for a in template], work)
                counts["inputs"] += 1
                slowest, peak = max(slowest, elapsed), max(peak, rss)
                kept = os.path.join(work, "..", f"tsmfs-verify-limits.{guest}.{name}.{counts['inputs']}")
                if status == 1 and err.strip():
                    counts["refused"] += 1
                    continue
                if status == 0 and out == valid[3]:
                    counts["accepted"] += 1
                    continue
                what = {"timeout": f"took more than {DEADLINE} s"}.get(status, f"status {status}")
                if isinstance(status, int) and status < 0:
                    what = f"died by signal {-status} ({signal.Signals(-status).name})"
                elif status == 0:
                    what = "accepted with other claims than the valid evidence's"
                os.replace(path, kept)
                failures.append(f"{guest} {name}: {what}; input kept as {os.path.abspath(kept)}: "
                                f"{err.decode(errors='replace').strip()[:300]}")
            print(f"verify-limits: {guest}: {counts['inputs']} inputs in {seconds:.0f} s, {counts['refused']} "
                  f"refused, {counts['accepted']} accepted; slowest {slowest:.2f} s; peak RSS "
                  f"{peak / 1e6:.1f} MB (limits: {DEADLINE} s, address space {fixtures.VERIFY_BYTES} bytes)",
                  flush=True)
        env.close()
    for failure in failures:
        print(f"verify-limits: FAILED {failure}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
