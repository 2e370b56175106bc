"""What the adversarial rows share: running tsmfs, mounting, services, each guest's valid evidence."""
import os
import re
import resource
import select
import signal
import socket
import subprocess
import time

# `tsmfs verify`'s budget per input (issue 24's acceptance): 2 s and 200 MB of address space.
VERIFY_SECONDS = 2
VERIFY_BYTES = 209_715_200  # 200 MiB


def limit_address_space():
    resource.setrlimit(resource.RLIMIT_AS, (VERIFY_BYTES, VERIFY_BYTES))


class Result:
    def __init__(self, status, out, err):
        self.status, self.out, self.err = status, out, err
        self.text = out + err

    def __repr__(self):
        return f"status {self.status}: {self.text.strip()[:600]!r}"


def expect(condition, message):
    if not condition:
        raise AssertionError(message)


class Env:
    def __init__(self, binary, work, root):
        self.binary, self.work, self.root = binary, work, root
        self.probe = os.path.join(root, "Tests", "IntegrationTests", "service_probe.py")
        self._evidence = None
        self.processes = []

    def tsmfs(self, *arguments, env=None, timeout=60, limited=False, stdin=subprocess.DEVNULL):
        """Runs tsmfs to its end; `limited`: under verify's 200 MB address space."""
        process = subprocess.run(
            [self.binary, *arguments], stdin=stdin, capture_output=True, timeout=timeout,
            env={**os.environ, **(env or {})}, preexec_fn=limit_address_space if limited else None)
        return Result(process.returncode, process.stdout.decode(errors="replace"),
                      process.stderr.decode(errors="replace"))

    def verify(self, *arguments):
        """`tsmfs verify ...` within 2 s and 200 MB; a signal or the timeout fails the case."""
        try:
            r = self.tsmfs("verify", *arguments, timeout=VERIFY_SECONDS, limited=True)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"verify {' '.join(arguments)} took more than {VERIFY_SECONDS} s")
        expect(r.status >= 0, f"verify died by signal {-r.status}: {r}")
        return r

    def start(self, *arguments, env=None, prefix=(), piped=False):
        """Starts tsmfs in the background (its output in log files; `piped`: stdout is the pipe
        `process.stdout`); stopped by `stop` or at the end."""
        index = len(self.processes)
        out, log = (open(os.path.join(self.work, f"{kind}.{index}"), "w+b") for kind in ["stdout", "log"])
        process = subprocess.Popen([*prefix, self.binary, *arguments], stdin=subprocess.DEVNULL,
                                   stdout=subprocess.PIPE if piped else out, stderr=log,
                                   env={**os.environ, **(env or {})})
        process.out, process.log = out, log
        self.processes.append(process)
        return process

    @staticmethod
    def output(process, stream="log"):
        """What the process wrote to stderr (or `stream` "out": stdout) so far."""
        file = process.out if stream == "out" else process.log
        file.flush()
        file.seek(0)
        return file.read().decode(errors="replace")

    @staticmethod
    def stop(process, sig=signal.SIGTERM):
        if process.poll() is None:
            process.send_signal(sig)
        try:
            return process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            return process.wait()

    def mount(self, mountpoint, *arguments, env=None):
        """`tsmfs mount MOUNTPOINT ARGS`, returned once it says READY=1 on its $NOTIFY_SOCKET (an
        abstract one here): readiness observed, never polled for."""
        os.makedirs(mountpoint, exist_ok=True)
        notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        name = f"tsmfs-adversarial.{os.getpid()}.{len(self.processes)}"
        notify.bind("\0" + name)
        with notify:
            process = self.start("mount", mountpoint, *arguments, env={**(env or {}), "NOTIFY_SOCKET": "@" + name})
            state = ""
            while "READY=1" not in state.split("\n") and self.readable(notify, process, "the mount"):
                state = notify.recv(4096).decode(errors="replace")
        expect(os.path.ismount(mountpoint), f"the mount never came up: {self.output(process)}")
        return process

    def service(self, name, *arguments, prefix=()):
        """`tsmfs pccs|kds --listen 127.0.0.1:0 ARGS`; returns (process, port) once it says where it
        listens (its ready line, read from its stdout pipe)."""
        process = self.start(name, "--listen", "127.0.0.1:0", *arguments, prefix=prefix, piped=True)
        line = ""
        if self.readable(process.stdout, process, f"{name}'s ready line"):
            line = process.stdout.readline().decode(errors="replace")
        match = re.search(r"127\.0\.0\.1:(\d+)\s*$", line)
        expect(match, f"{name} said no port: {line!r} {self.output(process)}")
        return process, int(match.group(1))

    @staticmethod
    def readable(source, process, what, seconds=30):
        """Waits (select, no polling) until `source` has something to read: True; False once
        `process` has ended with nothing to read. Fails after `seconds`."""
        pidfd = os.pidfd_open(process.pid)
        try:
            ready, _, _ = select.select([source, pidfd], [], [], seconds)
        finally:
            os.close(pidfd)
        expect(ready, f"waited {seconds} s for {what}")
        return source in ready

    def probe_service(self, port, *arguments):
        return subprocess.run(["python3", self.probe, str(port), *arguments], capture_output=True, text=True,
                              timeout=120).stdout.strip()

    @staticmethod
    def wait_for(condition, what, seconds=30):
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if condition():
                return
            time.sleep(0.02)
        raise AssertionError(f"waited {seconds} s for {what}")

    def evidence(self):
        """Each guest's valid evidence, made once with `tsmfs exec` as a guest's software makes it:
        {guest: (outblob path, auxblob path)}, and the CCA trust anchor (the CPAK) as `cca.pem`."""
        if self._evidence:
            return self._evidence
        self._evidence = {}
        for guest in ["tdx", "sev-snp", "cca"]:
            out, aux = (os.path.join(self.work, f"{guest}.{kind}") for kind in ["out", "aux"])
            script = (f"r=/sys/kernel/config/tsm/report/adv; mkdir $r; printf '%0128d' 24 | xxd -r -p > $r/inblob; "
                      f"cat $r/outblob > {out}; if [ -e $r/auxblob ]; then cat $r/auxblob > {aux}; fi; rmdir $r")
            r = self.tsmfs("exec", "--guest", guest, "--", "sh", "-c", script)
            expect(r.status == 0 and os.path.getsize(out) > 0, f"exec --guest {guest} made no evidence: {r}")
            self._evidence[guest] = (out, aux)
        with open(os.path.join(self.work, "cca.pem"), "w") as anchor:
            anchor.write(self.tsmfs("trust-anchor", "--guest", "cca").out)
        return self._evidence

    def close(self):
        for process in self.processes:
            self.stop(process, signal.SIGKILL if process.poll() is None else signal.SIGTERM)
            process.out.close()
            process.log.close()
