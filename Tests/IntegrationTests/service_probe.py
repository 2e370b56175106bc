"""Probes of `tsmfs pccs` and `tsmfs kds` over raw sockets (issue 24), one per subcommand;
each prints one line of `key=value` facts for the Swift test to check.

usage: service_probe.py PORT idle | slowloris | http10 | statuses PATH... | starve PID
"""
import socket
import sys
import time

port = int(sys.argv[1])


def connect():
    return socket.create_connection(("127.0.0.1", port))


def read_to_end(s, limit):
    """Everything until EOF; 'timeout' if the server keeps the connection past `limit` s."""
    s.settimeout(limit)
    data = b""
    try:
        while True:
            chunk = s.recv(65536)
            if not chunk:
                return data, "eof"
            data += chunk
    except socket.timeout:
        return data, "timeout"
    except ConnectionResetError:
        return data, "eof"


def request(method, path, version="HTTP/1.1", extra=""):
    s = connect()
    s.sendall(f"{method} {path} {version}\r\nHost: x\r\n{extra}\r\n".encode())
    return s


command = sys.argv[2]
if command == "idle":
    # Say nothing: the server must close within its idle timeout (the test gives 1 s; the
    # safety limit here is 60 s, far beyond it).
    _, end = read_to_end(connect(), 60)
    print(f"idle={end}")
elif command == "slowloris":
    # A request head trickled one byte every 0.2 s, never finished: closed like an idle one.
    s = connect()
    s.settimeout(0.2)
    head = b"GET /tdx/certification/v4/qe/identity HTTP/1.1\r\nX-Slow: " + b"a" * 1000
    end = "sent-all"
    for byte in head:
        try:
            s.send(bytes([byte]))
            if s.recv(1) == b"":
                end = "eof"
                break
        except socket.timeout:
            continue
        except (BrokenPipeError, ConnectionResetError):
            end = "eof"
            break
    print(f"slowloris={end}")
elif command == "http10":
    data, end = read_to_end(request("GET", "/tdx/certification/v4/qe/identity", "HTTP/1.0"), 60)
    status = data.split(b"\r\n", 1)[0].decode(errors="replace")
    close = b"\r\nconnection: close" in data.lower()
    data11, end11 = read_to_end(request("GET", "/tdx/certification/v4/qe/identity", extra="Connection: close\r\n"), 60)
    print(f"http10={end} status={status!r} close={close} http11close={end11}")
elif command == "statuses":
    # METHOD:PATH ... -> the status of each, and for HEAD the body length and Content-Length.
    out = []
    for item in sys.argv[3:]:
        method, path = item.split(":", 1)
        data, _ = read_to_end(request(method, path, extra="Connection: close\r\n"), 60)
        head, _, body = data.partition(b"\r\n\r\n")
        code = head.split(b" ")[1].decode() if b" " in head else "none"
        fields = {line.split(b":", 1)[0].strip().lower(): line.split(b":", 1)[1].strip()
                  for line in head.split(b"\r\n")[1:] if b":" in line}
        note = code
        if method == "HEAD":
            note += f"/body={len(body)}/length={fields.get(b'content-length', b'-').decode()}"
        if code == "405":
            note += f"/allow={fields.get(b'allow', b'-').decode()}"
        out.append(f"{method}:{path.split('?')[0].rsplit('/', 1)[-1]}={note}")
    print(" ".join(out))
elif command == "starve":
    # Hold more idle connections than the service has descriptors, measure its CPU over 2 s,
    # then leave and time the first request served.
    pid = int(sys.argv[3])
    clock_ticks = 100

    def cpu():
        fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / clock_ticks

    held = [connect() for _ in range(60)]
    time.sleep(0.5)  # let the service meet its limit
    start_cpu, start = cpu(), time.monotonic()
    time.sleep(2)
    share = (cpu() - start_cpu) / (time.monotonic() - start)
    for s in held:
        s.close()
    left = time.monotonic()
    data, end = read_to_end(request("GET", "/tdx/certification/v4/qe/identity", extra="Connection: close\r\n"), 5)
    served = data.startswith(b"HTTP/1.1 200")
    print(f"cpu_share={share:.2f} served_after_leaving={served} within={time.monotonic() - left:.1f}")
