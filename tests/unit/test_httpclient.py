"""The client-side HTTP/1.1 client (bench, cold tier) against a scripted in-process server: body framings,
interim responses, closed and stale connections, large uploads, error bodies, timeouts."""
import asyncio

import pytest

from s3ish.util.httpclient import Connection, ConnectionClosed, HTTPError, HTTPTimeout, Watchdog
from s3ish.util.httpstream import STREAM_HIGH

BIG = bytes(range(256)) * (64 * 1024 + 3)  # 16 MiB and a bit

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
                if path == "/early":  # refuses before reading the body, then hangs up
                    writer.write(RESPONSES["/error"][0])
                    await writer.drain()
                    await asyncio.sleep(0.2)
                    break
                self.bodies.append(await reader.readexactly(length))
                if path == "/big":
                    writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(BIG))
                    writer.write(BIG)
                    await writer.drain()
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


async def chunks(data: bytes, size: int = 100_000, delay: float = 0.0):
    for i in range(0, len(data), size):
        if delay:
            await asyncio.sleep(delay)
        yield data[i:i + size]


def test_streamed_upload_from_an_async_iterator(run):
    async def go(srv, conn):
        body = bytes(range(256)) * 40_000
        r = await conn.request(req("/upload", body, "PUT"), chunks(body))
        assert r.status == 200 and srv.bodies[-1] == body
        r = await conn.request(req("/length"), keep_body=True)  # the socket is reusable
        assert r.body == b"hello" and srv.accepted == 1
    run(go)


def test_early_answer_stops_an_iterator_upload_and_drops_the_socket(run):
    async def go(srv, conn):
        sent = []

        async def body():
            for _ in range(400):
                sent.append(1)
                yield b"x" * 65536
                await asyncio.sleep(0.001)
        r = await conn.request(req("/early", b"x" * (400 * 65536), "PUT"), body())
        assert r.status == 404 and b"NoSuchKey" in r.body
        assert len(sent) < 400 and conn.closed
    run(go)


def test_a_failing_body_iterator_drops_the_socket(run):
    async def go(srv, conn):
        async def body():
            yield b"abc"
            raise ValueError("source went away")
        with pytest.raises(ValueError):
            await conn.request(req("/upload", b"abcdef", "PUT"), body())
        assert conn.closed
        r = await conn.request(req("/length"), keep_body=True)
        assert r.body == b"hello"
    run(go)


def test_streamed_responses_framings(run):
    async def go(srv, conn):
        for path, want in (("/length", b"hello"), ("/chunked", b"hello world"),
                           ("/empty", b""), ("/http10", b"until-close")):
            r = await conn.request(req(path), stream=True)
            assert r.status == 200 and r.body is None
            assert b"".join([c async for c in r.stream]) == want and r.stream.complete
        r = await conn.request(req("/error"), stream=True)  # errors come whole, not streamed
        assert r.status == 404 and r.stream is None and b"NoSuchKey" in r.body
    run(go)


def test_a_slow_reader_pauses_the_socket(run):
    async def go(srv, conn):
        r = await conn.request(req("/big"), stream=True)
        got, most = bytearray(), 0
        while chunk := await r.stream.read():
            got += chunk
            most = max(most, r.stream._queued)
            await asyncio.sleep(0.002)
        assert got == BIG and most <= STREAM_HIGH + 1024 * 1024
        r = await conn.request(req("/length"), keep_body=True)
        assert r.body == b"hello" and srv.accepted == 1
    run(go)


def test_a_stream_given_up_drops_the_socket(run):
    async def go(srv, conn):
        r = await conn.request(req("/big"), stream=True)
        assert await r.stream.read()
        r.stream.close()
        assert conn.closed
        r = await conn.request(req("/length"), keep_body=True)
        assert r.body == b"hello" and srv.accepted == 2
    run(go)


def test_idle_timeout_aborts_a_silent_server_but_not_a_slow_body_source(run):
    async def go(srv, conn):
        conn.idle_timeout = 0.3
        body = b"y" * 10
        r = await conn.request(req("/upload", body, "PUT"), chunks(body, 2, delay=0.15))
        assert r.status == 200 and srv.bodies[-1] == body  # 0.75 s, all of it our own wait
        with pytest.raises(HTTPTimeout):
            await conn.request(req("/hang"))
        assert conn.closed
    run(go)


def test_a_connection_lost_mid_stream_fails_the_reader(run):
    async def go(srv, conn):
        r = await conn.request(req("/big"), stream=True)
        assert await r.stream.read()
        conn.transport.abort()  # as if the network cut the response
        with pytest.raises(ConnectionClosed):
            while await r.stream.read():
                pass
    run(go)


def test_pool_bounds_reuses_and_drops(run):
    async def go(srv, conn):
        from s3ish.util.httppool import Pool
        pool = Pool("127.0.0.1", conn.port, size=2, max_idle=0.2)

        async def one(path):
            async with pool.connection() as c:
                return await c.request(req(path), keep_body=True)
        rs = await asyncio.gather(*(one("/length") for _ in range(6)))
        assert all(r.body == b"hello" for r in rs) and pool.created == 2
        c = await pool.acquire()
        r = await c.request(req("/big"), stream=True)
        pool.release(c)  # released with its body unread: not reused
        assert c.closed and pool.created == 2
        await one("/length")  # the other idle socket
        assert pool.created == 2
        await asyncio.sleep(0.3)  # idle past max_idle: a fresh socket next time
        await one("/length")
        assert pool.created == 3
        pool.close()
    run(go)
