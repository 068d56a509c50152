"""Journal segments and checkpoints: rotation at a size bound, seals made by another process
followed by every appender, journals written before segments read as the first segment, torn
lines of killed processes, commit times, checkpoints at an exact LSN while writers run, and
truncation that never passes what it is told to keep."""
import asyncio
import os
import sqlite3
import threading

from s3ish.meta import checkpoint, docs, journal, logcodec, records as r, segments
from s3ish.meta.sqlite import SqliteMetaStore


def _put(key: str) -> r.PutObject:
    return r.PutObject(r.ObjectVersion(bucket="b", key=key, size=1, etag="e", mtime=1.0,
                                       owner="o", inline=b"x"))


def _journal(drives, quorum=1, **kw):
    for d in drives:
        journal.prepare(d)
    return journal.Journal(drives, quorum=quorum, **kw)


def test_commit_time_in_records_and_old_lines_without_it():
    entry = journal.decode_entry(journal.encode_record(4, [_put("k")], when=123.5))
    assert entry == logcodec.Entry(4, 123.5, [_put("k")])
    assert journal.decode_record(journal.encode_record(4, [_put("k")])) == (4, [_put("k")])
    old = logcodec._line({"lsn": 2, "f": 2, "m": [["AbortUpload", {"upload_id": "u"}]]})
    assert journal.decode_entry(old) == logcodec.Entry(2, None, [r.AbortUpload("u")])
    bad = logcodec._line({"lsn": 2, "t": "noon", "m": []})
    assert journal.decode_entry(bad) is None


def test_rotation_at_the_size_bound(tmp_path):
    drives = [str(tmp_path / "a"), str(tmp_path / "b")]
    j = _journal(drives, quorum=2, segment_bytes=600)
    for lsn in range(1, 21):
        j.append(lsn, [_put(f"key-{lsn:04d}")])
    j.close()
    for d in drives:
        fs = segments.files(d)
        assert len(fs) > 3 and fs[0].slot == 1
        for f, nxt in zip(fs, fs[1:]):
            assert segments.base(nxt.path) == nxt.slot - 1      # each starts with its base
            assert segments.sealed(f.path) and not segments.sealed(fs[-1].path)
            lsns = [journal.decode_record(line)[0] for line in segments.lines(f.path)
                    if journal.decode_record(line)]
            assert lsns == list(range(f.slot, nxt.slot))
        assert journal.drive_base(d) == 0
    assert [lsn for lsn, _ in journal.read_merged(drives)] == list(range(1, 21))
    assert [e.lsn for e in journal.read_entries(drives, after=7, upto=12)] == list(range(8, 13))


def test_a_seal_by_another_process_is_followed(tmp_path):
    """Worker processes each hold a Journal: one seals (the shipper), the others move on at
    their next append (the old file is read-only)."""
    drives = [str(tmp_path / "a")]
    j1, j2 = _journal(drives), _journal(drives)
    j1.append(1, [_put("1")])
    j2.append(2, [_put("2")])
    assert segments.seal(drives, 2) == 1
    j1.append(3, [_put("3")])
    j2.append(4, [_put("4")])
    assert segments.seal(drives, 4) == 1 and segments.seal(drives, 4) == 1   # idempotent
    j1.append(5, [_put("5")])
    j1.close()
    j2.close()
    by_file = {f.slot: [journal.decode_record(x)[0] for x in segments.lines(f.path)
                        if journal.decode_record(x)] for f in segments.files(drives[0])}
    assert by_file == {1: [1, 2], 3: [3, 4], 5: [5]}


def test_a_journal_written_before_segments_is_the_first_segment(tmp_path):
    drive = str(tmp_path / "d")
    journal.prepare(drive)
    # As the previous version wrote it: one file, records without commit times.
    old = [logcodec._line({"base": 0})] + [
        logcodec._line({"lsn": n, "f": 2, "m": [["PutObject", docs.to_doc(_put(k))]]})
        for n, k in ((1, "a"), (2, "b"))]
    with open(journal.path_on(drive), "wb") as f:
        f.writelines(old)
    j = _journal([drive])
    j.append(3, [_put("c")])              # continues the old file
    assert segments.files(drive) == [segments.SegFile(journal.path_on(drive), 0)]
    segments.seal([drive], 3)
    j.append(4, [_put("d")])
    j.close()
    assert [f.slot for f in segments.files(drive)] == [0, 4]
    entries = journal.read_entries([drive])
    assert [e.lsn for e in entries] == [1, 2, 3, 4]
    assert entries[0].time is None and entries[3].time is not None
    assert journal.drive_base(drive) == 0 and journal.last_lsn(drive) == 4


def test_a_torn_line_of_a_killed_process_does_not_swallow_the_next_record(tmp_path):
    drive = str(tmp_path / "d")
    j = _journal([drive])
    j.append(1, [_put("1")])
    with open(segments.files(drive)[-1].path, "ab") as f:
        f.write(journal.encode_record(2, [_put("2")])[:25])     # killed mid-write
    j.append(3, [_put("3")])
    j.close()
    assert [lsn for lsn, _ in journal.read_merged([drive])] == [1, 3]


def test_a_drive_that_missed_a_segment_is_not_self_sufficient(tmp_path):
    drives = [str(tmp_path / "a"), str(tmp_path / "b")]
    j = _journal(drives, quorum=1)
    j.append(1, [_put("1")])
    segments.seal([drives[0]], 1)         # drive b was away for this seal...
    j.append(2, [_put("2")])              # ...and the segment is created when it is back
    j.close()
    assert journal.drive_base(drives[0]) == 0
    assert segments.base(segments.files(drives[1])[-1].path) == 1
    b_only = segments.files(drives[1])
    os.unlink(b_only[-1].path)
    segments.create(segments.folder(drives[1]), 2, 5)      # created late: based after a gap
    assert journal.drive_base(drives[1]) == 5


def _store(db, drives):
    return SqliteMetaStore(db, journal=_journal(drives))


def test_checkpoint_is_exact_while_writers_run(tmp_path):
    drive = str(tmp_path / "d")
    os.makedirs(drive)
    db = os.path.join(drive, "meta.sqlite3")
    stop = threading.Event()

    async def write():
        store = _store(db, [drive])
        await store.apply(r.CreateBucket(r.Bucket("b", "o", 1.0, "us-east-1")))
        n = 0
        while not stop.is_set():
            n += 1
            await store.apply(_put(f"k{n:05d}"))
        await store.close()
        store.journal.close()

    writer = threading.Thread(target=asyncio.run, args=(write(),))
    writer.start()
    try:
        lsns = []
        while len(lsns) < 3:
            if os.path.exists(db) and segments.exists([drive]):
                lsns.append(checkpoint.take(db, [drive]))
    finally:
        stop.set()
        writer.join()
    snap = checkpoint.snapshot_on(drive)
    lsn = checkpoint.snapshot_lsn(snap)
    assert lsn == lsns[-1] and lsns == sorted(lsns)
    with sqlite3.connect(snap) as db_copy:
        keys = db_copy.execute("SELECT count(*) FROM objects").fetchone()[0]
    assert keys == lsn - 1          # record 1 made the bucket, every later one a key
    # The journal was sealed exactly there: a segment starts right after the checkpoint.
    assert lsn + 1 in [f.slot for f in segments.files(drive)]


def test_truncation_keeps_what_it_is_told_to_keep(tmp_path):
    drive = str(tmp_path / "d")
    os.makedirs(drive)
    db = os.path.join(drive, "meta.sqlite3")

    async def write(keys):
        store = _store(db, [drive])
        if await store.get_bucket("b") is None:
            await store.apply(r.CreateBucket(r.Bucket("b", "o", 1.0, "us-east-1")))
        for k in keys:
            await store.apply(_put(k))
            segments.seal([drive], (await asyncio.to_thread(_lsn, db)))
        await store.close()
        store.journal.close()

    asyncio.run(write(["a", "b", "c", "d"]))
    assert checkpoint.take(db, [drive]) == 5
    assert checkpoint.truncate_behind([drive], keep_above=2) == 1   # segment 1 (records 1, 2)
    assert [e.lsn for e in journal.read_entries([drive])] == [3, 4, 5]
    assert journal.drive_base(drive) == 2
    assert checkpoint.truncate_behind([drive]) == 3
    assert journal.read_entries([drive]) == [] and journal.drive_base(drive) == 5


def _lsn(db):
    with sqlite3.connect(db) as c:
        return c.execute("SELECT lsn FROM journal_state").fetchone()[0]
