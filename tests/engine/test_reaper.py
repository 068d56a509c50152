"""The abandoned-upload reaper, driven one step at a time."""
import asyncio
import time

from s3ish.bg.uploads import UploadReaper
from s3ish.bg.worker import Status
from s3ish.engine.multipart import Multipart
from s3ish.engine.objects import Engine
from s3ish.engine.types import PutSpec
from s3ish.meta.sqlite import SqliteMetaStore
from s3ish.storage.datastore import MemoryDataStore


async def _one(data):
    yield data


def test_reaper_aborts_only_old_uploads():
    async def go():
        e = Engine(SqliteMetaStore(":memory:"), MemoryDataStore())
        mp = Multipart(e)
        await e.create_bucket("b", "o", "r")
        old = await mp.create_multipart_upload("b", "old", PutSpec(owner="o"))
        await mp.upload_part(old, 1, _one(b"part data"), "")
        await asyncio.sleep(0.05)
        fresh = await mp.create_multipart_upload("b", "fresh", PutSpec(owner="o"))
        reaper = UploadReaper(mp, max_age_seconds=time.time() - old.initiated - 0.025)
        assert await reaper.step() is Status.IDLE
        assert reaper.aborted == 1
        assert await e.meta.get_upload(old.upload_id) is None
        assert await e.meta.get_upload(fresh.upload_id) is not None
        assert e.data.list_ids() == []           # the old upload's part data is freed
        await e.meta.close()
    asyncio.run(go())
