"""Read-through of data units a lifecycle transition moved to the cold tier.

A remote unit (DataPart.remote) is read from its restored local copy when RestoreObject made
one (DataPart.restored), else from the tier's `data/<data id>` through a `RemoteHandle`: a
DataHandle whose `read_at` is one ranged GET of exactly the stored bytes asked. The sse and
compression wrappers (engine/sse.py, engine/compress.py) stack on it as on a local unit and
ask for stored offsets only (a sealed range: its packages; a compressed one: the footer and the
blocks it needs), so a ranged GET of an object fetches only what it needs, and only from the
parts it touches. The tier holds the unit's bytes as stored (compressed, sealed): they are
opened here with the version's keys, as local ones are.

Handles are read from worker threads (blocking); the GET runs on tier.blocking's private loop.
A failure of the tier is `TierUnavailable`: S3 clients get 503 ServiceUnavailable (retryable),
never wrong bytes: a range answered with other bytes or cut short is refused by the client,
a damaged sealed or compressed unit fails its checks.
"""
import dataclasses
import logging

from ..meta import records as r
from ..storage.sealed import sealed_size
from ..tier.errors import RemoteError
from ..tier.layout import data_key
from . import errors, sse
from .tiering import TierNotConfigured

log = logging.getLogger("s3ish.tier")


class TierUnavailable(errors.DomainError):
    """The cold tier holding a version's data did not answer (or the server has no tier)."""

    def __str__(self) -> str:
        return "the cold tier holding this object's data cannot be read now; try again"


def stored_length(part: r.DataPart) -> int:
    """The length of a unit's stored bytes, from its record: the client's size, or the
    compressed size, sealed when the unit is encrypted."""
    plain = part.stored_size if part.compression else part.size
    return sealed_size(plain) if part.sse_key else plain


class RemoteHandle:
    """storage.datastore.DataHandle over the tier's copy of one unit (blocking)."""

    def __init__(self, reader, data_id: str, length: int):
        self.reader = reader          # tier.blocking.BlockingReader
        self.key = data_key(data_id)
        self.length = length

    def size(self) -> int:
        return self.length

    def read_at(self, offset: int, n: int) -> bytes:
        n = min(n, self.length - offset)
        if n <= 0:
            return b""
        try:
            return self.reader.read(self.key, offset, offset + n)
        except RemoteError as e:
            log.warning("read-through of %s failed: %s", self.key, e)
            raise TierUnavailable(self.key) from e

    def close(self) -> None:
        pass


class _RemoteUnit:
    """The `data` argument sse.open_unit takes, for one remote part."""

    def __init__(self, reader, part: r.DataPart):
        self.reader, self.part = reader, part

    def open(self, data_id: str) -> RemoteHandle:
        return RemoteHandle(self.reader, data_id, stored_length(self.part))


class ColdStore:
    """Opens the units of transitioned versions (blocking: from worker threads)."""

    def __init__(self, reader):
        self.reader = reader          # tier.blocking.BlockingReader

    def open_unit(self, data, part: r.DataPart, keys):
        """A plaintext handle of a remote part: its restored copy in `data` if there is one,
        else the tier's bytes."""
        if part.restored:
            try:
                return sse.open_unit(data, dataclasses.replace(part, data_id=part.restored),
                                     keys)
            except FileNotFoundError:
                pass        # not here (a restore to another folder): read the tier
        return sse.open_unit(_RemoteUnit(self.reader, part), part, keys)

    def close(self) -> None:
        self.reader.close()


def open_part(data, cold: ColdStore | None, part: r.DataPart, keys):
    """Open any part of a version for plaintext reads, wherever its bytes are."""
    if not part.remote:
        return sse.open_unit(data, part, keys)
    if cold is None:
        raise TierNotConfigured(part.data_id)
    return cold.open_unit(data, part, keys)


async def primed(stream):
    """`stream` with its first block already read (its errors raised here)."""
    try:
        first = await stream.__anext__()
    except StopAsyncIteration:
        return _nothing()
    except BaseException:
        await stream.aclose()
        raise

    async def chained():
        try:
            yield first
            async for block in stream:
                yield block
        finally:
            await stream.aclose()      # the handles close even when the reader stops early
    return chained()


async def _nothing():
    return
    yield
