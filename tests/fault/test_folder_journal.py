"""The journal is the commit point on one folder too: a folder written before it had a
journal keeps working (its journal starts at the index's position, with a snapshot there);
an index that lost its last commits catches up from the journal; a lost index is rebuilt
from it; the log keeper checkpoints and truncates behind the checkpoint while serving."""
import asyncio
import os
import shutil
import subprocess
import sys

from s3ish.bg.logkeeper import LogKeeper
from s3ish.engine.objects import Engine
from s3ish.engine.types import PutSpec
from s3ish.meta import checkpoint, journal, records as r, segments
from s3ish.meta.sqlite import SqliteMetaStore
from s3ish.storage.datastore import FolderDataStore
from tests.fault.test_rebuild_index import _snapshot
from tests.support import ServerProcess

MiB = 1024 * 1024


async def _body(data: bytes):
    yield data


def _write_without_journal(folder: str) -> None:
    """What the previous version wrote on one folder: an index committed with fsync and no
    journal (journal=None is still how the in-memory store runs)."""
    os.makedirs(folder)

    async def go():
        meta = SqliteMetaStore(os.path.join(folder, "meta.sqlite3"))
        engine = Engine(meta, FolderDataStore(folder))
        await engine.create_bucket("legacy", "owner", "us-east-1")
        spec = PutSpec(owner="owner", content_type="text/plain")
        await engine.put_object("legacy", "small", _body(b"inline bytes"), spec)
        await engine.put_object("legacy", "big", _body(b"B" * (2 * MiB + 3)), spec)
        await engine.put_object("legacy", "gone", _body(b"deleted"), spec)
        await engine.delete_object("legacy", "gone")
        await meta.close()
    asyncio.run(go())


def _admin_rebuild(folder: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "s3ish", "admin", "rebuild-index",
                           "--data", folder], capture_output=True, text=True)


def _lose_index(folder: str) -> None:
    db = os.path.join(folder, "meta.sqlite3")
    for path in (db, db + "-wal", db + "-shm"):
        if os.path.exists(path):
            os.unlink(path)


def test_a_folder_written_before_the_journal(tmp_path):
    folder = str(tmp_path / "data")
    _write_without_journal(folder)
    assert not journal.exists([folder])
    srv = ServerProcess(folder, str(tmp_path)).start()
    try:
        c = srv.client()
        assert c.get_object(Bucket="legacy", Key="small")["Body"].read() == b"inline bytes"
        assert c.get_object(Bucket="legacy", Key="big")["ContentLength"] == 2 * MiB + 3
        c.put_object(Bucket="legacy", Key="after", Body=b"written with a journal")
        before = _snapshot(c)
    finally:
        srv.stop()
    # The journal starts after the old history (position 1: the index held rows at 0),
    # with a snapshot of the index there: alone, it never claims to hold everything.
    assert checkpoint.snapshot_lsn(checkpoint.snapshot_on(folder)) == 1
    assert journal.drive_base(folder) == 1
    _lose_index(folder)
    result = _admin_rebuild(folder)
    assert result.returncode == 0, result.stderr
    srv = ServerProcess(folder, str(tmp_path)).start()
    try:
        assert _snapshot(srv.client()) == before
    finally:
        srv.stop()
    # Without its snapshot the journal cannot rebuild the old objects: refused, not partial.
    _lose_index(folder)
    os.unlink(checkpoint.snapshot_on(folder))
    result = _admin_rebuild(folder)
    assert result.returncode == 1 and "cannot rebuild" in result.stderr


def test_an_index_behind_the_journal_catches_up_and_a_lost_one_is_rebuilt(tmp_path):
    folder = str(tmp_path / "data")
    db = os.path.join(folder, "meta.sqlite3")
    srv = ServerProcess(folder, str(tmp_path)).start()
    try:
        c = srv.client()
        c.create_bucket(Bucket="bkt")
        c.put_object(Bucket="bkt", Key="early", Body=b"1")
    finally:
        srv.stop()
    shutil.copy(db, str(tmp_path / "old.sqlite3"))       # the index as of "early"
    srv = ServerProcess(folder, str(tmp_path)).start()
    try:
        c = srv.client()
        c.put_object(Bucket="bkt", Key="late", Body=b"2" * (300 * 1024))
        c.put_object(Bucket="bkt", Key="early", Body=b"overwritten")
        before = _snapshot(c)
    finally:
        srv.stop()
    _lose_index(folder)
    shutil.copy(str(tmp_path / "old.sqlite3"), db)        # a power cut lost the last commits
    srv = ServerProcess(folder, str(tmp_path)).start()
    try:
        assert _snapshot(srv.client()) == before
        assert "index caught up from the journal" in srv.read_log()
    finally:
        srv.stop()
    _lose_index(folder)                                    # the index is gone altogether
    srv = ServerProcess(folder, str(tmp_path)).start()
    try:
        assert _snapshot(srv.client()) == before
        assert "rebuilding it from the journal" in srv.read_log()
    finally:
        srv.stop()


def test_the_log_keeper_checkpoints_and_truncates_within_its_bound(tmp_path):
    folder = str(tmp_path / "d")
    os.makedirs(folder)
    db = os.path.join(folder, "meta.sqlite3")
    keep = {"above": None}

    async def go():
        j = journal.Journal([folder], 1, segment_bytes=2000)
        journal.prepare(folder)
        store = SqliteMetaStore(db, journal=j)
        keeper = LogKeeper(db, [folder], keep_above=lambda: keep["above"], bound=4000)
        await store.apply(r.CreateBucket(r.Bucket("b", "o", 1.0, "us-east-1")))
        for i in range(60):
            await store.apply(r.PutObject(r.ObjectVersion(
                bucket="b", key=f"key-{i:03d}", size=1, etag="e", mtime=1.0, owner="o",
                inline=b"x")))
        keep["above"] = 10            # a cold tier that holds records up to 10 only
        await keeper.step()
        assert checkpoint.latest_lsn([folder]) == 61
        assert journal.drive_base(folder) <= 10         # I2: nothing above 10 deleted
        assert [e.lsn for e in journal.read_entries([folder], after=10)] == \
            list(range(11, 62))
        keep["above"] = None          # no tier: only the checkpoint bounds it
        await keeper.step()
        assert journal.drive_base(folder) == 61
        assert len(segments.files(folder)) == 1
        await store.close()
        j.close()
    asyncio.run(go())
