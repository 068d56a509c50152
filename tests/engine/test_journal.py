"""The metadata journal: records round-trip, torn tails are cut, copies merge across drives,
and an index that is behind (a power cut) catches up."""
import asyncio
import os
import shutil

from s3ish.meta import journal, records as r, segments
from s3ish.meta.recovery import catch_up, rebuild_index
from s3ish.meta.sqlite import SqliteMetaStore


def _journal(drives, quorum):
    """A journal on formatted drives (appenders never create a drive's journal folder)."""
    for d in drives:
        journal.prepare(d)
    return journal.Journal(drives, quorum=quorum)


def _open_segment(drive):
    """The file records are appended to now on a drive."""
    return segments.files(drive)[-1].path


def _mutations():
    v = r.ObjectVersion(bucket="b", key="k", size=3, etag="e", mtime=1.5, owner="o",
                        inline=b"\x00\xffz", user_meta={"a": "1"}, tags={"t": "v"},
                        parts=[r.DataPart("id1", 3, "e", "c")])
    return [r.CreateBucket(r.Bucket("b", "o", 1.0, "us-east-1")), r.PutObject(v),
            r.PutObject(v, r.Condition(if_none_match=True)), r.SetObjectTags("b", "k", {}),
            r.CreateUpload(r.Upload("u", "b", "k2", 2.0, "o")),
            r.PutPart(r.Part("u", 1, "d1", 10, "e1", 3.0)),
            r.CompleteUpload("u", v), r.AbortUpload("x"), r.DeleteObject("b", "k"),
            r.DeleteBucket("b", "o")]


def test_records_roundtrip():
    ms = _mutations()
    lsn, back = journal.decode_record(journal.encode_record(7, ms))
    assert lsn == 7 and back == ms


def test_torn_tail_and_merge(tmp_path):
    drives = [str(tmp_path / "a"), str(tmp_path / "b")]
    j = _journal(drives, quorum=2)
    ms = _mutations()
    for lsn in range(1, 4):
        j.append(lsn, ms[:2])
    j.close()
    path_a = _open_segment(drives[0])
    with open(path_a, "ab") as f:
        f.write(b'{"lsn":4,"m":[')                 # a crash mid-append
    with open(_open_segment(drives[1]), "rb+") as f:
        f.truncate(os.path.getsize(f.name) - 5)    # drive b lost its last record's tail
    journal.repair(drives)
    assert open(path_a, "rb").read().endswith(b"\n")
    assert [lsn for lsn, _ in journal.read_merged(drives)] == [1, 2, 3]


async def _keys(db: str) -> list[str]:
    store = SqliteMetaStore(db)
    rows = await store.scan_objects("b", "", True, None, 100)
    await store.close()
    return [row.key for row in rows]


def test_index_catches_up_and_rebuilds(tmp_path):
    drives = [str(tmp_path / "d1"), str(tmp_path / "d2")]
    db = os.path.join(drives[0], "meta.sqlite3")

    async def write(n_from, n_to):
        os.makedirs(drives[0], exist_ok=True)
        store = SqliteMetaStore(db, journal=_journal(drives, quorum=2))
        if n_from == 0:
            await store.apply(r.CreateBucket(r.Bucket("b", "o", 1.0, "us-east-1")))
        for i in range(n_from, n_to):
            await store.apply(r.PutObject(r.ObjectVersion(
                bucket="b", key=f"k{i}", size=1, etag="e", mtime=1.0, owner="o",
                inline=b"x")))
        await store.close()
        store.journal.close()

    asyncio.run(write(0, 3))
    shutil.copy(db, str(tmp_path / "old.sqlite3"))           # the index as of 3 objects
    asyncio.run(write(3, 5))
    os.replace(str(tmp_path / "old.sqlite3"), db)              # ...lost its last commits
    for extra in (db + "-wal", db + "-shm"):
        if os.path.exists(extra):
            os.unlink(extra)
    assert asyncio.run(_keys(db)) == ["k0", "k1", "k2"]
    result = catch_up(db, drives)
    assert result["records"] == 2 and result["lsn_gaps"] == 0
    assert asyncio.run(_keys(db)) == ["k0", "k1", "k2", "k3", "k4"]
    os.unlink(db)
    assert rebuild_index(db, drives)["records"] == 6
    assert asyncio.run(_keys(db)) == ["k0", "k1", "k2", "k3", "k4"]


def test_compaction_then_rebuild(tmp_path):
    from s3ish.meta.recovery import compact
    drives = [str(tmp_path / "d1"), str(tmp_path / "d2"), str(tmp_path / "d3")]
    db = os.path.join(drives[0], "meta.sqlite3")
    os.makedirs(drives[0])

    async def put(keys):
        store = SqliteMetaStore(db, journal=_journal(drives, quorum=2))
        if await store.get_bucket("b") is None:
            await store.apply(r.CreateBucket(r.Bucket("b", "o", 1.0, "us-east-1")))
        for k in keys:
            await store.apply(r.PutObject(r.ObjectVersion(
                bucket="b", key=k, size=1, etag="e", mtime=1.0, owner="o", inline=b"x")))
        await store.close()
        store.journal.close()

    asyncio.run(put(["a", "b"]))
    assert compact(db, drives, quorum=2) == 3
    assert journal.read_merged(drives) == []        # only base lines are left
    assert {journal.drive_base(d) for d in drives} == {3}
    asyncio.run(put(["c"]))                          # records after the snapshot: LSN 4
    assert [lsn for lsn, _ in journal.read_merged(drives)] == [4]
    shutil.rmtree(drives[0])                          # the index drive is lost
    os.makedirs(drives[0])
    result = rebuild_index(db, drives)
    assert result["snapshot"] and result["records"] == 1
    assert asyncio.run(_keys(db)) == ["a", "b", "c"]


def _obj(key: str) -> r.PutObject:
    return r.PutObject(r.ObjectVersion(bucket="b", key=key, size=1, etag="e", mtime=1.0,
                                       owner="o", inline=b"x"))


def test_refused_commit_never_comes_back(tmp_path, monkeypatch):
    """A commit refused for lack of journal quorum is taken back from the drives that had
    it, its sequence number is never reused, and a rebuild shows only acknowledged writes."""
    drives = [str(tmp_path / f"d{i}") for i in range(3)]
    db = os.path.join(drives[0], "meta.sqlite3")
    os.makedirs(drives[0])

    async def go():
        j = _journal(drives, quorum=2)
        store = SqliteMetaStore(db, journal=j)
        await store.apply(r.CreateBucket(r.Bucket("b", "o", 1.0, "us-east-1")))
        real = j._append_one
        failing = {j.paths[1], j.paths[2]}
        monkeypatch.setattr(j, "_append_one",
                            lambda p, line, lsn: None if p in failing else real(p, line, lsn))
        try:
            await store.apply(_obj("REFUSED"))
            raise AssertionError("the commit should have been refused")
        except journal.JournalQuorumError:
            pass
        monkeypatch.setattr(j, "_append_one", real)
        await store.apply(_obj("ACKED"))
        await store.close()
        j.close()
    asyncio.run(go())
    assert asyncio.run(_keys(db)) == ["ACKED"]
    lsns = [lsn for lsn, _ in journal.read_merged(drives)]
    assert lsns == [1, 3]                         # 2 was burnt, not reused
    os.unlink(db)
    result = rebuild_index(db, drives)
    assert result["lsn_gaps"] == 1
    assert asyncio.run(_keys(db)) == ["ACKED"]


def test_damaged_line_mid_file_does_not_hide_later_records(tmp_path):
    drives = [str(tmp_path / "a")]
    j = _journal(drives, quorum=1)
    for lsn in (1, 2, 3):
        j.append(lsn, [_obj(f"k{lsn}")])
    j.close()
    path = _open_segment(drives[0])
    lines = open(path, "rb").read().split(b"\n")
    lines[2] = lines[2][:10]         # record 2 damaged in place (line 0 is the base line)
    open(path, "wb").write(b"\n".join(lines))
    journal.repair(drives)
    assert [lsn for lsn, _ in journal.read_merged(drives)] == [1, 3]


def test_writer_failure_settles_every_waiter(tmp_path, monkeypatch):
    db = str(tmp_path / "m.sqlite3")

    async def go():
        store = SqliteMetaStore(db)
        await store.apply(r.CreateBucket(r.Bucket("b", "o", 1.0, "us-east-1")))

        def boom(_mutations):
            raise OSError("lock failed")
        monkeypatch.setattr(store, "_commit_batch", boom)
        results = await asyncio.wait_for(asyncio.gather(
            store.apply(_obj("x")), store.apply(_obj("y")), return_exceptions=True), 5)
        assert all(isinstance(e, OSError) for e in results)
        monkeypatch.undo()
        await asyncio.wait_for(store.apply(_obj("z")), 5)     # the writer still works
        await store.close()
    asyncio.run(go())
