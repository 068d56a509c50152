"""A thin Request/Response over raw ASGI; no web framework on the hot path."""
import asyncio
from urllib.parse import parse_qsl, unquote

from ..engine.errors import DomainError


class ClientDisconnected(Exception):
    """The client went away before the body was complete."""


class RequestTimeout(DomainError):
    """The client sent no body bytes for the body timeout: the request is abandoned (and
    whatever it was writing aborted)."""


class Request:
    def __init__(self, scope, receive, body_timeout: float | None = None):
        self.scope = scope
        self.body_timeout = body_timeout         # seconds a body may send nothing
        self._receive = receive
        self.method: str = scope["method"]
        raw = scope.get("raw_path") or scope["path"].encode()
        self.raw_path: str = raw.decode("latin-1")
        self.path: str = unquote(self.raw_path, errors="surrogateescape")
        self.query_string: str = scope.get("query_string", b"").decode("latin-1")
        self.query_pairs = parse_qsl(self.query_string, keep_blank_values=True)
        self.query: dict[str, str] = {}
        for k, v in self.query_pairs:
            self.query.setdefault(k, v)
        headers: dict[str, str] = {}
        size = 0
        for k, v in scope["headers"]:
            size += len(k) + len(v) + 4
            name = k.decode("latin-1").lower()
            value = v.decode("latin-1")
            headers[name] = f"{headers[name]},{value}" if name in headers else value
        self.headers = headers
        self.header_bytes = size
        self.client = (scope.get("client") or ("", 0))[0]
        # The body the handlers read; authentication may wrap it (verification, de-chunking).
        self.body = self.raw_body()
        self.body_done = False                   # the whole raw body has been received
        self.bytes_in = 0                        # raw body bytes received so far
        self.trailers: dict | None = None        # aws-chunked trailing headers, once read
        self.decoded_length: int | None = None   # x-amz-decoded-content-length

    def query_items(self):
        return self.query_pairs

    async def raw_body(self):
        """Yield the request body as it arrives. Reading it is what sends `100 Continue`."""
        while True:
            try:
                async with asyncio.timeout(self.body_timeout):
                    msg = await self._receive()
            except TimeoutError:
                raise RequestTimeout() from None
            if msg["type"] == "http.disconnect":
                raise ClientDisconnected()
            chunk = msg.get("body", b"")
            more = msg.get("more_body", False)
            self.bytes_in += len(chunk)
            if not more:
                self.body_done = True
            if chunk:
                yield chunk
            if not more:
                return

    def has_unread_body(self) -> bool:
        """True if the client sent (or may still send) body bytes nobody read."""
        if self.body_done:
            return False
        length = self.headers.get("content-length")
        return (length is not None and length != "0") or "transfer-encoding" in self.headers

    async def read_all(self, limit: int) -> bytes | None:
        """Read a small body (XML documents) whole; None if it exceeds `limit` bytes."""
        buf = bytearray()
        taps = getattr(self.body, "taps", ())
        async for chunk in self.body:
            buf += chunk
            if len(buf) > limit:
                return None
            for t in taps:
                t.update(chunk)
        check = getattr(self.body, "check", None)
        if check is not None:
            check()
        return bytes(buf)


class Response:
    __slots__ = ("status", "headers", "body")

    def __init__(self, status: int = 200, headers=None, body=b""):
        self.status = status
        self.headers: list[tuple[str, str]] = headers or []
        self.body = body          # bytes, or an async iterator of bytes


async def send_response(send, resp: Response, head_only: bool = False) -> int:
    """Send a response; returns the number of body bytes sent."""
    body = resp.body
    if isinstance(body, (bytes, bytearray)) and resp.status not in (204, 304) and not any(
            k.lower() == "content-length" for k, _ in resp.headers):
        resp.headers.append(("Content-Length", str(len(body))))
    headers = [(k.encode("latin-1"), v.encode("latin-1", "replace")) for k, v in resp.headers]
    await send({"type": "http.response.start", "status": resp.status, "headers": headers})
    if head_only or isinstance(body, (bytes, bytearray)):
        await send({"type": "http.response.body",
                    "body": b"" if head_only else bytes(body)})
        return 0 if head_only else len(body)
    sent = 0
    async for chunk in body:
        sent += len(chunk)
        await send({"type": "http.response.body", "body": chunk, "more_body": True})
    await send({"type": "http.response.body", "body": b""})
    return sent
