"""A minimal HTTP/1.1 client on asyncio (uvloop when installed), built for load generation
(`s3ish bench`) and shared with the cold tier's remote client.

One `Connection` is one persistent keep-alive socket, used by one worker at a time (no
pipelining). It is an `asyncio.Protocol` rather than a stream pair so that a request costs one
write and one future: the response is parsed as it arrives (Content-Length, chunked or
read-until-close bodies), and body bytes are only counted, not kept, unless the caller asks for
them (`keep_body`) or the status is an error (so its XML can be reported). Large bodies are
written in slices with flow control, never copied whole.

For the cold tier's client it also streams both ways: a request body may be an async iterator
of byte chunks (sent with write flow control, so at most the transport's buffer is held), and
`stream=True` hands a 2xx response over as soon as its head is parsed, its body then read from
`Response.stream` (a `BodyStream` that pauses the socket when the reader falls behind).

A request that fails on a reused connection before any response byte arrived (the server
closed an idle keep-alive socket) is retried once on a fresh connection, when its body can be
sent again (not an iterator). `Watchdog` aborts requests that exceed the timeout, with one timer
for all connections; `Connection(idle_timeout=...)` instead aborts a request only when neither
side has made progress for that long (a long upload or download is not a stall).
"""
import asyncio
import socket
import ssl as _ssl

from .httpstream import BodyStream

WRITE_SLICE = 1 << 20
MAX_HEAD = 64 * 1024

_HEAD, _LENGTH, _CHUNKED, _UNTIL_CLOSE = range(4)


class HTTPError(Exception):
    """A transport or protocol failure (not an HTTP error status)."""


class ConnectionClosed(HTTPError):
    """The server closed the socket before answering (retried once if the socket was reused:
    it may have been an idle keep-alive connection the server had just timed out)."""


class CertificateError(HTTPError):
    """The server's TLS certificate did not verify (asking again will not change that)."""


class HTTPTimeout(HTTPError):
    """No response (or no progress) within the timeout; the socket was dropped."""


class Response:
    __slots__ = ("status", "headers", "body", "nbytes", "stream")

    def __init__(self, status: int, headers: dict, body: bytes | None, nbytes: int,
                 stream: "BodyStream | None" = None):
        self.status = status
        self.headers = headers
        self.body = body
        self.nbytes = nbytes
        self.stream = stream


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
                 connect_timeout: float = 30.0, idle_timeout: float | None = None):
        self.host = host
        self.port = port
        self.connect_timeout = connect_timeout
        self.idle_timeout = idle_timeout  # abort a request that makes no progress this long
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
        self._loop = None
        self._progress = 0.0        # loop time a byte last moved (with idle_timeout)
        self._idle_timer = None
        self._local_wait = False    # waiting on the caller's body iterator, not on the server
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
        if self.busy:
            if self._state == _UNTIL_CLOSE:
                self._finish(keep_alive=False)
            else:
                self._fail(ConnectionClosed(f"connection closed by server ({exc or 'EOF'})"))

    def _resume(self) -> None:
        self._paused = False
        self._moved()
        if self._drain is not None and not self._drain.done():
            self._drain.set_result(None)

    def close(self) -> None:
        """Drop the socket (failing a request or stream still in flight); events it still
        reports are ignored."""
        self._fail(ConnectionClosed("connection closed"))
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

    @property
    def busy(self) -> bool:
        """A request or a streamed body is still in flight on this connection."""
        return (self._waiter is not None and not self._waiter.done()) or \
            self._stream is not None

    # -- idle timeout ----------------------------------------------------------------------
    def _moved(self) -> None:
        if self.idle_timeout:
            self._progress = self._loop.time()

    def _check_idle(self) -> None:
        self._idle_timer = None
        now = self._loop.time()
        if self._local_wait or (self._stream is not None and self._stream.paused):
            self._progress = now  # our side is the slow one, not the server
        if now - self._progress > self.idle_timeout:
            self.abort(HTTPTimeout(f"timeout: no progress for {self.idle_timeout:g}s"))
        elif self.busy:
            self._idle_timer = self._loop.call_later(self.idle_timeout / 4, self._check_idle)

    def _stop_idle(self) -> None:
        if self._idle_timer is not None:
            self._idle_timer.cancel()
            self._idle_timer = None

    # -- request ---------------------------------------------------------------------------
    async def request(self, head: bytes, body=None, keep_body: bool = False,
                      no_body: bool = False, stream: bool = False) -> Response:
        """Send `head` (the request line and headers, CRLF-terminated) and `body` (bytes-like,
        or an async iterator of chunks adding up to the Content-Length the head declares);
        return the response. `no_body`: the response has no body whatever its headers say
        (HEAD). `stream`: a 2xx response is returned once its head is parsed, its body to be
        read from `Response.stream`; the connection serves no other request until then."""
        replayable = body is None or isinstance(body, (bytes, bytearray, memoryview))
        retry = replayable and not self.closed and self.used > 0
        try:
            return await self._request(head, body, keep_body, no_body, stream)
        except ConnectionClosed:
            if not retry or self._got_bytes:
                raise
        self.close()
        return await self._request(head, body, keep_body, no_body, stream)

    async def _request(self, head, body, keep_body, no_body, stream) -> Response:
        if self.closed:
            try:
                await self.connect()
            except _ssl.SSLCertVerificationError as e:
                raise CertificateError(f"connect to {self.host}:{self.port}: the server's "
                                       f"certificate was refused: {e.verify_message}") from None
            except (OSError, asyncio.TimeoutError) as e:
                raise HTTPError(f"connect to {self.host}:{self.port} failed: "
                                f"{e or type(e).__name__}") from None
        self._loop = loop = asyncio.get_running_loop()
        self._waiter = waiter = loop.create_future()
        self._reset(keep_body, no_body, stream)
        self.started = self._progress = loop.time()
        if self.idle_timeout:
            self._idle_timer = loop.call_later(self.idle_timeout / 4, self._check_idle)
        try:
            if body is None:
                self.transport.write(head)
            elif not isinstance(body, (bytes, bytearray, memoryview)):
                self.transport.write(head)
                await self._send_chunks(body, waiter)
            elif len(body) <= 64 * 1024:
                self.transport.write(head + body)
            else:
                self.transport.write(head)
                view = memoryview(body)
                for i in range(0, len(view), WRITE_SLICE):
                    if self.closed:
                        break  # the server answered early and closed, or it went away
                    self.transport.write(view[i:i + WRITE_SLICE])
                    if self._paused and not await self._drained(waiter):
                        break
            return await waiter
        except BaseException:
            # Cancelled (a caller's timeout) or the body iterator failed: the request is half
            # sent, so the socket's framing is lost.
            if not waiter.done():
                waiter.cancel()
                self.close()
            raise
        finally:
            self._waiter = self._drain = None
            self.started = 0.0
            if self._stream is None:
                self._stop_idle()

    async def _drained(self, waiter) -> bool:
        """Wait for the transport's buffer to drain; False if the exchange ended meanwhile
        (the server answered early)."""
        self._drain = asyncio.get_running_loop().create_future()
        try:
            await self._drain
        except HTTPError:
            if waiter.done():
                return False
            raise
        return True

    async def _send_chunks(self, chunks, waiter) -> None:
        """Send an async iterator's chunks with flow control: at most the transport's buffer
        is held. If the server answers before the end, the rest is not sent and the socket,
        whose framing is then lost, is dropped."""
        it = chunks.__aiter__()
        try:
            while True:
                self._local_wait = True
                try:
                    chunk = await it.__anext__()
                except StopAsyncIteration:
                    return
                finally:
                    self._local_wait = False
                if not await self._send_chunk(chunk, waiter):
                    break
            if waiter.done():
                self.close()
        finally:
            aclose = getattr(it, "aclose", None)
            if aclose is not None:
                await aclose()

    async def _send_chunk(self, chunk, waiter) -> bool:
        """Write one chunk, in slices; False if the exchange ended (answered, or closed)."""
        view = memoryview(chunk)
        for i in range(0, len(view), WRITE_SLICE):
            if waiter.done() or self.closed:
                return False
            self.transport.write(view[i:i + WRITE_SLICE])
            if self._paused and not await self._drained(waiter):
                return False
        self._moved()
        return True

    # -- response parsing ------------------------------------------------------------------
    def _reset(self, keep_body: bool, no_body: bool, stream: bool = False) -> None:
        self._state = _HEAD
        self._buf = bytearray()
        self._keep = keep_body
        self._no_body = no_body
        self._stream_mode = stream
        self._stream = None
        self._got_bytes = False
        self._status = 0
        self._headers = {}
        self._body = bytearray()
        self._nbytes = 0
        self._remaining = 0
        self._keep_alive = True

    def _data(self, data: bytes) -> None:
        if self._stream is None and (self._waiter is None or self._waiter.done()):
            return  # unsolicited bytes (or after a timeout); the socket is being dropped
        self._got_bytes = True
        self._moved()
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
                if self._stream_mode and self._state != _HEAD and self._status < 300:
                    self._stream = BodyStream(self)
                    self._waiter.set_result(Response(self._status, self._headers, None, 0,
                                                     self._stream))
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
        if self._stream is not None:
            self._stream._feed(data)
        elif self._keep:
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
        waiter, stream = self._waiter, self._stream
        if waiter is not None and not waiter.done():
            if self._stream_mode and self._status < 300:
                stream = BodyStream(self)  # the whole (empty) body is already here
            waiter.set_result(Response(self._status, self._headers,
                                       bytes(self._body) if self._keep else None, self._nbytes,
                                       stream))
        self._stream = None
        if stream is not None:
            stream._end()
        self._stop_idle()
        self.used += 1
        if not keep_alive:
            self.close()

    def _fail(self, error: Exception) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_exception(error)
        if self._stream is not None:
            stream, self._stream = self._stream, None
            stream._end(error)
        self._stop_idle()


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
                    conn.abort(HTTPTimeout(f"timeout: no response within {self.timeout:g}s"))

    def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()


def ssl_context(verify: bool = True, cafile: str | None = None):
    """A client TLS context: the system's CAs, or those in `cafile`; `verify=False` checks
    nothing (tests, benchmarks)."""
    ctx = _ssl.create_default_context(cafile=cafile)
    if not verify:
        ctx.check_hostname = False
        ctx.verify_mode = _ssl.CERT_NONE
    return ctx
