#!/usr/bin/env python3
"""Hostile and unusual HTTP/1.1 traffic against a running `cumulus serve` of test_handler.wasm.

Usage: bad_traffic.py PORT. Each check prints PASS/FAIL; exit status 1 if any failed. After every
check the server must still answer a normal request (faults stay local)."""
import socket
import sys
import time

PORT = int(sys.argv[1])
failures = 0


class Conn:
    """A client connection with a read buffer (responses may arrive together)."""

    def __init__(self, timeout=10.0):
        self.sock = socket.create_connection(("127.0.0.1", PORT), timeout=timeout)
        self.buf = b""

    def sendall(self, data):
        self.sock.sendall(data)

    def send(self, data):
        self.sock.send(data)

    def close(self):
        self.sock.close()

    def recv(self, n):
        return self.sock.recv(n)

    def _more(self):
        chunk = self.sock.recv(65536)
        if not chunk:
            raise EOFError("connection closed")
        self.buf += chunk

    def _line(self):
        while b"\r\n" not in self.buf:
            self._more()
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def _take(self, n):
        while len(self.buf) < n:
            self._more()
        data, self.buf = self.buf[:n], self.buf[n:]
        return data

    def response(self):
        """Reads one final response; returns (status, headers, body)."""
        while True:
            while b"\r\n\r\n" not in self.buf:
                self._more()
            head, self.buf = self.buf.split(b"\r\n\r\n", 1)
            lines = head.decode("latin-1").split("\r\n")
            status = int(lines[0].split()[1])
            if status != 100:
                break
        headers = {}
        for line in lines[1:]:
            k, v = line.split(":", 1)
            headers[k.strip().lower()] = v.strip()
        if "content-length" in headers:
            return status, headers, self._take(int(headers["content-length"]))
        if headers.get("transfer-encoding") == "chunked":
            out = b""
            while True:
                size = int(self._line(), 16)
                out += self._take(size)
                self._take(2)
                if size == 0:
                    return status, headers, out
        return status, headers, b""


def connect(timeout=10.0):
    return Conn(timeout)


def read_response(c):
    return c.response()


def check(name, ok, detail=""):
    global failures
    print(("PASS " if ok else "FAIL ") + name + (": " + detail if detail and not ok else ""))
    if not ok:
        failures += 1


def still_serving(after):
    try:
        s = connect()
        s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        status, _, body = read_response(s)
        s.close()
        check(f"still serving after {after}", status == 200 and body == b"hello\n", f"{status} {body!r}")
    except Exception as e:  # noqa: BLE001 - any failure here is the test failing
        check(f"still serving after {after}", False, repr(e))


# Malformed request line: 400, connection closed.
s = connect()
s.sendall(b"THIS IS NOT HTTP\r\n\r\n")
status, _, _ = read_response(s)
check("malformed request gets 400", status == 400, str(status))
s.close()
still_serving("malformed request")

# Oversized header section: 431.
s = connect()
s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 100_000 + b"\r\n\r\n")
try:
    status, _, _ = read_response(s)
except (EOFError, ConnectionResetError, BrokenPipeError):
    status = 0
check("oversized headers get 431", status == 431, str(status))
s.close()
still_serving("oversized headers")

# Pipelining: two requests in one write, answered in order.
s = connect()
s.sendall(b"GET /path?first HTTP/1.1\r\nHost: x\r\n\r\nGET /path?second HTTP/1.1\r\nHost: x\r\n\r\n")
r1 = read_response(s)
r2 = read_response(s) if r1[0] == 200 else (0, {}, b"")
check("pipelined requests answered in order", r1[2] == b"/path?first" and r2[2] == b"/path?second",
      f"{r1[2]!r} {r2[2]!r}")
s.close()

# Keep-alive: three requests on one connection.
s = connect()
bodies = []
for i in range(3):
    s.sendall(f"GET /path?{i} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    bodies.append(read_response(s)[2])
check("keep-alive serves several requests", bodies == [b"/path?0", b"/path?1", b"/path?2"], repr(bodies))
s.close()

# Slow client: the request trickles in byte by byte (the delay is the point of the test).
s = connect()
for b in b"GET /path?slow HTTP/1.1\r\nHost: x\r\n\r\n":
    s.send(bytes([b]))
    time.sleep(0.005)
status, _, body = read_response(s)
check("slow client is served", status == 200 and body == b"/path?slow", f"{status} {body!r}")
s.close()

# Client disconnects mid-body: the handler sees a failed stream; the server goes on.
s = connect()
s.sendall(b"POST /count HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n\r\n" + b"z" * 1000)
s.close()
still_serving("a client disconnecting mid-body")

# A client that disconnects while the response streams.
s = connect()
s.sendall(b"GET /big/100000000 HTTP/1.1\r\nHost: x\r\n\r\n")
s.recv(1000)
s.close()
still_serving("a client disconnecting mid-response")

# A trapping handler: 500 for that request, the next one is fine.
s = connect()
s.sendall(b"GET /trap HTTP/1.1\r\nHost: x\r\n\r\n")
status, _, body = read_response(s)
check("trap gives 500 naming the trap", status == 500 and b"unreachable" in body, f"{status} {body!r}")
s.close()
still_serving("a trap")

# 1,000 concurrent connections, each with a request in flight.
N = 1000
socks = []
try:
    for i in range(N):
        c = connect(timeout=60)
        socks.append(c)
    for i, c in enumerate(socks):
        c.sendall(f"GET /path?c{i} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    ok = 0
    for i, c in enumerate(socks):
        status, _, body = read_response(c)
        if status == 200 and body == f"/path?c{i}".encode():
            ok += 1
    check(f"{N} concurrent connections all served", ok == N, f"{ok}/{N}")
finally:
    for c in socks:
        c.close()
still_serving(f"{N} concurrent connections")

print(f"{'FAILED' if failures else 'ok'}: {failures} failure(s)")
sys.exit(1 if failures else 0)
