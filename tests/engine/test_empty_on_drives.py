"""An empty object on erasure-coded drives (kept in a data unit of its own, never inline):
GET and HEAD of it, current or by version id, answer an empty body."""
import asyncio

from s3ish.engine.objects import Engine
from s3ish.engine.types import PutSpec
from s3ish.meta.sqlite import SqliteMetaStore
from s3ish.storage.drives import DriveSet
from s3ish.storage.erasure import make_codec
from s3ish.storage.erasure_store import ErasureDataStore


async def _empty():
    yield b""


async def _read(stream) -> bytes:
    return b"".join([chunk async for chunk in stream])


def test_empty_object_reads_back(tmp_path):
    drive_set = DriveSet([str(tmp_path / f"d{i}") for i in range(4)], 2, 2)
    drive_set.open(create_missing=True)

    async def go():
        e = Engine(SqliteMetaStore(":memory:"), ErasureDataStore(drive_set, make_codec(2, 2)))
        await e.create_bucket("b", "o", "")
        await e.set_bucket_versioning("b", "Enabled")
        v = await e.put_object("b", "k", _empty(), PutSpec(owner="o"))
        assert v.inline is None and len(v.parts) == 1       # a data unit, on the drives
        for vid in (None, v.version_id):
            got, rng, stream = await e.get_object("b", "k", lambda v: (0, v.size - 1), vid)
            assert got.size == 0 and await _read(stream) == b""
        await e.meta.close()

    asyncio.run(go())
