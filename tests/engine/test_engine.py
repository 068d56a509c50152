"""Object semantics with no HTTP, against both backends: in-memory and a durable folder."""
import asyncio
import hashlib
import os

import pytest

from s3ish.engine import errors
from s3ish.engine.multipart import Multipart
from s3ish.engine.objects import INLINE_MAX, Engine
from s3ish.engine.types import PutSpec
from s3ish.meta.sqlite import SqliteMetaStore
from s3ish.storage.datastore import FolderDataStore, MemoryDataStore


@pytest.fixture(params=["memory", "folder"])
def make_engine(request, tmp_path):
    def make():
        if request.param == "memory":
            return Engine(SqliteMetaStore(":memory:"), MemoryDataStore())
        return Engine(SqliteMetaStore(str(tmp_path / "meta.sqlite3")),
                      FolderDataStore(str(tmp_path)))
    return make


async def _body(data: bytes, piece: int = 65536):
    for i in range(0, len(data), piece):
        yield data[i:i + piece]


async def _read(engine, bucket, key, rng=None):
    v, _, stream = await engine.get_object(bucket, key,
                                           lambda v: rng or (0, v.size - 1))
    return v, b"".join([c async for c in stream])


def run(coro):
    return asyncio.run(coro)


def test_put_get_overwrite_delete(make_engine):
    async def go():
        e = make_engine()
        await e.create_bucket("b", "owner", "us-east-1")
        small, big = b"s" * 10, os.urandom(3 * 1024 * 1024 + 3)
        v = await e.put_object("b", "k", _body(small), PutSpec(owner="owner"))
        assert v.inline == small and v.etag == hashlib.md5(small).hexdigest()
        assert (await _read(e, "b", "k"))[1] == small
        v = await e.put_object("b", "k", _body(big), PutSpec(owner="owner"))
        assert v.inline is None and len(v.parts) == 1
        assert (await _read(e, "b", "k"))[1] == big
        assert (await _read(e, "b", "k", (5, 2 * 1024 * 1024)))[1] == big[5:2 * 1024 * 1024 + 1]
        old = v.parts[0].data_id
        await e.put_object("b", "k", _body(small), PutSpec(owner="owner"))
        assert old not in e.data.list_ids()          # replaced data is freed after commit
        await e.delete_object("b", "k")
        with pytest.raises(errors.NoSuchKey):
            await e.head_object("b", "k")
        await e.meta.close()
    run(go())


def test_inline_threshold(make_engine):
    async def go():
        e = make_engine()
        await e.create_bucket("b", "o", "r")
        at = await e.put_object("b", "at", _body(b"x" * INLINE_MAX), PutSpec(owner="o"))
        over = await e.put_object("b", "over", _body(b"x" * (INLINE_MAX + 1)),
                                  PutSpec(owner="o"))
        assert at.inline is not None and over.inline is None
        await e.meta.close()
    run(go())


def test_verify_failure_stores_nothing(make_engine):
    async def go():
        e = make_engine()
        await e.create_bucket("b", "o", "r")

        def refuse(_digests):
            raise ValueError("bad digest")
        with pytest.raises(ValueError):
            await e.put_object("b", "k", _body(os.urandom(2 * 1024 * 1024)),
                               PutSpec(owner="o"), refuse)
        assert e.data.list_ids() == []
        with pytest.raises(errors.NoSuchKey):
            await e.head_object("b", "k")
        await e.meta.close()
    run(go())


def test_bucket_rules(make_engine):
    async def go():
        e = make_engine()
        await e.create_bucket("b", "o", "r")
        with pytest.raises(errors.BucketAlreadyOwnedByYou):
            await e.create_bucket("b", "o", "r")
        with pytest.raises(errors.BucketAlreadyExists):
            await e.create_bucket("b", "other", "r")
        await e.put_object("b", "k", _body(b"1"), PutSpec(owner="o"))
        with pytest.raises(errors.BucketNotEmpty):
            await e.delete_bucket("b", "o")
        with pytest.raises(errors.NoSuchBucket):
            await e.put_object("nob", "k", _body(b"1"), PutSpec(owner="o"))
        await e.delete_object("b", "k")
        await e.delete_bucket("b", "o")
        assert await e.list_buckets("o") == []
        await e.meta.close()
    run(go())


def test_multipart_manifest_without_copy(make_engine):
    async def go():
        e = make_engine()
        mp = Multipart(e)
        await e.create_bucket("b", "o", "r")
        u = await mp.create_multipart_upload("b", "k", PutSpec(owner="o"))
        parts = [os.urandom(5 * 1024 * 1024), b"tail"]
        done = []
        for i, data in enumerate(parts, 1):
            p = await mp.upload_part(u, i, _body(data), "")
            done.append((i, p.etag, {}))
        ids_before = set(e.data.list_ids())
        v = await mp.complete_multipart_upload(u, done)
        # The object's data units are the parts themselves: nothing new was written.
        assert set(v.data_ids()) == ids_before == set(e.data.list_ids())
        assert (await _read(e, "b", "k"))[1] == b"".join(parts)
        with pytest.raises(errors.NoSuchUpload):
            await mp.get_upload("b", "k", u.upload_id)
        await e.meta.close()
    run(go())


def test_listing_with_delimiter(make_engine):
    async def go():
        e = make_engine()
        await e.create_bucket("b", "o", "r")
        for k in ["a", "a/b", "a/c/d", "b/x", "c", "ä/1"]:
            await e.put_object("b", k, _body(b"."), PutSpec(owner="o"))
        r = await e.list_objects("b", delimiter="/")
        assert [x.key for x in r.contents] == ["a", "c"]
        assert r.common_prefixes == ["a/", "b/", "ä/"]
        r = await e.list_objects("b", prefix="a/", delimiter="/")
        assert [x.key for x in r.contents] == ["a/b"] and r.common_prefixes == ["a/c/"]
        r = await e.list_objects("b", max_keys=2, delimiter="/")
        assert r.is_truncated and r.next_marker == "a/"
        r2 = await e.list_objects("b", max_keys=2, delimiter="/", start_after=r.next_marker)
        assert [x.key for x in r2.contents] == ["c"] and r2.common_prefixes == ["b/"]
        assert r2.is_truncated and r2.next_marker == "c"
        await e.meta.close()
    run(go())


def test_folder_store_survives_reopen(tmp_path):
    async def go():
        e = Engine(SqliteMetaStore(str(tmp_path / "m.db")), FolderDataStore(str(tmp_path)))
        await e.create_bucket("b", "o", "r")
        data = os.urandom(1024 * 1024)
        await e.put_object("b", "k", _body(data), PutSpec(owner="o"))
        await e.meta.close()
        e2 = Engine(SqliteMetaStore(str(tmp_path / "m.db")), FolderDataStore(str(tmp_path)))
        assert (await _read(e2, "b", "k"))[1] == data
        await e2.meta.close()
    run(go())


def test_complete_10000_parts(monkeypatch):
    """The largest upload S3 allows, in parts of a few bytes (the 5 MiB minimum lowered for
    the test): completed in one O(parts) metadata step, read back whole and by range."""
    import s3ish.engine.multipart as multipart
    monkeypatch.setattr(multipart, "MIN_PART_SIZE", 1)

    async def go():
        e = Engine(SqliteMetaStore(":memory:"), MemoryDataStore())
        mp = Multipart(e)
        await e.create_bucket("b", "o", "r")
        u = await mp.create_multipart_upload("b", "k", PutSpec(owner="o",
                                                                checksum_algorithm="CRC32"))
        done, want = [], []
        for n in range(1, 10001):
            data = f"{n:05d}".encode()
            p = await mp.upload_part(u, n, _body(data), "CRC32")
            done.append((n, p.etag, {"CRC32": p.checksum}))
            want.append(data)
        v = await mp.complete_multipart_upload(u, done)
        assert v.etag.endswith("-10000") and v.size == 50000
        assert (await _read(e, "b", "k"))[1] == b"".join(want)
        assert (await _read(e, "b", "k", (49990, 49999)))[1] == b"0999910000"
        await e.meta.close()
    run(go())
