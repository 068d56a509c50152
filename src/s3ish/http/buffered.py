"""Buffered reading of a streamed body, for parsers that need lines, markers or exact byte
counts across arbitrary chunk boundaries (aws-chunked framing, multipart/form-data)."""


class Truncated(Exception):
    """The body ended before what the parser was waiting for."""


class TooLong(Exception):
    """More than the allowed bytes arrived before the marker."""


class BufferedBody:
    def __init__(self, raw):
        self._raw = raw.__aiter__()
        self.buf = bytearray()
        self.eof = False

    async def more(self) -> bool:
        """Pull the next piece into the buffer; False at the end of the body."""
        if self.eof:
            return False
        try:
            self.buf += await self._raw.__anext__()
        except StopAsyncIteration:
            self.eof = True
            return False
        return True

    async def until(self, marker: bytes, limit: int) -> bytes | None:
        """The bytes before `marker` (which is consumed too); None if the body ends cleanly
        (nothing buffered) first."""
        while True:
            i = self.buf.find(marker)
            if i >= 0:
                out = bytes(self.buf[:i])
                del self.buf[: i + len(marker)]
                return out
            if len(self.buf) > limit:
                raise TooLong()
            if not await self.more():
                if self.buf:
                    raise Truncated()
                return None

    async def take(self, n: int) -> bytes:
        """Exactly n bytes."""
        while len(self.buf) < n:
            if not await self.more():
                raise Truncated()
        out = bytes(self.buf[:n])
        del self.buf[:n]
        return out

    async def pieces(self, n: int):
        """Yield exactly n bytes, in pieces as they arrive."""
        while n > 0:
            if not self.buf and not await self.more():
                raise Truncated()
            piece = bytes(self.buf[:n])
            del self.buf[: len(piece)]
            n -= len(piece)
            yield piece

    async def at_eof(self) -> bool:
        while not self.buf:
            if not await self.more():
                return True
        return False
