"""The body of a streamed HTTP response (see `util.httpclient`, `request(..., stream=True)`).

Chunks are queued as the socket delivers them; past `STREAM_HIGH` queued bytes the socket stops
reading until the reader has drained below `STREAM_LOW`, so a slow reader holds at most a few
MiB whatever the body's size. The connection feeds it (`_feed`, `_end`); the reader reads it.
"""
import asyncio
import collections

STREAM_HIGH = 4 << 20   # queued bytes that pause the socket
STREAM_LOW = 1 << 20    # ... and that resume it


class BodyStream:
    """The body of a streamed response, read chunk by chunk (`read`, or `async for`).

    `conn` is the connection it comes from (its `transport` is paused and resumed; its `close`
    drops it). `complete` is True once the whole body was read; a stream given up before
    (`close`) drops its connection, whose framing is then lost.
    """

    __slots__ = ("_conn", "_chunks", "_queued", "_ended", "_error", "_waiter", "_paused",
                 "complete")

    def __init__(self, conn):
        self._conn = conn
        self._chunks = collections.deque()
        self._queued = 0
        self._ended = False
        self._error = None
        self._waiter = None
        self._paused = False
        self.complete = False

    # -- fed by the connection -------------------------------------------------------------
    def _feed(self, data) -> None:
        self._chunks.append(bytes(data))
        self._queued += len(data)
        if self._queued >= STREAM_HIGH and not self._paused and self._conn.transport:
            self._paused = True
            self._conn.transport.pause_reading()
        self._wake()

    def _end(self, error: Exception | None = None) -> None:
        if not self._ended:
            self._ended, self._error = True, error
            self._wake()

    def _wake(self) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    # -- read by the consumer --------------------------------------------------------------
    @property
    def paused(self) -> bool:
        """True while the socket waits for the reader (not a stall of the remote)."""
        return self._paused

    async def read(self) -> bytes:
        """The next chunk of the body; b"" at its end. Raises the transport's error."""
        while not self._chunks:
            if self._ended:
                if self._error is not None:
                    raise self._error
                self.complete = True
                return b""
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
        chunk = self._chunks.popleft()
        self._queued -= len(chunk)
        if self._paused and self._queued <= STREAM_LOW:
            self._paused = False
            if self._conn.transport is not None:
                self._conn.transport.resume_reading()
        return chunk

    def __aiter__(self):
        return self

    async def __anext__(self) -> bytes:
        chunk = await self.read()
        if not chunk:
            raise StopAsyncIteration
        return chunk

    def close(self) -> None:
        """Give the rest of the body up: the connection is dropped unless it had all arrived."""
        if not self._ended:
            self._end(EOFError("stream closed by its reader"))
            self._conn.close()
        self._chunks.clear()
        self._queued = 0
        if self._paused:
            self._paused = False
            if self._conn.transport is not None:
                self._conn.transport.resume_reading()
