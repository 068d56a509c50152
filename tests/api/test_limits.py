"""Hostile clients: request heads bounded while they are read (on every path, reserved ones
included), and timeouts for idle, silent, stalled-head and stalled-body connections, and the
connection bound per worker. One server with short timeouts serves the module."""
import os
import socket
import time
import xml.etree.ElementTree as ET
from urllib.parse import urlsplit

import pytest

from tests.support import ServerProcess, signed_request, unique_bucket

TIMEOUT = 1.0           # --idle-timeout, --header-timeout and --body-timeout of the server
MAX_CONNECTIONS = 6


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("limits")
    s = ServerProcess(str(tmp / "data"), str(tmp), workers=1, extra_args=[
        "--idle-timeout", str(TIMEOUT), "--header-timeout", str(TIMEOUT),
        "--body-timeout", str(TIMEOUT), "--max-connections", str(MAX_CONNECTIONS)]).start()
    yield s
    s.stop()


def connect(srv) -> socket.socket:
    s = socket.create_connection(("127.0.0.1", srv.port))
    s.settimeout(10)
    return s


def read_until_closed(s: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection (fails on a timeout)."""
    out = b""
    while True:
        try:
            chunk = s.recv(65536)
        except ConnectionResetError:
            return out
        if not chunk:
            return out
        out += chunk


def error_of(response: bytes) -> tuple[int, str]:
    head, _, body = response.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    return status, ET.fromstring(body).findtext("Code")


def health_request(headers: int) -> bytes:
    """GET /_health with `headers` header lines in all (Host and Connection included)."""
    extra = b"".join(b"X-H%d: v\r\n" % i for i in range(headers - 2))
    return b"GET /_health HTTP/1.1\r\nHost: x\r\n" + extra + b"Connection: close\r\n\r\n"


def test_header_count_bound_on_reserved_path(srv):
    s = connect(srv)
    s.sendall(health_request(100))
    assert read_until_closed(s).startswith(b"HTTP/1.1 200")
    s = connect(srv)
    s.sendall(health_request(101))
    assert error_of(read_until_closed(s)) == (400, "RequestHeaderSectionTooLarge")


@pytest.mark.parametrize("request_head", [
    b"GET /_health HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * (70 * 1024) + b"\r\n\r\n",
    b"GET /_health HTTP/1.1\r\nHost: x\r\n" + b"X-A: " + b"a" * 40000 + b"\r\n" +
    b"X-B: " + b"b" * 40000 + b"\r\n\r\n",
    b"GET /_health?" + b"q" * (17 * 1024) + b" HTTP/1.1\r\nHost: x\r\n\r\n",
    b"GET /bucket/key HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * (200 * 1024) + b"\r\n\r\n",
], ids=["one-header", "header-block", "request-line", "s3-path"])
def test_oversized_head_gets_400_and_close(srv, request_head):
    s = connect(srv)
    s.sendall(request_head)
    assert error_of(read_until_closed(s)) == (400, "RequestHeaderSectionTooLarge")


def test_head_within_bounds_still_served(srv):
    s = connect(srv)
    s.sendall(b"GET /_health HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * (60 * 1024) +
              b"\r\nConnection: close\r\n\r\n")
    assert read_until_closed(s).startswith(b"HTTP/1.1 200")


def test_streamed_header_cut_off_early(srv):
    """A client streaming an endless header is cut off after the bound (plus what the socket
    buffers hold), instead of the server reading and parsing all of it."""
    s = connect(srv)
    s.sendall(b"GET /_health HTTP/1.1\r\nHost: x\r\nX-Flood: ")
    piece, sent = b"a" * 65536, 0
    with pytest.raises((BrokenPipeError, ConnectionResetError)):
        while sent < 256 * 1024 * 1024:
            s.sendall(piece)
            sent += len(piece)
    assert sent < 64 * 1024 * 1024
    assert "refused" in srv.read_log()


def test_idle_keep_alive_connection_closed(srv):
    s = connect(srv)
    s.sendall(b"GET /_health HTTP/1.1\r\nHost: x\r\n\r\n")
    response = b""
    while not response.endswith(b"\r\n\r\nok\n"):
        response += s.recv(65536)
    assert response.startswith(b"HTTP/1.1 200")
    t0 = time.monotonic()
    assert read_until_closed(s) == b""
    assert TIMEOUT * 0.5 < time.monotonic() - t0 < TIMEOUT + 3


def test_silent_connection_closed(srv):
    s = connect(srv)
    t0 = time.monotonic()
    assert read_until_closed(s) == b""
    assert time.monotonic() - t0 < TIMEOUT + 3


def test_stalled_head_times_out(srv):
    s = connect(srv)
    s.sendall(b"GET /_health HTTP/1.1\r\nHost: x\r\nX-Half: ")
    t0 = time.monotonic()
    assert error_of(read_until_closed(s)) == (400, "RequestTimeout")
    assert time.monotonic() - t0 < TIMEOUT + 3


def test_stalled_put_body_times_out_and_leaves_nothing(srv):
    c = srv.client()
    bucket = unique_bucket("stall")
    c.create_bucket(Bucket=bucket)
    body = os.urandom(4 * 1024 * 1024)
    url, headers = signed_request(srv, "PUT", f"/{bucket}/stalled", body)
    parts = urlsplit(url)
    headers.update({"Host": parts.netloc, "Content-Length": str(len(body))})
    head = f"PUT {parts.path} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in
                                                     headers.items()) + "\r\n"
    s = connect(srv)
    s.sendall(head.encode() + body[:1536 * 1024])
    tmp = os.path.join(srv.data, "tmp")
    time.sleep(TIMEOUT / 2)
    assert os.listdir(tmp), "the PUT should be writing a temporary file while it waits"
    response = read_until_closed(s)
    assert error_of(response) == (400, "RequestTimeout")
    assert b"not read from or written to within the timeout period" in response
    assert os.listdir(tmp) == []
    assert "Contents" not in c.list_objects_v2(Bucket=bucket)
    c.put_object(Bucket=bucket, Key="ok", Body=b"fine")     # the server is still serving
    c.delete_object(Bucket=bucket, Key="ok")
    c.delete_bucket(Bucket=bucket)


def test_connection_bound_per_worker(srv):
    held = [connect(srv) for _ in range(MAX_CONNECTIONS)]
    time.sleep(0.2)
    extra = connect(srv)
    t0 = time.monotonic()
    assert read_until_closed(extra) == b""
    assert time.monotonic() - t0 < TIMEOUT / 2      # closed at once, not by a timeout
    assert "connection limit reached" in srv.read_log()
    for s in held:
        s.close()
    time.sleep(0.2)
    s = connect(srv)
    s.sendall(health_request(3))
    assert read_until_closed(s).startswith(b"HTTP/1.1 200")
