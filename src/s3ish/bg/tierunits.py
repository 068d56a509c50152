"""Data units fetched from the cold tier's `data/<data id>` into the local store under the
same id: what `s3ish restore` (admin/restore/units.py: every unit a restored index
references) and the follower (bg/tierfollow.py: the units of the records it applies) share.

What is checked: a unit's length is what its record says it is stored as (the client's size,
or the compressed size; a sealed unit's size follows from it); a unit stored as the client
sent it (neither compressed nor sealed) must also have the record's MD5; a manifest unit
must be its version's record. Memory stays bounded: units stream block by block, a few at a
time, from a blocking iterator the caller gives (never a list of every unit).
"""
import asyncio
import dataclasses
import hashlib
from dataclasses import dataclass

from ..engine import selfdescribe
from ..meta.records import ObjectVersion, Part, Upload
from ..storage.sealed import sealed_size
from ..tier.errors import NotFound
from ..tier.retry import retrying
from ..util.threads import run_io
from .tierread import TierReadError

BLOCK = 1 << 20               # bytes handed to the store at a time
MANIFEST_LIMIT = 64 << 20     # a manifest unit is a record: read whole, checked, written
_PLAIN_FIELDS = {"upload_id", "part_number", "data_id", "size", "etag", "checksum", "mtime",
                 "compression", "stored_size"}


@dataclass
class Unit:
    data_id: str
    size: int | None           # stored bytes the record says (None: a manifest unit)
    md5: str | None            # hex MD5 of the stored bytes, when the record knows it
    describe: dict | None      # shard-header metadata (self-describing stores only)
    what: str                  # whose unit, for messages
    version: ObjectVersion | None = None    # a manifest unit's version


def stored_form(p) -> tuple[int, str | None]:
    """(bytes a part's unit holds, their MD5 if the record says it): the client's bytes, or
    compressed (`stored_size`), or sealed (a size that follows from the sealed plaintext)."""
    plain = p.stored_size if p.compression else p.size
    if getattr(p, "sse_key", ""):       # encryption (engine/sse.py), where present
        return sealed_size(plain), None
    # Only a unit stored as sent, with no coding this reader does not know, has the ETag's MD5.
    extra = [f for f in dataclasses.fields(p) if f.name not in _PLAIN_FIELDS and
             getattr(p, f.name) != f.default]
    as_sent = not p.compression and not extra and len(p.etag) == 32
    return plain, p.etag if as_sent else None


def version_units(v: ObjectVersion, describing: bool) -> list[Unit]:
    """The units of a version with data (its parts, its manifest unit on drives)."""
    where = f"{v.bucket}/{v.key} (version {v.version_id})"
    described = dict(selfdescribe.restored_units(v)) if describing else {}
    out = []
    for p in v.parts:
        if getattr(p, "remote", False):
            continue     # moved to the tier by a lifecycle transition: read through from there
        size, md5 = stored_form(p)
        out.append(Unit(p.data_id, size, md5, described.get(p.data_id), where))
    if v.manifest:
        out.append(Unit(v.manifest, None, None, described.get(v.manifest),
                        f"{where}, its manifest", v))
    return out


def part_unit(part: Part, upload: Upload | None, describing: bool) -> Unit:
    """The unit of an open upload's part (`upload`: its record, for the shard header)."""
    size, md5 = stored_form(part)
    describe = selfdescribe.restored_part(upload, part) if describing and upload else None
    return Unit(part.data_id, size, md5, describe,
                f"upload {part.upload_id} part {part.part_number}")


def _take(it, n: int) -> list:
    out = []
    for unit in it:
        out.append(unit)
        if len(out) == n:
            break
    return out


def _write(writer, md5, block) -> None:
    if md5 is not None:
        md5.update(block)
    writer.write(block)


class Fetcher:
    """Fetch units with `jobs` at a time into `store` (a DataStore with import_writer),
    retrying what the remote fails with `tier.retry.retrying`."""

    def __init__(self, remote, store, jobs: int = 4, on_unit=None, on_retry=None,
                 backoff: dict | None = None, should_stop=None):
        self.remote, self.store, self.jobs = remote, store, max(1, jobs)
        self.on_unit = on_unit or (lambda unit, n: None)
        self.on_retry = on_retry
        self.backoff = backoff or {}
        self.should_stop = should_stop or (lambda: False)
        self.units = self.bytes = 0

    async def run(self, units) -> tuple[int, int]:
        """Fetch every unit of the blocking iterator `units`; (units, bytes) written."""
        queue: asyncio.Queue = asyncio.Queue(maxsize=self.jobs * 4)

        async def produce():
            while batch := await run_io(_take, units, 64):
                for unit in batch:
                    await queue.put(unit)
            for _ in range(self.jobs):
                await queue.put(None)

        async def consume():
            while (unit := await queue.get()) is not None:
                n = await self.one(unit)
                self.units += 1
                self.bytes += n
                self.on_unit(unit, n)

        tasks = [asyncio.ensure_future(produce())]
        tasks += [asyncio.ensure_future(consume()) for _ in range(self.jobs)]
        try:
            done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
            for task in done:
                if task.exception() is not None:
                    raise task.exception()
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        return self.units, self.bytes

    async def one(self, unit: Unit) -> int:
        """Fetch one unit (retried until it lands whole); the bytes written."""
        key = f"data/{unit.data_id}"

        async def attempt():
            try:
                body = await self.remote.get(key)
            except NotFound:
                raise TierReadError(f"data unit {key} of {unit.what} is missing from the "
                                    "remote") from None
            async with body:
                if unit.size is None:
                    return await self._manifest(unit, await body.read(MANIFEST_LIMIT))
                if body.size >= 0 and body.size != unit.size:
                    raise TierReadError(f"data unit {key} of {unit.what} is {body.size} "
                                        f"bytes on the remote; its record says {unit.size}")
                return await self._stream(unit, key, body)
        return await retrying(attempt, on_error=self.on_retry, should_stop=self.should_stop,
                              **self.backoff)

    async def _manifest(self, unit: Unit, body: bytes) -> int:
        v = unit.version
        if not selfdescribe.manifest_matches(v, body):
            raise TierReadError(f"data unit data/{unit.data_id} is not the manifest of "
                                f"{unit.what}")
        describe = None
        if unit.describe is not None:
            describe = {**unit.describe, **selfdescribe.manifest_final(v, body)}
        writer = await run_io(self.store.import_writer, unit.data_id, describe)
        try:
            await run_io(writer.write, body)
            await run_io(writer.commit)
        except BaseException:
            await run_io(writer.abort)
            raise
        return len(body)

    async def _stream(self, unit: Unit, key: str, body) -> int:
        writer = await run_io(self.store.import_writer, unit.data_id, unit.describe)
        md5 = hashlib.md5() if unit.md5 else None
        n = 0
        try:
            buf = bytearray()
            async for chunk in body:
                buf += chunk
                if len(buf) >= BLOCK:
                    n += len(buf)
                    await run_io(_write, writer, md5, buf)
                    buf = bytearray()
            if buf:
                n += len(buf)
                await run_io(_write, writer, md5, buf)
            if n != unit.size:
                raise TierReadError(f"data unit {key} of {unit.what} is {n} bytes on the "
                                    f"remote; its record says {unit.size}")
            if md5 is not None and md5.hexdigest() != unit.md5:
                raise TierReadError(f"data unit {key} of {unit.what} does not have the MD5 "
                                    "its record says: damaged on the remote")
            await run_io(writer.commit)
        except BaseException:
            await run_io(writer.abort)
            raise
        return n
