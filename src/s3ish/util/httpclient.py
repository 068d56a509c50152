"""A minimal HTTP/1.1 client on asyncio (uvloop when installed), built for load generation
(`s3ish bench`) and shared with the cold tier's remote client.

One `Connection` is one persistent keep-alive socket, used by one worker at a time (no
pipelining). It is an `asyncio.Protocol` rather than a stream pair so that a request costs one
write and one future: the response is parsed as it arrives (Content-Length, chunked or
read-until-close bodies), and body bytes are only counted, not kept, unless the caller asks for
them (`keep_body`) or the status is an error (so its XML can be reported). Large bodies are
written in slices with flow control, never copied whole.

A request that fails on a reused connection before any response byte arrived (the server
closed an idle keep-alive socket) is retried once on a fresh connection. `Watchdog` aborts
requests that exceed the timeout, with one timer for all connections.
"""
import asyncio
import socket
import ssl as _ssl

WRITE_SLICE = 1 << 20
MAX_HEAD = 64 * 1024

_HEAD, _LENGTH, _CHUNKED, _UNTIL_CLOSE = range(4)


class HTTPError(Exception):
    """A transport or protocol failure (not an HTTP error status)."""


class ConnectionClosed(HTTPError):
    """The server closed the socket before answering (retried once if the socket was reused:
    it may have been an idle keep-alive connection the server had just timed out)."""


class Response:
    __slots__ = ("status", "headers", "body", "nbytes")

    def __init__(self, status: int, headers: dict, body: bytes | None, nbytes: int):
        self.status = status
        self.headers = headers
        self.body = body
        self.nbytes = nbytes


class _Socket(asyncio.Protocol):
    """The protocol of one socket; events from a socket the connection has replaced are
    ignored (a closed socket reports its loss after the reconnect may have happened)."""

    __slots__ = ("conn",)

    def __init__(self, conn: "Connection"):
        self.conn = conn

    def connection_made(self, transport) -> None:
        self.conn._made(self, transport)

    def data_received(self, data: bytes) -> None:
        if self.conn._sock is self:
            self.conn._data(data)

    def connection_lost(self, exc) -> None:
        if self.conn._sock is self:
            self.conn._lost(exc)

    def pause_writing(self) -> None:
        if self.conn._sock is self:
            self.conn._paused = True

    def resume_writing(self) -> None:
        if self.conn._sock is self:
            self.conn._resume()


class Connection:
    def __init__(self, host: str, port: int, ssl_context=None, server_hostname=None,
                 connect_timeout: float = 30.0):
        self.host = host
        self.port = port
        self.connect_timeout = connect_timeout
        self.ssl = ssl_context
        self.server_hostname = server_hostname
        self.transport = None
        self.closed = True
        self.used = 0               # requests completed on the current socket
        self.started = 0.0          # loop time the current request began (0: idle)
        self._sock = None
        self._waiter = None
        self._drain = None
        self._paused = False
        self._reset(False, False)

    # -- connection management -------------------------------------------------------------
    async def connect(self) -> None:
        loop = asyncio.get_running_loop()
        await asyncio.wait_for(loop.create_connection(
            lambda: _Socket(self), self.host, self.port, ssl=self.ssl,
            server_hostname=self.server_hostname if self.ssl else None), self.connect_timeout)

    def _made(self, sock: _Socket, transport) -> None:
        self._sock = sock
        self.transport = transport
        self.closed = False
        self.used = 0
        self._paused = False
        transport.set_write_buffer_limits(high=4 * WRITE_SLICE)
        raw = transport.get_extra_info("socket")
        if raw is not None:
            try:
                raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            except OSError:
                pass

    def _lost(self, exc) -> None:
        self._sock = self.transport = None
        self.closed = True
        if self._drain is not None and not self._drain.done():
            self._drain.set_exception(ConnectionClosed("connection lost while sending"))
        if self._waiter is not None and not self._waiter.done():
            if self._state == _UNTIL_CLOSE:
                self._finish(keep_alive=False)
            else:
                self._fail(ConnectionClosed(f"connection closed by server ({exc or 'EOF'})"))

    def _resume(self) -> None:
        self._paused = False
        if self._drain is not None and not self._drain.done():
            self._drain.set_result(None)

    def close(self) -> None:
        """Drop the socket; events it still reports are ignored."""
        if self.transport is not None:
            self.transport.close()
        self._sock = self.transport = None
        self.closed = True

    def abort(self, error: Exception) -> None:
        """Fail the request in flight (timeout) and drop the socket."""
        self._fail(error)
        if self._drain is not None and not self._drain.done():
            self._drain.set_exception(error)
        if self.transport is not None:
            self.transport.abort()
        self._sock = self.transport = None
        self.closed = True

    # -- request ---------------------------------------------------------------------------
    async def request(self, head: bytes, body=None, keep_body: bool = False,
                      no_body: bool = False) -> Response:
        """Send `head` (the request line and headers, CRLF-terminated) and `body`; return the
        response. `no_body`: the response has no body whatever its headers say (HEAD)."""
        retry = not self.closed and self.used > 0
        try:
            return await self._request(head, body, keep_body, no_body)
        except ConnectionClosed:
            if not retry or self._got_bytes:
                raise
        self.close()
        return await self._request(head, body, keep_body, no_body)

    async def _request(self, head, body, keep_body, no_body) -> Response:
        if self.closed:
            try:
                await self.connect()
            except (OSError, asyncio.TimeoutError) as e:
                raise HTTPError(f"connect to {self.host}:{self.port} failed: "
                                f"{e or type(e).__name__}") from None
        loop = asyncio.get_running_loop()
        self._waiter = waiter = loop.create_future()
        self._reset(keep_body, no_body)
        self.started = loop.time()
        try:
            if body is None or len(body) == 0:
                self.transport.write(head)
            elif len(body) <= 64 * 1024:
                self.transport.write(head + body)
            else:
                self.transport.write(head)
                view = memoryview(body)
                for i in range(0, len(view), WRITE_SLICE):
                    if self.closed:
                        break  # the server answered early and closed, or it went away
                    self.transport.write(view[i:i + WRITE_SLICE])
                    if self._paused:
                        self._drain = loop.create_future()
                        try:
                            await self._drain
                        except HTTPError:
                            if waiter.done():
                                break
                            raise
            return await waiter
        finally:
            if not waiter.done():
                waiter.cancel()
            self._waiter = self._drain = None
            self.started = 0.0

    # -- response parsing ------------------------------------------------------------------
    def _reset(self, keep_body: bool, no_body: bool) -> None:
        self._state = _HEAD
        self._buf = bytearray()
        self._keep = keep_body
        self._no_body = no_body
        self._got_bytes = False
        self._status = 0
        self._headers = {}
        self._body = bytearray()
        self._nbytes = 0
        self._remaining = 0
        self._keep_alive = True

    def _data(self, data: bytes) -> None:
        if self._waiter is None or self._waiter.done():
            return  # unsolicited bytes (or after a timeout); the socket is being dropped
        self._got_bytes = True
        try:
            while self._state == _HEAD:
                if self._buf:
                    self._buf += data
                    data = bytes(self._buf)
                    self._buf = bytearray()
                end = data.find(b"\r\n\r\n")
                if end < 0:
                    if len(data) > MAX_HEAD:
                        raise HTTPError("response header block too large")
                    self._buf += data
                    return
                head, data = data[:end], data[end + 4:]
                if self._parse_head(head):
                    return self._finish(self._keep_alive)
                if not data:
                    return
            if self._state == _LENGTH:
                n = len(data)
                if n >= self._remaining:
                    self._take(data[:self._remaining] if n > self._remaining else data)
                    return self._finish(self._keep_alive)
                self._take(data)
                self._remaining -= n
            elif self._state == _CHUNKED:
                self._chunked(data)
            else:
                self._take(data)
        except (HTTPError, ValueError) as e:
            self._fail(e if isinstance(e, HTTPError) else HTTPError(f"bad response: {e}"))
            self.close()

    def _take(self, data) -> None:
        self._nbytes += len(data)
        if self._keep:
            self._body += data

    def _parse_head(self, head: bytes) -> bool:
        """Parse the status line and headers; return True if the response has no body."""
        lines = head.decode("latin-1").split("\r\n")
        parts = lines[0].split(" ", 2)
        if len(parts) < 2 or not parts[0].startswith("HTTP/1."):
            raise HTTPError(f"bad status line {lines[0][:80]!r}")
        status = int(parts[1])
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        if 100 <= status < 200:  # interim response (e.g. 100 Continue): wait for the real one
            self._state = _HEAD
            return False
        self._status, self._headers = status, headers
        if status >= 300:
            self._keep = True
        conn = headers.get("connection", "").lower()
        self._keep_alive = ("close" not in conn) if parts[0] == "HTTP/1.1" else \
            ("keep-alive" in conn)
        if self._no_body or status in (204, 304):
            return True
        if "chunked" in headers.get("transfer-encoding", "").lower():
            self._state = _CHUNKED
            self._remaining = -1  # -1: expecting a size line; >0: bytes of chunk; -2: trailers
            return False
        if "content-length" in headers:
            self._remaining = int(headers["content-length"])
            self._state = _LENGTH
            return self._remaining == 0
        self._state = _UNTIL_CLOSE
        self._keep_alive = False
        return False

    def _chunked(self, data: bytes) -> None:
        buf = self._buf
        buf += data
        pos = 0
        while True:
            if self._remaining == -1:  # size line
                eol = buf.find(b"\r\n", pos)
                if eol < 0:
                    break
                size = int(bytes(buf[pos:eol]).split(b";")[0].strip() or b"0", 16)
                pos = eol + 2
                self._remaining = size + 2 if size else -2  # chunk data plus its CRLF
            elif self._remaining == -2:  # trailers, ending with an empty line
                eol = buf.find(b"\r\n", pos)
                if eol < 0:
                    break
                empty = eol == pos
                pos = eol + 2
                if empty:
                    del buf[:pos]
                    return self._finish(self._keep_alive)
            else:
                n = min(self._remaining, len(buf) - pos)
                if n == 0:
                    break
                body_n = max(0, min(n, self._remaining - 2))
                if body_n:
                    self._take(bytes(buf[pos:pos + body_n]))
                pos += n
                self._remaining -= n
                if self._remaining == 0:
                    self._remaining = -1
        del buf[:pos]

    def _finish(self, keep_alive: bool) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(Response(self._status, self._headers,
                                       bytes(self._body) if self._keep else None, self._nbytes))
        self.used += 1
        if not keep_alive:
            self.close()

    def _fail(self, error: Exception) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_exception(error)


class Watchdog:
    """Aborts any request on the given connections that runs longer than `timeout` seconds."""

    def __init__(self, connections, timeout: float):
        self.connections = connections
        self.timeout = timeout
        self._task = None

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(min(1.0, self.timeout / 4))
            now = loop.time()
            for conn in self.connections:
                if conn.started and now - conn.started > self.timeout:
                    conn.abort(HTTPError(f"timeout: no response within {self.timeout:g}s"))

    def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()


def ssl_context(verify: bool = True):
    ctx = _ssl.create_default_context()
    if not verify:
        ctx.check_hostname = False
        ctx.verify_mode = _ssl.CERT_NONE
    return ctx
