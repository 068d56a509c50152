"""A streaming multipart/form-data reader for browser POST uploads.

Fields before the file part are read whole (bounded); the file part is streamed, never held
in memory; anything after the file is ignored, as S3 does.
"""
import re

MAX_PART_HEADERS = 8 * 1024
MAX_FIELDS_BYTES = 64 * 1024
_DISPOSITION = re.compile(r'(\w+)="((?:[^"\\]|\\.)*)"|(\w+)=([^;\s]+)')


class FormError(ValueError):
    pass


def boundary_of(content_type: str) -> bytes | None:
    kind, _, params = content_type.partition(";")
    if kind.strip().lower() != "multipart/form-data":
        return None
    for param in params.split(";"):
        name, _, value = param.strip().partition("=")
        if name.lower() == "boundary" and value:
            return value.strip('"').encode("latin-1")
    return None


class _Buffered:
    def __init__(self, raw):
        self._raw = raw.__aiter__()
        self.buf = bytearray()
        self.eof = False

    async def more(self) -> bool:
        if self.eof:
            return False
        try:
            self.buf += await self._raw.__anext__()
        except StopAsyncIteration:
            self.eof = True
            return False
        return True

    async def until(self, marker: bytes, limit: int) -> bytes:
        """Bytes up to `marker` (consumed, not returned); at most `limit` bytes."""
        while True:
            i = self.buf.find(marker)
            if i >= 0:
                out = bytes(self.buf[:i])
                del self.buf[: i + len(marker)]
                return out
            if len(self.buf) > limit:
                raise FormError("form part too large")
            if not await self.more():
                raise FormError("truncated form")


class FormReader:
    """Usage: `fields, file = await FormReader(body, boundary).read_until_file()`; `file` is
    None when there is no file part, else (filename, content_type, async iterator)."""

    def __init__(self, raw, boundary: bytes):
        self._in = _Buffered(raw)
        self._delim = b"\r\n--" + boundary
        self._first = b"--" + boundary

    async def read_until_file(self):
        fields: dict[str, str] = {}
        budget = MAX_FIELDS_BYTES
        await self._in.until(self._first, MAX_PART_HEADERS)
        while True:
            tail = await self._take(2)
            if tail == b"--":
                return fields, None
            if tail != b"\r\n":
                raise FormError("bad boundary line")
            head = await self._in.until(b"\r\n\r\n", MAX_PART_HEADERS)
            name, filename, ctype = _part_headers(head)
            if name is None:
                raise FormError("form part without a name")
            if name.lower() == "file":
                return fields, (filename or "", ctype, self._file())
            value = await self._in.until(self._delim, budget)
            budget -= len(value) + len(name)
            if budget < 0:
                raise FormError("form fields too large")
            fields[name] = value.decode("utf-8", "replace")

    async def _take(self, n: int) -> bytes:
        while len(self._in.buf) < n:
            if not await self._in.more():
                raise FormError("truncated form")
        out = bytes(self._in.buf[:n])
        del self._in.buf[:n]
        return out

    async def _file(self):
        """Yield the file part's bytes up to the next boundary."""
        delim, buf = self._delim, self._in.buf
        while True:
            i = buf.find(delim)
            if i >= 0:
                if i:
                    yield bytes(buf[:i])
                del buf[: i + len(delim)]
                return
            # Keep a tail that could be the start of a boundary split across chunks.
            safe = len(buf) - len(delim) + 1
            if safe > 0:
                yield bytes(buf[:safe])
                del buf[:safe]
            if not await self._in.more():
                raise FormError("truncated file part")


def _part_headers(head: bytes):
    name = filename = None
    ctype = "binary/octet-stream"
    for line in head.decode("utf-8", "replace").split("\r\n"):
        key, _, value = line.partition(":")
        key = key.strip().lower()
        if key == "content-disposition":
            for m in _DISPOSITION.finditer(value):
                k = (m.group(1) or m.group(3)).lower()
                v = m.group(2) if m.group(1) else m.group(4)
                if k == "name":
                    name = v
                elif k == "filename":
                    filename = v
        elif key == "content-type":
            ctype = value.strip()
    return name, filename, ctype
