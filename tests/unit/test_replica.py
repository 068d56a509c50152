"""meta/replica.py: a follower applies another server's records to its index, one segment
per transaction, as recovery replays the journal: the position moves to the segment's end,
records already applied are passed over, freed data ids come back, an index that moved is
refused with nothing applied."""
import sqlite3

import pytest

from s3ish.meta import records as r
from s3ish.meta import replica
from s3ish.meta.logcodec import Entry
from s3ish.meta.sqlite_tx import migrate


def _index(tmp_path, lsn=0) -> str:
    path = str(tmp_path / "meta.sqlite3")
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    migrate(db)
    db.execute("UPDATE journal_state SET lsn = ? WHERE id = 1", (lsn,))
    db.close()
    return path


def _put(key, data_id, vid="null"):
    return r.PutObject(r.ObjectVersion("b", key, 5, "e" * 32, 1.0, "o", version_id=vid,
                                       parts=[r.DataPart(data_id, 5, "e" * 32)]))


def _rows(path):
    db = sqlite3.connect(path)
    try:
        return db.execute("SELECT key FROM objects ORDER BY key").fetchall()
    finally:
        db.close()


def test_a_segment_applies_in_one_transaction_and_frees_what_it_overwrites(tmp_path):
    path = _index(tmp_path, 10)
    seg = [Entry(9, 1.0, [_put("old", "u0")]),           # at or below the position: passed
           Entry(11, 1.0, [r.CreateBucket(r.Bucket("b", "o", 1.0))]),
           Entry(12, 1.0, [_put("k", "u1")]),
           Entry(14, 1.0, [_put("k", "u2"), _put("j", "u3")])]
    result = replica.apply_segment(path, seg, 15, expect=10)
    assert (result["records"], result["mutations"], result["skipped"]) == (3, 4, 0)
    assert result["freed"] == ["u1"]
    assert replica.position(path) == 15          # the segment's end, no record holds 15
    assert _rows(path) == [("j",), ("k",)]
    with pytest.raises(replica.Moved):
        replica.apply_segment(path, [Entry(16, 1.0, [r.DeleteObject("b", "k", None, "",
                                                                      1.0)])], 16, expect=10)
    assert replica.position(path) == 15 and _rows(path) == [("j",), ("k",)]


def test_a_failure_mid_segment_applies_nothing(tmp_path):
    path = _index(tmp_path)

    def entries():
        yield Entry(1, 1.0, [r.CreateBucket(r.Bucket("b", "o", 1.0))])
        yield Entry(2, 1.0, [_put("k", "u1")])
        raise OSError("the segment file went away")
    with pytest.raises(OSError):
        replica.apply_segment(path, entries(), 3, expect=0)
    assert replica.position(path) == 0 and _rows(path) == []
