"""A streaming multipart/form-data reader for browser POST uploads.

Fields before the file part are read whole (bounded); the file part is streamed, never held
in memory; anything after the file is ignored, as S3 does.
"""
import re

from .buffered import BufferedBody, TooLong, Truncated

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


class FormReader:
    """Usage: `fields, file = await FormReader(body, boundary).read_until_file()`; `file` is
    None when there is no file part, else (filename, content_type, async iterator)."""

    def __init__(self, raw, boundary: bytes):
        self._in = BufferedBody(raw)
        self._delim = b"\r\n--" + boundary
        self._first = b"--" + boundary

    async def read_until_file(self):
        fields: dict[str, str] = {}
        budget = MAX_FIELDS_BYTES
        await self._until(self._first, MAX_PART_HEADERS)
        while True:
            tail = await self._take(2)
            if tail == b"--":
                return fields, None
            if tail != b"\r\n":
                raise FormError("bad boundary line")
            head = await self._until(b"\r\n\r\n", MAX_PART_HEADERS)
            name, filename, ctype = _part_headers(head)
            if name is None:
                raise FormError("form part without a name")
            if name.lower() == "file":
                return fields, (filename or "", ctype, self._file())
            value = await self._until(self._delim, budget)
            budget -= len(value) + len(name)
            if budget < 0:
                raise FormError("form fields too large")
            fields[name] = value.decode("utf-8", "replace")

    async def _until(self, marker: bytes, limit: int) -> bytes:
        try:
            out = await self._in.until(marker, limit)
        except TooLong:
            raise FormError("form part too large") from None
        except Truncated:
            out = None
        if out is None:
            raise FormError("truncated form")
        return out

    async def _take(self, n: int) -> bytes:
        try:
            return await self._in.take(n)
        except Truncated:
            raise FormError("truncated form") from None

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
