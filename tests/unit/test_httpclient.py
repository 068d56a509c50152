"""The client-side HTTP/1.1 client (bench, cold tier) against a scripted in-process server: body framings,
interim responses, closed and stale connections, large uploads, error bodies, timeouts."""
import asyncio

import pytest

from s3ish.util.httpclient import Connection, HTTPError, Watchdog

RESPONSES = {
    "/length": [b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nETag: \"e\"\r\n\r\nhello"],
    "/chunked": [b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", b"5;ext=1\r\nhel",
                 b"lo\r", b"\n6\r\n wor", b"ld\r\n0\r\nX-Trailer: t\r\n", b"\r\n"],
    "/continue": [b"HTTP/1.1 100 Continue\r\n\r\n",
                  b"HTTP/1.1 204 No Content\r\n\r\n"],
    "/close": [b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"],
    "/http10": [b"HTTP/1.0 200 OK\r\n\r\nuntil-", b"close"],
    "/error": [b"HTTP/1.1 404 Not Found\r\nContent-Length: 41\r\n\r\n"
               b"<Error><Code>NoSuchKey</Code></Error>\r\n\r\n"],
    "/empty": [b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"],
}


class Server:
    def __init__(self):
        self.accepted = 0
        self.bodies = []

    async def handle(self, reader, writer):
        self.accepted += 1
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode().split("\r\n")
                path = lines[0].split()[1]
                length = next((int(v) for k, _, v in (h.partition(": ") for h in lines[1:])
                               if k.lower() == "content-length"), 0)
                self.bodies.append(await reader.readexactly(length))
                if path == "/hang":
                    await asyncio.sleep(30)
                if path == "/upload":
                    writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
                for part in RESPONSES.get(path, []):
                    writer.write(part)
                    await writer.drain()
                    await asyncio.sleep(0)
                if path in ("/close", "/http10", "/idle-close"):
                    if path == "/idle-close":
                        writer.write(RESPONSES["/length"][0])
                    await writer.drain()
                    break
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        writer.close()


@pytest.fixture(params=["asyncio", "uvloop"])
def run(request):
    """Run a test body (srv, conn) on the default asyncio loop and on uvloop."""
    if request.param == "uvloop":
        uvloop = pytest.importorskip("uvloop")
        runner = uvloop.run
    else:
        runner = asyncio.run

    def go(coro_fn):
        async def main():
            srv = Server()
            server = await asyncio.start_server(srv.handle, "127.0.0.1", 0)
            port = server.sockets[0].getsockname()[1]
            try:
                await coro_fn(srv, Connection("127.0.0.1", port))
            finally:
                server.close()
        runner(main())
    return go


def req(path: str, body: bytes = b"", method: str = "GET") -> bytes:
    return f"{method} {path} HTTP/1.1\r\nHost: x\r\nContent-Length: {len(body)}\r\n\r\n".encode()


def test_framings_on_one_keep_alive_connection(run):
    async def go(srv, conn):
        r = await conn.request(req("/length"), keep_body=True)
        assert (r.status, r.body, r.nbytes, r.headers["etag"]) == (200, b"hello", 5, '"e"')
        r = await conn.request(req("/chunked"), keep_body=True)
        assert (r.status, r.body, r.nbytes) == (200, b"hello world", 11)
        r = await conn.request(req("/continue"))
        assert r.status == 204 and r.nbytes == 0
        r = await conn.request(req("/empty"))
        assert r.status == 200 and r.nbytes == 0
        r = await conn.request(req("/length"))  # body counted but not kept
        assert r.body is None and r.nbytes == 5
        assert srv.accepted == 1
    run(go)


def test_closing_responses_reconnect(run):
    async def go(srv, conn):
        r = await conn.request(req("/close"), keep_body=True)
        assert r.body == b"ok" and conn.closed
        r = await conn.request(req("/http10"), keep_body=True)
        assert r.body == b"until-close"
        r = await conn.request(req("/length"))
        assert r.status == 200 and srv.accepted == 3
    run(go)


def test_stale_keep_alive_connection_is_retried_once(run):
    async def go(srv, conn):
        r = await conn.request(req("/idle-close"))  # answered, then closed without notice
        assert r.status == 200
        await asyncio.sleep(0.05)
        r = await conn.request(req("/length"), keep_body=True)
        assert r.body == b"hello" and srv.accepted == 2
    run(go)


def test_error_bodies_are_kept_and_large_uploads_sent_whole(run):
    async def go(srv, conn):
        r = await conn.request(req("/error"))
        assert r.status == 404 and b"<Code>NoSuchKey</Code>" in r.body
        body = bytes(range(256)) * (3 * 4096 + 7)
        r = await conn.request(req("/upload", body, "PUT"), memoryview(body))
        assert r.status == 200 and srv.bodies[-1] == body
    run(go)


def test_watchdog_times_out_a_silent_server(run):
    async def go(srv, conn):
        dog = Watchdog([conn], timeout=0.2)
        dog.start()
        with pytest.raises(HTTPError, match="timeout"):
            await conn.request(req("/hang"))
        dog.stop()
        assert conn.closed
    run(go)


def test_connection_refused_is_an_http_error():
    async def go():
        with pytest.raises(HTTPError, match="connect"):
            await Connection("127.0.0.1", 1).request(req("/length"))
    asyncio.run(go())


def test_a_timeout_is_not_retried(run):
    async def go(srv, conn):
        await conn.request(req("/length"))  # a reused socket is eligible for the stale retry
        dog = Watchdog([conn], timeout=0.2)
        dog.start()
        with pytest.raises(HTTPError, match="timeout"):
            await conn.request(req("/hang"))
        dog.stop()
        assert srv.accepted == 1
    run(go)
