#!/usr/bin/python3
"""Raw-socket HTTP cases curl cannot send: malformed requests, huge headers,
slow clients, chunked bodies over the limit.  Prints one line per case:
NAME STATUS (the status code answered, or 'closed' when the server closed
the connection without an answer).  usage: http_raw.py PORT CASE..."""
import os
import socket
import sys
import time


def exchange(port, data, wait=3.0, chunks=None, delay=0.0):
    s = socket.create_connection(("127.0.0.1", port), timeout=wait)
    try:
        if chunks is None:
            s.sendall(data)
        else:
            s.sendall(data)
            for c in chunks:
                try:
                    s.sendall(c)
                except OSError:
                    break
                if delay:
                    time.sleep(delay)
        buf = b""
        while b"\r\n" not in buf:
            try:
                got = s.recv(4096)
            except (socket.timeout, ConnectionResetError):
                break
            if not got:
                break
            buf += got
        if not buf.startswith(b"HTTP/1."):
            return "closed"
        return buf.split(b" ")[1].decode()
    finally:
        s.close()


def answer_and_close(port, data, wait=5.0):
    """Send data; return 'STATUS close' when the server answered and then
    closed the connection (within wait seconds), 'STATUS open' when it kept it
    open, 'closed' when it closed without an answer, 'none' when it neither
    answered nor closed."""
    s = socket.create_connection(("127.0.0.1", port), timeout=wait)
    try:
        try:
            s.sendall(data)
        except OSError:
            pass
        buf = b""
        end = time.monotonic() + wait
        eof = False
        while time.monotonic() < end:
            s.settimeout(max(0.05, end - time.monotonic()))
            try:
                got = s.recv(65536)
            except socket.timeout:
                break
            except ConnectionResetError:
                eof = True
                break
            if not got:
                eof = True
                break
            buf += got
        if not buf.startswith(b"HTTP/1."):
            return "closed" if eof else "none"
        status = buf.split(b" ")[1].decode()
        return status + (" close" if eof else " open")
    finally:
        s.close()


def first_status(port, data, wait=10.0):
    """Send data; return the status code of the first response line (100
    included), or 'closed'/'none'."""
    s = socket.create_connection(("127.0.0.1", port), timeout=wait)
    try:
        s.sendall(data)
        buf = b""
        while b"\r\n" not in buf:
            try:
                got = s.recv(4096)
            except socket.timeout:
                return "none"
            except ConnectionResetError:
                return "closed"
            if not got:
                return "closed"
            buf += got
        return buf.split(b" ")[1].decode() if buf.startswith(b"HTTP/1.") else "closed"
    finally:
        s.close()


def bearer(name):
    tok = os.environ.get(name, "")
    return b"Authorization: Bearer " + tok.encode() + b"\r\n" if tok else b""


PUT = b"PUT /api/v1/Product/1/Image HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/octet-stream\r\n"
SMUGGLED = b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"


def main():
    port = int(sys.argv[1])
    png = open(sys.argv[2], "rb").read() if len(sys.argv) > 2 else b""
    cases = {
        "garbage": lambda: exchange(port, b"this is not http at all\r\n\r\n"),
        "nul_bytes": lambda: exchange(port, b"\x00\x01\x02 nonsense\r\n\r\n", wait=8.0),
        "no_version": lambda: exchange(port, b"GET /health\r\n\r\n"),
        "bad_header_line": lambda: exchange(port, b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nno colon here\r\n\r\n"),
        "huge_header": lambda: exchange(port, b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: " + b"a" * 200000 + b"\r\n\r\n"),
        "long_request_line": lambda: exchange(port, b"GET /" + b"a" * 200000 + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"),
        "bad_content_length": lambda: exchange(port, b"PUT /api/v1/Product/1/Image HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: abc\r\n\r\n"),
        "declared_1gb": lambda: exchange(port, b"PUT /api/v1/Product/1/Image HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: image/png\r\nContent-Length: 1073741824\r\n\r\n" + png),
        "chunked_over_limit": lambda: exchange(
            port, b"PUT /api/v1/Product/1/Image HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/octet-stream\r\nTransfer-Encoding: chunked\r\n\r\n",
            chunks=[b"10000\r\n" + b"\x89" * 0x10000 + b"\r\n"] * 40 + [b"0\r\n\r\n"]),
        "bad_chunk": lambda: exchange(port, b"PUT /api/v1/Product/1/Image HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n"),
        "bad_multipart": lambda: exchange(port, b"PUT /api/v1/Product/1/Image HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: multipart/form-data; boundary=XYZ\r\nContent-Length: 19\r\n\r\n--XYZ\r\ngarbage!!!\r\n"),
        "slow_loris": lambda: exchange(port, b"GET /health HTTP/1.1\r\n", chunks=[b"X-A: b\r\n"] * 10, delay=1.0, wait=8.0),
    }
    # framing (RFC 9112 6.1, 6.3): each answered, then the connection closed
    cases.update({
        "cl_twice_differing": lambda: answer_and_close(
            port, PUT + b"Content-Length: 5\r\nContent-Length: 45\r\n\r\nhello" + SMUGGLED),
        "cl_list_differing": lambda: answer_and_close(
            port, PUT + b"Content-Length: 5, 45\r\n\r\nhello" + SMUGGLED),
        "cl_and_te": lambda: answer_and_close(
            port, PUT + b"Content-Length: 45\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n" + SMUGGLED),
        "te_space_before_colon": lambda: answer_and_close(
            port, b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding : chunked\r\n\r\n0\r\n\r\n" + SMUGGLED),
        "te_unknown": lambda: answer_and_close(
            port, PUT + b"Transfer-Encoding: gzip\r\n\r\nhello"),
        "te_chunked_not_last": lambda: answer_and_close(
            port, PUT + b"Transfer-Encoding: chunked, gzip\r\n\r\nhello"),
        "te_http10": lambda: answer_and_close(
            port, b"PUT /api/v1/Product/1/Image HTTP/1.0\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"),
        "no_host": lambda: answer_and_close(port, b"GET /health HTTP/1.1\r\n\r\n"),
        "host_twice": lambda: answer_and_close(port, b"GET /health HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"),
        "get_ok_keeps_open": lambda: answer_and_close(port, b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", wait=1.0),
        "http10_no_host_ok": lambda: answer_and_close(port, b"GET /health HTTP/1.0\r\n\r\n"),
    })
    # nothing before authentication: answered from the headers alone, without
    # a body byte sent (PI_TOKEN_WRITER / PI_TOKEN_READER: Bearer tokens)
    big = b"Content-Length: 33554432\r\n"
    cases.update({
        "put_32mb_no_credentials": lambda: answer_and_close(port, PUT + big + b"\r\n"),
        "put_32mb_bad_token": lambda: answer_and_close(port, PUT + big + b"Authorization: Bearer x.y.z\r\n\r\n"),
        "put_32mb_reader": lambda: answer_and_close(port, PUT + big + bearer("PI_TOKEN_READER") + b"\r\n"),
        "expect_no_credentials": lambda: first_status(port, PUT + big + b"Expect: 100-continue\r\n\r\n"),
        "expect_reader": lambda: first_status(port, PUT + big + bearer("PI_TOKEN_READER") + b"Expect: 100-continue\r\n\r\n"),
        "expect_writer": lambda: first_status(port, PUT + big + bearer("PI_TOKEN_WRITER") + b"Expect: 100-continue\r\n\r\n"),
        "get_4gb_body": lambda: answer_and_close(port, b"GET /api/v1/Product/1/Image HTTP/1.1\r\nHost: 127.0.0.1\r\n" + bearer("PI_TOKEN_WRITER") + b"Content-Length: 4000000000\r\n\r\n" + b"x" * 65536),
        "delete_chunked_body": lambda: answer_and_close(port, b"DELETE /api/v1/Product/1/Image HTTP/1.1\r\nHost: 127.0.0.1\r\n" + bearer("PI_TOKEN_WRITER") + b"Transfer-Encoding: chunked\r\n\r\n10000\r\n" + b"x" * 65536),
        "head_body": lambda: answer_and_close(port, b"HEAD /health HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100000000\r\n\r\n"),
    })
    for name in sys.argv[3:]:
        try:
            print(name, cases[name]())
        except OSError as e:
            print(name, "closed")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
