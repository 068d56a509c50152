"""Deferred frees: with a cold tier, data freed by overwrites, deletes and aborted uploads
goes to the graveyard instead of being deleted; it is removed only once the tier's
high-water mark reaches a log position at or after its free."""
import asyncio
import os

from s3ish.bg.tiership import LocalFolderLog
from s3ish.engine.multipart import Multipart
from s3ish.engine.objects import Engine
from s3ish.engine.types import PutSpec
from s3ish.meta import journal
from s3ish.meta.sqlite import SqliteMetaStore
from s3ish.storage.datastore import FolderDataStore
from s3ish.storage.graveyard import Graveyard
from s3ish.tier import localstate


async def _body(data: bytes):
    yield data


def test_freed_units_wait_in_the_graveyard_until_the_hwm_passes(tmp_path):
    folder = str(tmp_path / "d")
    os.makedirs(folder)
    journal.prepare(folder)
    graveyard = Graveyard(localstate.folder(folder))

    async def go():
        meta = SqliteMetaStore(os.path.join(folder, "meta.sqlite3"),
                               journal=journal.Journal([folder], 1))
        data = FolderDataStore(folder)
        engine = Engine(meta, data)
        engine.graveyard = graveyard
        spec = PutSpec(owner="o")
        big = b"x" * 300_000
        await engine.create_bucket("b", "o", "us-east-1")
        v1 = await engine.put_object("b", "k", _body(big), spec)
        await engine.put_object("b", "k", _body(big), spec)           # frees v1's unit
        gone = await engine.put_object("b", "g", _body(big), spec)
        await engine.delete_object("b", "g")                           # frees it
        mp = Multipart(engine)
        upload = await mp.create_multipart_upload("b", "m", spec)
        await mp.upload_part(upload, 1, _body(b"p" * 1000), "")
        await mp.abort_multipart_upload(upload)                       # frees the part
        freed = [v1.parts[0].data_id, gone.parts[0].data_id]
        assert set(freed) <= set(data.list_ids())
        assert set(freed) < graveyard.ids() and len(graveyard.ids()) == 3
        local = LocalFolderLog(folder, [folder], data, None, graveyard)
        end = await local.log_end()
        assert await local.reap(end - 1) == 0            # stamped at the log end: not yet
        assert set(freed) <= set(data.list_ids())
        assert await local.reap(end) == 3
        assert not set(freed) & set(data.list_ids()) and graveyard.ids() == set()
        # Freed later: stamped at a later position (a new shipper process restamps what it
        # finds unstamped with the log end it reads then: never earlier than the free).
        graveyard.bury(["late-unit"])
        await engine.put_object("b", "k2", _body(b"y"), spec)
        again = LocalFolderLog(folder, [folder], data, None, graveyard)
        assert await again.reap(end) == 0 and graveyard.ids() == {"late-unit"}
        assert await again.reap(await again.log_end()) == 1 and graveyard.ids() == set()
        await meta.close()
        meta.journal.close()
    asyncio.run(go())


def test_graveyard_file_entries_and_rewrite(tmp_path):
    g = Graveyard(str(tmp_path / "t"))
    assert g.read() == ([], 0) and g.ids() == set()
    g.bury(["a", "b"])
    entries, offset = g.read()
    assert entries == [("a", None), ("b", None)]
    with open(g.path, "a") as f:
        f.write("torn-without-newline")
    assert g.read(offset) == ([], offset)               # an append in progress waits
    with open(g.path, "a") as f:
        f.write("\n")
    kept, size = g.rewrite({"a": 5, "b": 7}, {"a"}, 9)
    assert kept == {"b": 7, "torn-without-newline": 9}
    assert g.read()[0] == [("b", 7), ("torn-without-newline", 9)] and size == \
        os.path.getsize(g.path)
    g.clear()
    assert g.ids() == set()
