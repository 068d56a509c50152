"""Transparent compression in the engine, no HTTP: what gets compressed, the records, the
bucket switch and its journal record, reads of any range."""
import asyncio
import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from s3ish.engine import compress
from s3ish.engine.objects import Engine
from s3ish.engine.types import PutSpec
from s3ish.meta import journal, records as r
from s3ish.meta.sqlite import SqliteMetaStore
from s3ish.storage.blockzstd import BLOCK_SIZE
from s3ish.storage.datastore import MemoryDataStore

BODY = b"".join(b"%08d compressible line of the engine test\n" % i for i in range(30000))


async def _body(data: bytes, piece: int = 100_000):
    for i in range(0, len(data), piece):
        yield data[i:i + piece]


async def _read(engine, key, rng):
    _, _, stream = await engine.get_object("b", key, lambda v: rng)
    return b"".join([c async for c in stream])


async def _engine(server_default=True) -> Engine:
    e = Engine(SqliteMetaStore(":memory:"), MemoryDataStore(), compression=server_default)
    await e.create_bucket("b", "owner", "us-east-1")
    return e


def test_put_records_how_the_unit_is_stored():
    async def go():
        e = await _engine()
        v = await e.put_object("b", "k", _body(BODY), PutSpec(owner="owner"))
        [p] = v.parts
        assert p.compression == "zstd" and 0 < p.stored_size < len(BODY) // 4
        assert p.size == v.size == len(BODY) and v.etag == hashlib.md5(BODY).hexdigest()
        stored = e.data.open(p.data_id)
        assert len(stored.read_at(0, 1 << 30)) == p.stored_size
        again = await e.head_object("b", "k")       # through the metadata store
        assert again.parts[0] == p
        assert await _read(e, "k", (BLOCK_SIZE - 1, BLOCK_SIZE)) == \
            BODY[BLOCK_SIZE - 1: BLOCK_SIZE + 1]
        skipped = await e.put_object("b", "k.zst", _body(BODY), PutSpec(owner="owner"))
        assert skipped.parts[0].compression == "" and skipped.parts[0].stored_size == 0
        await e.meta.close()
    asyncio.run(go())


def test_bucket_switch_overrides_the_server():
    async def go():
        e = await _engine(server_default=False)
        assert not (await e.put_object("b", "a", _body(BODY), PutSpec(owner="o"))
                    ).parts[0].compression
        await e.set_bucket_compression("b", "on")
        assert (await e.get_bucket("b")).compression == "on"
        assert (await e.put_object("b", "a", _body(BODY), PutSpec(owner="o"))
                ).parts[0].compression == "zstd"
        e.compression = True
        await e.set_bucket_compression("b", "off")
        assert not (await e.put_object("b", "a", _body(BODY), PutSpec(owner="o"))
                    ).parts[0].compression
        with pytest.raises(ValueError):
            await e.set_bucket_compression("b", "maybe")
        await e.meta.close()
    asyncio.run(go())


def test_the_bucket_record_survives_the_journal():
    line = journal.encode_record(7, [r.SetBucketCompression("b", "on")])
    assert journal.decode_record(line) == (7, [r.SetBucketCompression("b", "on")])
    part = r.DataPart("id", 10, "e", "", "zstd", 5)
    v = r.ObjectVersion("b", "k", 10, "e", 0.0, "o", parts=[part])
    assert r.ObjectVersion.from_row("b", "k", 10, "e", 0.0, "o", "STANDARD", v.meta_json(),
                                    None).parts == [part]


def test_old_records_read_as_stored_plain():
    """A version record written before compression has no such fields."""
    meta = '{"version_id":"null","parts":[{"data_id":"x","size":3,"etag":"","checksum":""}]}'
    v = r.ObjectVersion.from_row("b", "k", 3, "e", 0.0, "o", "STANDARD", meta, None)
    assert v.parts[0].compression == "" and v.parts[0].stored_size == 0


@settings(max_examples=40, deadline=None)
@given(start=st.integers(0, len(BODY) - 1), n=st.integers(1, len(BODY)))
def test_any_range_through_the_engine(start, n):
    end = min(start + n, len(BODY)) - 1

    async def go():
        e = await _engine()
        await e.put_object("b", "k", _body(BODY), PutSpec(owner="o"))
        assert await _read(e, "k", (start, end)) == BODY[start: end + 1]
        await e.meta.close()
    asyncio.run(go())


def test_skip_lists():
    assert compress.skipped("a/b/c.PNG", "binary/octet-stream")
    assert compress.skipped("x", "Image/JPEG")
    assert compress.skipped("x", "application/gzip; charset=binary")
    assert not compress.skipped("notes.txt", "text/plain")
    assert not compress.skipped(".gz", "text/plain")      # a dot-file, not an extension
    assert not compress.skipped("dir.gz/file", "text/plain")
