"""An asyncio S3 client for the cold tier: put, get, head, delete and list under one prefix.

It speaks plain S3 (SigV4, path-style or virtual-host addressing) to any S3 service over the
shared client-side HTTP/1.1 code in `util` (`httpclient`, `httppool`, `sigv4_client`); no boto3.
Keys given to it are relative to the configured prefix.

What it guarantees:
- Memory: a streamed PUT (an async iterator body) holds at most one 1 MiB frame plus the socket's
  write buffer; a GET is read chunk by chunk and pauses the socket when the reader is slower.
- Integrity: a bytes body is signed with its SHA-256 and sent with Content-MD5; a streamed body
  carries a CRC32C trailer (aws-chunked, `STREAMING-UNSIGNED-PAYLOAD-TRAILER`) that the server
  checks before storing, or is sent as UNSIGNED-PAYLOAD with `trailing_checksum=False`. A body
  is sent only with exactly its declared size. A GET body that ends short is an error.
- Conditional writes: `put(if_none_match=True)` creates only; `put(if_match=etag)` replaces only
  that version; a lost condition is `PreconditionFailed`, whatever the remote's status for it.
- Failures are `RemoteError`s classified retryable or not (see `tier.errors`); nothing retries
  here except the HTTP client's single replay of a bytes request on a stale keep-alive socket.
  `tier.retry.retrying` is the retry loop.
- Time: a request that makes no progress for `idle_timeout` is aborted; a non-streamed
  operation (head, delete, a list page, a bytes PUT, get_bytes) is bounded by `op_timeout`.
"""
import asyncio
import base64
import hashlib
import re
from typing import NamedTuple
from urllib.parse import urlsplit

from ..util.httpclient import CertificateError, HTTPError, ssl_context
from ..util.httppool import Pool
from ..util.sigv4_client import EMPTY_SHA256, UNSIGNED_PAYLOAD, Signer, encode_path, encode_query
from ..util.threads import run_io
from . import bodies, errors, s3xml
from .config import TierConfig
from .errors import NotFound, RemoteError
from .s3xml import ListEntry

USER_AGENT = "s3ish-tier/1"
STREAMING_TRAILER = "STREAMING-UNSIGNED-PAYLOAD-TRAILER"
HASH_INLINE = 256 << 10      # hash bytes bodies up to this on the loop, larger in a thread
PARSE_INLINE = 256 << 10     # the same for listing XML
GET_BYTES_LIMIT = 64 << 20   # get_bytes refuses larger bodies: stream them with get()
_ETAG = re.compile(r'^"?([!#-~]+?)"?$')            # visible ASCII, optional quotes
_CONTENT_RANGE = re.compile(r"^bytes (\d+)-(\d+)/(\d+|\*)$")

__all__ = ["Remote", "RemoteBody", "ObjectInfo", "ListEntry"]


class ObjectInfo(NamedTuple):
    size: int
    etag: str       # without quotes


def _bare_etag(value: str) -> str:
    return value.strip().strip('"')


class RemoteBody:
    """An object's bytes as they arrive: `async for chunk in body`, or `await body.read()`.

    `size` is the length of this body (the range asked), `total` the object's whole size, `etag`
    its ETag. The connection goes back to the pool once the body is read to its end; a body given
    up before must be closed (`async with`, `close()`), or its connection stays taken.
    """

    def __init__(self, pool: Pool, conn, resp, op: str, key: str):
        self._pool, self._conn, self._stream = pool, conn, resp.stream
        self._op, self._key = op, key
        self.size = int(resp.headers.get("content-length", "-1"))
        self.etag = _bare_etag(resp.headers.get("etag", ""))
        self.total = self.size
        self.received = 0
        self._done = False

    def __aiter__(self):
        return self

    async def __anext__(self) -> bytes:
        if self._done:
            raise StopAsyncIteration
        try:
            chunk = await self._stream.read()
        except HTTPError as e:  # cut, reset, or stalled past the idle timeout
            self._release()
            raise errors.transport(self._op, self._key, f"body cut after {self.received} "
                                   f"of {self.size} bytes: {e}") from None
        except BaseException:
            self.close()
            raise
        if not chunk:
            self._release()
            if 0 <= self.size != self.received:
                raise errors.transport(self._op, self._key, f"body ended after "
                                       f"{self.received} of {self.size} bytes")
            raise StopAsyncIteration
        self.received += len(chunk)
        return chunk

    async def read(self, limit: int = GET_BYTES_LIMIT) -> bytes:
        """The whole (rest of the) body; ValueError if it is larger than `limit`."""
        if self.size > limit:
            self.close()
            raise ValueError(f"{self._key!r}: body of {self.size} bytes is over {limit}")
        parts = []
        async for chunk in self:
            parts.append(chunk)
            if self.received > limit:
                self.close()
                raise ValueError(f"{self._key!r}: body over {limit} bytes")
        return b"".join(parts)

    def close(self) -> None:
        if not self._done:
            self._stream.close()
            self._release()

    async def aclose(self) -> None:
        self.close()

    async def __aenter__(self) -> "RemoteBody":
        return self

    async def __aexit__(self, *exc) -> None:
        self.close()

    def _release(self) -> None:
        if not self._done:
            self._done = True
            self._pool.release(self._conn)


class Remote:
    """The cold tier's bucket (and prefix) on one S3 endpoint. Use one per process; it holds a
    pool of keep-alive connections (`close()` or `async with` to drop them)."""

    def __init__(self, config: TierConfig):
        self.config = config
        url = urlsplit(config.endpoint)
        tls = url.scheme == "https"
        port = url.port or (443 if tls else 80)
        name = f"[{url.hostname}]" if ":" in url.hostname else url.hostname
        netloc = name if port == (443 if tls else 80) else f"{name}:{port}"
        base = url.path.rstrip("/")
        if config.path_style:
            connect, self.host, self._root = url.hostname, netloc, f"{base}/{config.bucket}"
        else:   # the bucket is the first label of the host name (DNS and TLS name included)
            connect = f"{config.bucket}.{url.hostname}"
            self.host, self._root = f"{config.bucket}.{netloc}", base
        self.signer = Signer(config.access_key, config.secret_key, config.region, self.host)
        tls_context = ssl_context(config.verify_tls, config.ca_file) if tls else None
        self.pool = Pool(connect, port, tls_context,
                         connect, size=config.pool_size, connect_timeout=config.connect_timeout,
                         idle_timeout=config.idle_timeout)

    async def __aenter__(self) -> "Remote":
        return self

    async def __aexit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self.pool.close()

    # -- objects -------------------------------------------------------------------------
    async def put(self, key: str, body, size: int | None = None, *, if_none_match: bool = False,
                  if_match: str | None = None) -> str:
        """PutObject; return the new ETag (without quotes). `body` is bytes-like, or an async
        iterator of chunks adding up to `size` (required then; the iterator is used once:
        a retry needs a fresh one). `if_none_match`: create only (If-None-Match: *);
        `if_match`: replace only the object with that ETag. Either failing raises
        `PreconditionFailed`; `if_match` on a missing key raises `NotFound`."""
        op = "PutObject"
        headers = []
        if if_none_match:
            headers.append(("if-none-match", "*"))
        if if_match is not None:
            m = _ETAG.match(if_match)
            if not m:
                raise ValueError(f"bad ETag {if_match!r}")
            headers.append(("if-match", f'"{m.group(1)}"'))
        path = self._path(key)
        if isinstance(body, (bytes, bytearray, memoryview)):
            if size is not None and size != len(body):
                raise ValueError(f"size {size} given for a body of {len(body)} bytes")
            sha256, md5 = await self._digests(body)
            headers.append(("content-md5", md5))
            head = self._head("PUT", path, "", headers, sha256, len(body))
            _, resp = await self._bounded(op, key, self._send(op, key, head, body))
        else:
            if size is None or size < 0:
                raise ValueError("a streamed body needs its size")
            if self.config.trailing_checksum:
                headers += [("content-encoding", "aws-chunked"),
                            ("x-amz-decoded-content-length", str(size)),
                            ("x-amz-trailer", bodies.TRAILER)]
                head = self._head("PUT", path, "", headers, STREAMING_TRAILER,
                                  bodies.encoded_length(size))
                chunks = bodies.aws_chunked(body, size)
            else:
                head = self._head("PUT", path, "", headers, UNSIGNED_PAYLOAD, size)
                chunks = bodies.exact(body, size)
            _, resp = await self._send(op, key, head, chunks)
        etag = _bare_etag(resp.headers.get("etag", ""))
        if not etag:
            raise RemoteError(op, key, "no ETag in the response", retryable=False,
                              status=resp.status)
        return etag

    async def get(self, key: str, start: int | None = None, end: int | None = None
                  ) -> RemoteBody:
        """GetObject of bytes [start, end) (end exclusive, like a slice; None: to the end).
        Raises `NotFound`; the body streams (see `RemoteBody`)."""
        op = "GetObject"
        headers = []
        first = start or 0
        if first < 0 or (end is not None and end <= first):
            raise ValueError(f"bad range [{start}, {end})")
        if start or end is not None:
            headers.append(("range", f"bytes={first}-{'' if end is None else end - 1}"))
        conn, resp = await self._send(op, key, self._head("GET", self._path(key), "", headers),
                                      stream=True)
        body = RemoteBody(self.pool, conn, resp, op, key)
        if headers:
            m = _CONTENT_RANGE.match(resp.headers.get("content-range", ""))
            if resp.status != 206 or not m or int(m.group(1)) != first:
                body.close()
                raise RemoteError(op, key, f"range {headers[0][1]} answered with HTTP "
                                  f"{resp.status} {resp.headers.get('content-range', '')}",
                                  retryable=False, status=resp.status)
            if m.group(3) != "*":
                body.total = int(m.group(3))
        return body

    async def get_bytes(self, key: str, start: int | None = None, end: int | None = None,
                        limit: int = GET_BYTES_LIMIT) -> bytes:
        """GetObject into memory, for small objects (ValueError past `limit` bytes)."""
        async def fetch():
            async with await self.get(key, start, end) as body:
                return await body.read(limit)
        return await self._bounded("GetObject", key, fetch())

    async def head(self, key: str) -> ObjectInfo | None:
        """HeadObject: (size, ETag), or None if there is no such key. (A HEAD error has no
        body: a missing bucket looks like a missing key here.)"""
        op = "HeadObject"
        head = self._head("HEAD", self._path(key))
        try:
            _, resp = await self._bounded(op, key, self._send(op, key, head, no_body=True))
        except NotFound:
            return None
        return ObjectInfo(int(resp.headers.get("content-length", "0")),
                          _bare_etag(resp.headers.get("etag", "")))

    async def delete(self, key: str) -> None:
        """DeleteObject (a missing key is not an error, as in S3)."""
        op = "DeleteObject"
        await self._bounded(op, key, self._send(op, key, self._head("DELETE", self._path(key))))

    # -- listing -------------------------------------------------------------------------
    async def list_page(self, prefix: str = "", start_after: str = "",
                        token: str | None = None) -> tuple[list[ListEntry], str | None]:
        """One ListObjectsV2 page of keys starting with `prefix`, after `start_after` (both
        relative to the tier prefix) or from a continuation `token`: (entries, next token or
        None at the end). Entries are (key, size, etag) in key order."""
        op = "ListObjectsV2"
        root = self.config.prefix
        params = {"list-type": "2", "encoding-type": "url", "prefix": root + prefix,
                  "max-keys": str(self.config.list_page_size)}
        if token:
            params["continuation-token"] = token
        elif start_after:
            params["start-after"] = root + start_after
        head = self._head("GET", encode_path(self._root), encode_query(params))

        async def fetch():
            conn, resp = await self._send(op, prefix, head, stream=True)
            async with RemoteBody(self.pool, conn, resp, op, prefix) as body:
                return await body.read(s3xml.MAX_XML)
        data = await self._bounded(op, prefix, fetch())
        try:
            page = (s3xml.parse_list(data) if len(data) <= PARSE_INLINE
                    else await run_io(s3xml.parse_list, data))
        except ValueError as e:
            raise RemoteError(op, prefix, f"unreadable listing: {e}", retryable=False) from None
        entries = []
        for e in page.entries:
            if not e.key.startswith(root + prefix):
                raise RemoteError(op, prefix, f"listing returned {e.key!r} outside the prefix",
                                  retryable=False)
            entries.append(ListEntry(e.key[len(root):], e.size, e.etag))
        if page.truncated and not page.next_token:
            raise RemoteError(op, prefix, "truncated listing without a continuation token",
                              retryable=False)
        return entries, page.next_token if page.truncated else None

    async def list(self, prefix: str = "", start_after: str = ""):
        """Every (key, size, etag) under `prefix` after `start_after`, page by page. A failure
        raises mid-way: to resume, list again with start_after = the last key received."""
        token = None
        while True:
            entries, token = await self.list_page(prefix, start_after, token)
            for entry in entries:
                yield entry
            if token is None:
                return

    # -- requests ------------------------------------------------------------------------
    def _path(self, key: str) -> str:
        if not key:
            raise ValueError("empty key")
        return encode_path(f"{self._root}/{self.config.prefix}{key}")

    def _head(self, method: str, path: str, query: str = "", headers=(),
              payload_hash: str = EMPTY_SHA256, length: int | None = None) -> bytes:
        """The request head; every extra header is signed (S3 requires it of x-amz-*)."""
        amz_date, auth = self.signer.sign(method, path, query, payload_hash, tuple(headers))
        target = f"{path}?{query}" if query else path
        lines = "".join(f"{k}: {v}\r\n" for k, v in headers)
        if length is not None:
            lines += f"Content-Length: {length}\r\n"
        return (f"{method} {target} HTTP/1.1\r\nHost: {self.host}\r\n"
                f"User-Agent: {USER_AGENT}\r\nX-Amz-Date: {amz_date}\r\n"
                f"X-Amz-Content-SHA256: {payload_hash}\r\nAuthorization: {auth}\r\n"
                f"{lines}\r\n").encode()

    async def _send(self, op: str, key: str, head: bytes, body=None, *, stream: bool = False,
                    no_body: bool = False):
        """One exchange on a pooled connection: (connection, 2xx response), or the error. A
        streamed 2xx response keeps its connection until its body is read (`RemoteBody`)."""
        conn = await self.pool.acquire()
        try:
            resp = await conn.request(head, body, no_body=no_body, stream=stream)
        except CertificateError as e:  # an operator must act: a CA, a name, a clock
            self.pool.release(conn)
            raise RemoteError(op, key, str(e), retryable=False) from None
        except HTTPError as e:
            self.pool.release(conn)
            raise errors.transport(op, key, str(e)) from None
        except BaseException:
            self.pool.release(conn)
            raise
        if resp.stream is None:
            self.pool.release(conn)
        if not 200 <= resp.status < 300:
            code, message = s3xml.parse_error(resp.body or b"")
            raise errors.from_response(op, key, resp.status, code,
                                       message or f"HTTP {resp.status}")
        return conn, resp

    async def _bounded(self, op: str, key: str, coro):
        try:
            async with asyncio.timeout(self.config.op_timeout):
                return await coro
        except TimeoutError:
            raise errors.transport(op, key, f"no answer within "
                                   f"{self.config.op_timeout:g} s") from None

    @staticmethod
    async def _digests(body) -> tuple[str, str]:
        """(SHA-256 hex, MD5 base64) of a bytes body, in a thread when it is large."""
        def both():
            return (hashlib.sha256(body).hexdigest(),
                    base64.b64encode(hashlib.md5(body).digest()).decode())
        return both() if len(body) <= HASH_INLINE else await run_io(both)
