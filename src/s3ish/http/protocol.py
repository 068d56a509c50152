"""uvicorn's httptools protocol with the bounds a public server needs.

httptools concatenates a header value (and uvicorn the URL) piece by piece as socket reads
arrive, so one client streaming a huge header costs time quadratic in its size and stalls the
worker. Here the request head is bounded while it is read, before the parser sees the bytes:
past the bound the connection gets a 400 and is closed, never feeding the parser more. Also:
a deadline for a request head to arrive (a silent or stalled client is dropped), a bound on
the connections one worker holds, and a shutdown that does not wait on idle TLS clients.

The protocol knows no S3: `configure()` (called in each worker by the app) supplies the limits
and the function that renders an error body.
"""
import logging
import time
from dataclasses import dataclass
from typing import Callable

import httptools
from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol

log = logging.getLogger("s3ish.http")

# After refusing a request, keep reading (and dropping) what the client still sends for a
# moment, so it can finish its write and read the 400 instead of getting a reset.
LINGER_SECONDS = 1.0
LINGER_BYTES = 1024 * 1024


@dataclass(frozen=True)
class Limits:
    max_line: int = 16 * 1024            # request line (method, target, version)
    max_header_block: int = 64 * 1024    # all header lines together
    max_headers: int = 100
    header_timeout: float = 20.0         # seconds for a request head to arrive in full
    max_connections: int = 1000          # per worker


# (S3 error code, extra elements) -> (headers, body) of the error response.
ErrorBody = Callable[[str, dict], tuple[list[tuple[str, str]], bytes]]


def _plain_error(code: str, extra: dict) -> tuple[list[tuple[str, str]], bytes]:
    return [("Content-Type", "text/plain")], f"{code}\n".encode()


_limits = Limits()
_error_body: ErrorBody = _plain_error


def configure(limits: Limits, error_body: ErrorBody | None = None) -> None:
    """Set this worker's limits (before it serves: uvicorn loads the app first)."""
    global _limits, _error_body
    _limits = limits
    _error_body = error_body or _plain_error


class _Throttled:
    """At most one log line per `period` seconds, counting the ones held back."""

    def __init__(self, period: float = 10.0):
        self.period, self.next, self.held = period, 0.0, 0

    def warning(self, msg: str, *args) -> None:
        now = time.monotonic()
        if now < self.next:
            self.held += 1
            return
        held, self.held, self.next = self.held, 0, now + self.period
        log.warning(msg + (f" (and {held} more like it)" if held else ""), *args)


_refusal_log = _Throttled()
_timeout_log = _Throttled()
_limit_log = _Throttled()


class HeadTooLarge(Exception):
    """A bound on the request head was passed (raised from parser callbacks)."""


def head_end(data: bytes) -> int:
    """Length of the part of `data` that belongs to the request head: up to and including
    its blank line, or all of it if the head goes on."""
    ends = [i for i in (data.find(b"\n\r\n"), data.find(b"\n\n")) if i >= 0]
    if not ends:
        return len(data)
    i = min(ends)
    return i + (3 if data[i + 1:i + 2] == b"\r" else 2)


class BoundedHttpToolsProtocol(HttpToolsProtocol):
    """HttpToolsProtocol whose request heads are bounded in size, count and time."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.limits = _limits
        self._in_head = True       # the next bytes belong to a request head
        self._raw = 0              # bytes of the current head received so far
        self._tail = b""           # last bytes of the head so far (its end may straddle reads)
        self._line = 0
        self._block = 0
        self._count = 0
        self._head_timer = None
        self._refused = False
        self._dropped = 0

    # Connection life
    def connection_made(self, transport) -> None:
        super().connection_made(transport)
        if len(self.connections) > self.limits.max_connections:
            _limit_log.warning("connection limit reached: %d open connections in this worker "
                               "(--max-connections %d); closing new connections",
                               len(self.connections) - 1, self.limits.max_connections)
            transport.close()
            return
        self._arm_head_timer()

    def connection_lost(self, exc) -> None:
        self._cancel_head_timer()
        super().connection_lost(exc)

    def shutdown(self) -> None:
        """Graceful shutdown. An idle TLS connection whose answers are all sent is dropped at
        once: close() would wait (up to asyncio's 30 s) for the client's close_notify, which
        an idle keep-alive client never sends, and the server would take that long to stop."""
        idle = self.cycle is None or self.cycle.response_complete
        if idle and self.transport.get_extra_info("sslcontext") is not None and \
                self.transport.get_write_buffer_size() == 0:
            self.transport.abort()
            return
        super().shutdown()

    def data_received(self, data: bytes) -> None:
        if self._refused:
            self._dropped += len(data)
            if self._dropped > LINGER_BYTES:
                self.transport.close()
            return
        if self._in_head:
            if self._head_timer is None:
                self._arm_head_timer()
            if self._head_too_large(data):
                return
        self._unset_keepalive_if_required()
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError as e:
            if isinstance(e.__context__, HeadTooLarge):
                return self._refuse_too_large(str(e.__context__))
            self.logger.warning("Invalid HTTP request received.")
            self.send_400_response("Invalid HTTP request received.")
        except httptools.HttpParserUpgrade:
            if self._should_upgrade():
                self.handle_websocket_upgrade()
            else:
                self._unsupported_upgrade_warning()

    def _head_too_large(self, data: bytes) -> bool:
        """Count the head bytes in `data` (before parsing them); refuse past the bound."""
        seen = self._tail + data if self._tail else data
        n = head_end(seen) - len(self._tail)
        self._raw += n
        self._tail = seen[-3:] if n == len(data) else b""
        # The callbacks below hold the line and the header lines to their bounds exactly;
        # this bound on raw bytes (with room for CRLFs and spaces) keeps the parser from
        # ever accumulating more.
        bound = self.limits.max_line + self.limits.max_header_block + 4096
        if self._raw > bound:
            self._refuse_too_large(f"a request head over {bound} bytes")
            return True
        return False

    # Parser callbacks
    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._in_head = True
        self._line = self._block = self._count = 0

    def on_url(self, url: bytes) -> None:
        self._line += len(url)
        if self._line > self.limits.max_line:
            raise HeadTooLarge(f"a request line over {self.limits.max_line} bytes")
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        self._count += 1
        self._block += len(name) + len(value) + 4
        # Raised from a callback, this stops httptools, whose parser error then carries it.
        if self._count > self.limits.max_headers:
            raise HeadTooLarge(f"more than {self.limits.max_headers} headers")
        if self._block > self.limits.max_header_block:
            raise HeadTooLarge(f"headers over {self.limits.max_header_block} bytes")
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        self._in_head = False
        self._raw, self._tail = 0, b""
        self._cancel_head_timer()
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self._in_head = True

    # Refusals
    def _refuse_too_large(self, why: str) -> None:
        _refusal_log.warning("refused %s from %s: 400 and closed", why, _peer(self.client))
        self._refuse("RequestHeaderSectionTooLarge",
                     {"MaxSizeAllowed": str(self.limits.max_header_block)})

    def _refuse(self, code: str, extra: dict) -> None:
        """Answer 400 with the error `code`, then close, never parsing another byte."""
        self._refused = True
        self._cancel_head_timer()
        if self.transport.is_closing():
            return
        headers, body = _error_body(code, extra)
        out = [STATUS_LINE[400]]
        for name, value in self.server_state.default_headers:
            out += [name, b": ", value, b"\r\n"]
        for name, value in headers + [("Content-Length", str(len(body))),
                                      ("Connection", "close")]:
            out += [name.encode("latin-1"), b": ", value.encode("latin-1"), b"\r\n"]
        out += [b"\r\n", body]
        self.transport.write(b"".join(out))
        if self.transport.can_write_eof():
            self.transport.write_eof()
        self.loop.call_later(LINGER_SECONDS, self.transport.close)

    # Head deadline
    def _arm_head_timer(self) -> None:
        self._cancel_head_timer()
        self._head_timer = self.loop.call_later(self.limits.header_timeout, self._head_timeout)

    def _cancel_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_timeout(self) -> None:
        self._head_timer = None
        if self.transport.is_closing() or not self._in_head:
            return
        if self._raw == 0 and self._tail == b"":
            self.transport.close()     # nothing sent at all: just let the connection go
            return
        _timeout_log.warning("request head not complete within %gs from %s: closed",
                             self.limits.header_timeout, _peer(self.client))
        self._refuse("RequestTimeout", {})


def _peer(client) -> str:
    return "%s:%d" % client if client else "?"

