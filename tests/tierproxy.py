"""A fault-injecting HTTP/1.1 proxy for the cold tier's tests.

It sits in front of a real S3 server (moto, a second s3ish) on 127.0.0.1 and forwards requests
one by one per client connection, unless a fault says otherwise. It runs its own event loop on a
daemon thread, so a test drives it from plain code whatever loop its client runs on:

    proxy = FaultProxy(upstream_port).start()      # proxy.endpoint -> http://127.0.0.1:PORT
    proxy.down() / proxy.up()                       # refuse connections (remote down)
    proxy.fail_next(3, 503, "SlowDown")             # answer the next 3 requests itself
    proxy.fail_fraction(0.3, 500, "InternalError")  # ... or a seeded random share of them
    proxy.stall_next(1, seconds=5)                  # hold a request unanswered, then hang up
    proxy.fail_each_once()                          # every distinct operation fails once
    proxy.cut_next(1)                               # forward, then cut the response half-way
    proxy.corrupt_next(1)                           # flip a byte of the next request body
    proxy.clear()                                   # back to a clean pass-through
    proxy.log                                       # [(method, target, action)] per request
    proxy.exchanges                                 # [(method, target, Range, status, body
                                                    #   bytes)] per forwarded answer

Answered faults never reach the server (nothing happened there); a cut response did reach it
(the operation happened, only its answer was lost), which is what a client must survive too.
"""
import asyncio
import random
import threading

_ERROR = ('<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{code}</Code>'
          '<Message>injected by tierproxy</Message><RequestId>proxy</RequestId></Error>')
_REASONS = {500: "Internal Server Error", 503: "Service Unavailable", 429: "Too Many Requests",
            403: "Forbidden", 400: "Bad Request"}
_READ = 64 * 1024


def _parse_head(head: bytes):
    lines = head.decode("latin-1").split("\r\n")
    first = lines[0].split(" ", 2)
    headers = {}
    for line in lines[1:]:
        if line:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
    return first, headers


class FaultProxy:
    def __init__(self, upstream_port: int, upstream_host: str = "127.0.0.1"):
        self.upstream = (upstream_host, upstream_port)
        self.port = 0
        self.log = []
        self.exchanges = []
        self._lock = threading.Lock()
        self._loop = None
        self._server = None
        self._conns = set()   # the tasks serving client connections
        self._thread = None
        self.clear()

    # -- control (any thread) --------------------------------------------------------------
    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> "FaultProxy":
        ready = threading.Event()

        def run():
            self._loop = asyncio.new_event_loop()
            self._loop.run_until_complete(self._listen())
            ready.set()
            self._loop.run_forever()
            self._loop.close()
        self._thread = threading.Thread(target=run, name="tierproxy", daemon=True)
        self._thread.start()
        if not ready.wait(10):
            raise RuntimeError("proxy did not start")
        return self

    def stop(self) -> None:
        self._call(self._shutdown())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    def down(self) -> None:
        """Stop listening (connections are refused) and drop the open ones."""
        self._call(self._shutdown())

    def up(self) -> None:
        self._call(self._listen())

    def clear(self) -> None:
        with self._lock:
            self._fail_n, self._fail = 0, (503, "SlowDown")
            self._fraction, self._rng = 0.0, random.Random(0)
            self._stall_n, self._stall_s = 0, 0.0
            self._cut_n, self._cut_keep = 0, 0.5
            self._each_once, self._seen = None, set()
            self._corrupt_n, self._corrupt_at = 0, 0
            self._stall_match, self._stall_match_s = "", 0.0

    def fail_next(self, n: int, status: int = 503, code: str = "SlowDown") -> None:
        with self._lock:
            self._fail_n, self._fail = n, (status, code)

    def fail_fraction(self, fraction: float, status: int = 500, code: str = "InternalError",
                      seed: int = 0) -> None:
        with self._lock:
            self._fraction, self._fail = fraction, (status, code)
            self._rng = random.Random(seed)

    def stall_next(self, n: int, seconds: float = 30.0) -> None:
        with self._lock:
            self._stall_n, self._stall_s = n, seconds

    def stall_matching(self, part: str, seconds: float = 30.0) -> None:
        """Hold every request whose target contains `part` for `seconds`, then hang up
        (e.g. a checkpoint's upload, to kill the shipper while it is under way)."""
        with self._lock:
            self._stall_match, self._stall_match_s = part, seconds

    def cut_next(self, n: int, keep: float = 0.5) -> None:
        """Forward the next n requests, then send only `keep` of each response's body (or half
        its head when it has no body) and hang up."""
        with self._lock:
            self._cut_n, self._cut_keep = n, keep

    def corrupt_next(self, n: int, offset: int = 1000) -> None:
        """Forward the next n requests with the byte at `offset` of each body flipped (the
        last byte of a shorter body; a request without a body passes untouched)."""
        with self._lock:
            self._corrupt_n, self._corrupt_at = n, offset

    def fail_each_once(self, status: int = 500, code: str = "InternalError") -> None:
        """The first time each distinct operation (method, target, Range and conditional
        headers) is seen it is answered with an error; every later time it passes."""
        with self._lock:
            self._each_once, self._seen = (status, code), set()

    def actions(self, kind: str) -> int:
        return sum(1 for *_, action in self.log if action == kind)

    def _call(self, coro):
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(10)

    def _decide(self, method: str, target: str, headers: dict) -> tuple:
        with self._lock:
            if self._stall_match and self._stall_match in target:
                return ("stall", self._stall_match_s)
            if self._fail_n > 0:
                self._fail_n -= 1
                return ("fail", *self._fail)
            if self._stall_n > 0:
                self._stall_n -= 1
                return ("stall", self._stall_s)
            if self._cut_n > 0:
                self._cut_n -= 1
                return ("cut", self._cut_keep)
            if self._corrupt_n > 0 and int(headers.get("content-length", "0")) > 0:
                self._corrupt_n -= 1
                return ("corrupt", self._corrupt_at)
            if self._each_once is not None:
                op = (method, target, headers.get("range"), headers.get("if-match"),
                      headers.get("if-none-match"))
                if op not in self._seen:
                    self._seen.add(op)
                    return ("fail", *self._each_once)
            if self._fraction and self._rng.random() < self._fraction:
                return ("fail", *self._fail)
            return ("pass",)

    # -- the proxy (its own loop) ----------------------------------------------------------
    async def _listen(self) -> None:
        if self._server is None:
            self._server = await asyncio.start_server(self._client, "127.0.0.1", self.port,
                                                      reuse_address=True)
            self.port = self._server.sockets[0].getsockname()[1]

    async def _shutdown(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None
        tasks = list(self._conns)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _client(self, reader, writer) -> None:
        task = asyncio.current_task()
        self._conns.add(task)
        upstream = None
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                (method, target, _), headers = _parse_head(head)
                length = int(headers.get("content-length", "0"))
                action = self._decide(method, target, headers)
                self.log.append((method, target, action[0]))
                if action[0] == "fail":
                    await _discard(reader, length)
                    writer.write(_error_response(action[1], action[2]))
                    await writer.drain()
                    continue
                if action[0] == "stall":
                    await asyncio.sleep(action[1])
                    break
                if upstream is None:
                    upstream = await asyncio.open_connection(*self.upstream)
                if not await self._forward(method, head, length, reader, writer, upstream,
                                           action, (target, headers.get("range"))):
                    break
                if upstream[0].at_eof():
                    upstream[1].close()
                    upstream = None
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
            pass
        finally:
            self._conns.discard(task)
            writer.transport.abort()
            if upstream is not None:
                upstream[1].transport.abort()

    async def _forward(self, method, head, length, reader, writer, upstream, action,
                       what=("", None)) -> bool:
        """Relay one exchange; False when the client connection must end."""
        ur, uw = upstream
        uw.write(head)
        if action[0] == "corrupt":
            at = min(action[1], length - 1)
            await _pipe(reader, uw, at)
            byte = await reader.readexactly(1)
            uw.write(bytes([byte[0] ^ 0x01]))
            await _pipe(reader, uw, length - at - 1)
        else:
            await _pipe(reader, uw, length)
        while True:
            rhead = await ur.readuntil(b"\r\n\r\n")
            (_, status, *_), rheaders = _parse_head(rhead)
            if not 100 <= int(status) < 200:
                break
            writer.write(rhead)  # an interim answer (100 Continue): the real one follows
        closing = "close" in rheaders.get("connection", "").lower()
        if method == "HEAD" or int(status) in (204, 304):
            size = 0
        elif "content-length" in rheaders:
            size = int(rheaders["content-length"])
        elif "chunked" in rheaders.get("transfer-encoding", "").lower():
            size = -1
        else:
            size = None  # until close: relayed raw to the end of the socket
            closing = True
        if action[0] == "cut":
            if size == -1:
                writer.write(rhead + await ur.read(_READ))
            elif size:
                writer.write(rhead)
                await _pipe(ur, writer, int(size * action[1]))
            else:
                writer.write(rhead[:len(rhead) // 2])
            await writer.drain()
            return False
        writer.write(rhead)
        if size is not None and size >= 0:
            self.exchanges.append((method, what[0], what[1], int(status), size))
        if size is None:
            while chunk := await ur.read(_READ):
                writer.write(chunk)
                await writer.drain()
        elif size == -1:
            await _relay_chunked(ur, writer)
        else:
            await _pipe(ur, writer, size)
        await writer.drain()
        if closing:
            return False
        return True


async def _pipe(reader, writer, n: int) -> None:
    while n > 0:
        chunk = await reader.read(min(n, _READ))
        if not chunk:
            raise asyncio.IncompleteReadError(b"", n)
        n -= len(chunk)
        writer.write(chunk)
        await writer.drain()


async def _relay_chunked(reader, writer) -> None:
    while True:
        line = await reader.readuntil(b"\r\n")
        writer.write(line)
        size = int(line.split(b";")[0].strip() or b"0", 16)
        if size == 0:
            while (trailer := await reader.readuntil(b"\r\n")) != b"\r\n":
                writer.write(trailer)
            writer.write(trailer)
            return
        await _pipe(reader, writer, size + 2)


async def _discard(reader, n: int) -> None:
    while n > 0:
        chunk = await reader.read(min(n, _READ))
        if not chunk:
            raise asyncio.IncompleteReadError(b"", n)
        n -= len(chunk)


def _error_response(status: int, code: str) -> bytes:
    body = _ERROR.format(code=code).encode()
    return (f"HTTP/1.1 {status} {_REASONS.get(status, 'Error')}\r\n"
            f"Content-Type: application/xml\r\nContent-Length: {len(body)}\r\n\r\n"
            ).encode() + body
