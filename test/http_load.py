#!/usr/bin/python3
"""Hostile-client loads against the gateway on loopback, with the gateway's
memory read from /proc.  Bounded loops only; every socket goes to 127.0.0.1.

  http_load.py uploads PORT PID N LENGTH SEND [HEADER...]
      N clients each send a PUT declaring Content-Length LENGTH and then up to
      SEND body bytes (stopping when the gateway answers or closes), and hold
      the connection.  Prints, in KiB: "rss_before RSS hwm_growth PEAK
      rss_held RSS answered K closed K".
  http_load.py loris PORT N SECONDS INTERVAL
      N clients each send a request head one byte every INTERVAL seconds, for
      at most SECONDS.  Prints "closed K of N" (closed by the server before
      SECONDS) and then, once they are gone, "then STATUS" for a plain GET
      /health.
  http_load.py readers PORT PID N PATH SECONDS
      N clients GET PATH with a 4 KiB receive buffer and never read; after
      SECONDS prints "rss_before RSS rss_held RSS" (KiB).
  http_load.py slowget PORT PATH SECONDS OUT
      GET PATH reading 1 KiB every 50 ms for SECONDS, then the rest; the body
      goes to OUT, the status is printed.
  http_load.py slowbody PORT SECONDS RATE [HEADER...]
      One PUT declaring 1 MB, sent at RATE bytes a second for at most SECONDS.
      Prints "closed" if the server closed it first, else "open".
"""
import socket
import sys
import threading
import time


def kib(pid, field):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def uploads(port, pid, n, length, send, headers):
    head = ("PUT /api/v1/Product/1/Image HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            "Content-Type: application/octet-stream\r\nContent-Length: %d\r\n%s\r\n"
            % (length, "".join(h + "\r\n" for h in headers))).encode()
    chunk = b"\x89" * 65536
    socks = []
    answered = [0]
    closed = [0]
    lock = threading.Lock()
    rss_before = kib(pid, "VmRSS")
    hwm_before = kib(pid, "VmHWM")

    def client():
        s = socket.create_connection(("127.0.0.1", port), timeout=30)
        with lock:
            socks.append(s)
        left = send
        try:
            s.sendall(head)
            s.setblocking(False)
            while left > 0:
                try:
                    if s.recv(1, socket.MSG_PEEK):
                        with lock:
                            answered[0] += 1
                        return
                    with lock:
                        closed[0] += 1
                    return
                except BlockingIOError:
                    pass
                s.settimeout(30)
                part = chunk[:min(len(chunk), left)]
                s.sendall(part)
                left -= len(part)
                s.setblocking(False)
        except OSError:
            with lock:
                closed[0] += 1

    threads = [threading.Thread(target=client) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    time.sleep(0.5)  # the gateway takes in what is still in flight
    rss_held = kib(pid, "VmRSS")
    hwm = kib(pid, "VmHWM")
    print("rss_before %d hwm_growth %d rss_held %d answered %d closed %d"
          % (rss_before, max(0, hwm - max(hwm_before, rss_before)), rss_held, answered[0], closed[0]))
    for s in socks:
        s.close()


def loris(port, n, seconds, interval):
    head = b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Loris: " + b"a" * 10000
    socks = [socket.create_connection(("127.0.0.1", port), timeout=5) for _ in range(n)]
    alive = list(socks)
    end = time.monotonic() + seconds
    i = 0
    while alive and time.monotonic() < end:
        for s in list(alive):
            try:
                s.send(head[i:i + 1])
                s.setblocking(False)
                try:
                    if s.recv(1) == b"":
                        alive.remove(s)
                except BlockingIOError:
                    pass
                s.setblocking(True)
            except OSError:
                alive.remove(s)
        i = (i + 1) % len(head)
        time.sleep(interval)
    print("closed %d of %d" % (n - len(alive), n))
    for s in socks:
        s.close()
    time.sleep(0.5)
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
    data = s.recv(100)
    print("then", data.split(b" ")[1].decode() if data.startswith(b"HTTP/1.") else "closed")
    s.close()


def slowbody(port, seconds, rate, headers):
    head = ("PUT /api/v1/Product/1/Image HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            "Content-Type: application/octet-stream\r\nContent-Length: 1000000\r\n%s\r\n"
            % "".join(h + "\r\n" for h in headers)).encode()
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    s.sendall(head)
    end = time.monotonic() + seconds
    state = "open"
    while time.monotonic() < end:
        try:
            s.send(b"\x89" * rate)
            s.setblocking(False)
            try:
                got = s.recv(4096)
                if got == b"" or got.startswith(b"HTTP/1.1 408"):
                    state = "closed"
                    break
            except BlockingIOError:
                pass
            s.setblocking(True)
        except OSError:
            state = "closed"
            break
        time.sleep(1)
    print(state)
    s.close()


def slow_socket(port, path):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.settimeout(30)
    s.connect(("127.0.0.1", port))
    s.sendall(("GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n" % path).encode())
    return s


def readers(port, pid, n, path, seconds):
    rss_before = kib(pid, "VmRSS")
    socks = [slow_socket(port, path) for _ in range(n)]
    time.sleep(seconds)  # the gateway answers; nobody reads
    rss_held = kib(pid, "VmRSS")
    print("rss_before %d rss_held %d" % (rss_before, rss_held))
    for s in socks:
        s.close()


def slowget(port, path, slow_seconds, out):
    s = slow_socket(port, path)
    buf = b""
    end = time.monotonic() + slow_seconds
    while time.monotonic() < end:
        got = s.recv(1024)
        if not got:
            break
        buf += got
        time.sleep(0.05)
    while True:
        try:
            got = s.recv(65536)
        except OSError:
            break
        if not got:
            break
        buf += got
    head, _, body = buf.partition(b"\r\n\r\n")
    open(out, "wb").write(body)
    print(head.split(b" ")[1].decode() if head.startswith(b"HTTP/1.") else "closed")


def main():
    what = sys.argv[1]
    a = sys.argv[2:]
    if what == "uploads":
        uploads(int(a[0]), int(a[1]), int(a[2]), int(a[3]), int(a[4]), a[5:])
    elif what == "loris":
        loris(int(a[0]), int(a[1]), float(a[2]), float(a[3]))
    elif what == "readers":
        readers(int(a[0]), int(a[1]), int(a[2]), a[3], float(a[4]))
    elif what == "slowget":
        slowget(int(a[0]), a[1], float(a[2]), a[3])
    elif what == "slowbody":
        slowbody(int(a[0]), float(a[1]), int(a[2]), a[3:])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
