"""`s3ish restore`'s plan (admin/restore/plan.py) and segment reading (index.py): which
checkpoint and segments lead to a target, what --to-time means, and that nothing damaged or
missing is passed over."""
import json

import pytest

from s3ish.admin.restore import index, plan
from s3ish.admin.restore.plan import RestoreError
from s3ish.meta import journal, records


def seg(first, last, t0=None, t1=None, gen=1):
    return {"gen": gen, "first": first, "last": last, "size": 1,
            "key": f"log/{gen:08d}/{first:020d}-{last:020d}.seg",
            "first_time": t0, "last_time": t1}


def ckpt(lsn, t=None):
    return {"lsn": lsn, "gen": 1, "key": f"checkpoints/{lsn:020d}-00000001.sqlite3",
            "size": 1, "time": t}


def manifest(segments, checkpoints=(), hwm=None):
    return plan.parse_manifest({
        "format": 1, "generation": 3, "writer": "w", "segments": list(segments),
        "checkpoints": list(checkpoints),
        "hwm": hwm if hwm is not None else (segments[-1]["last"] if segments else 0)})


def test_the_newest_checkpoint_at_or_below_the_target_then_the_segments_after_it():
    m = manifest([seg(1, 10), seg(11, 20), seg(21, 30)], [ckpt(12), ckpt(25)])
    assert plan.start_point(m, 30).lsn == 25
    assert [s.first for s in plan.segments_for(m, 25, 30)] == [21]
    assert plan.start_point(m, 24).lsn == 12
    assert [s.first for s in plan.segments_for(m, 12, 24)] == [11, 21]
    assert plan.start_point(m, 12).lsn == 12 and plan.segments_for(m, 12, 12) == []
    assert plan.start_point(m, 5) is None
    assert [s.first for s in plan.segments_for(m, 0, 5)] == [1]


def test_gaps_and_missing_history_are_refused_before_any_download():
    m = manifest([seg(1, 10), seg(15, 20)], hwm=20)
    with pytest.raises(RestoreError, match=r"gap: records 11\.\.14"):
        plan.start_point(m, 18)
    assert plan.start_point(m, 9) is None          # below the gap: fine
    trimmed = manifest([seg(11, 20), seg(21, 30)], [ckpt(15)])
    with pytest.raises(RestoreError, match="starts at 11"):
        plan.start_point(trimmed, 14)
    assert plan.start_point(trimmed, 16).lsn == 15
    short = manifest([seg(1, 10)], hwm=12)
    with pytest.raises(RestoreError, match=r"ends at 10: records 11\.\.12"):
        plan.start_point(short, 12)
    assert plan.start_point(manifest([]), 0) is None      # nothing shipped: an empty index


def test_lsn_targets():
    m = manifest([seg(1, 10)])
    assert plan.check_lsn(m, 10) == 10 and plan.check_lsn(m, 0) == 0
    with pytest.raises(RestoreError, match="high-water mark 10"):
        plan.check_lsn(m, 11)
    with pytest.raises(RestoreError, match="negative"):
        plan.check_lsn(m, -1)


def test_time_targets_read_only_the_segments_that_straddle_the_time():
    m = manifest([seg(1, 10, 100, 110), seg(11, 20, 120, 130), seg(21, 30, 140, 150)])
    assert plan.time_candidates(m, 135) == (20, [])
    best, read = plan.time_candidates(m, 125)
    assert best == 10 and [s.first for s in read] == [11]
    assert plan.time_candidates(m, 50) == (None, [])
    untimed = manifest([seg(1, 10), seg(11, 20, 120, 130)])
    best, read = plan.time_candidates(untimed, 200)
    assert best == 20 and read == []                # nothing untimed can pass 20
    best, read = plan.time_candidates(untimed, 125)
    assert best is None and [s.first for s in read] == [1, 11]
    # A checkpoint made at or before the time holds records committed before it.
    m = manifest([seg(21, 30, 140, 150)], [ckpt(20, t=131)])
    assert plan.time_candidates(m, 135) == (20, [])


def test_times_must_name_their_zone():
    assert plan.parse_time("2026-12-02T21:00:00Z") == 1796245200.0
    assert plan.parse_time("2026-12-02T22:00:00+01:00") == 1796245200.0
    for bad in ("2026-12-02T21:00:00", "yesterday"):
        with pytest.raises(RestoreError):
            plan.parse_time(bad)


@pytest.mark.parametrize("doc,message", [
    ({"format": 2, "generation": 1, "hwm": 0}, "format 2"),
    ({"format": 1, "hwm": 0}, "'generation'"),
    ({"format": 1, "generation": 1, "hwm": 5,
      "segments": [{**seg(1, 5), "key": "../x"}]}, "no valid key"),
    ({"format": 1, "generation": 1, "hwm": 5, "segments": [seg(6, 5)]}, "covers 6..5"),
    ([], "not a JSON object")])
def test_a_manifest_that_cannot_be_trusted_is_refused(doc, message):
    with pytest.raises(RestoreError, match=message):
        plan.parse_manifest(doc)


# ---- segments ----

def _put(lsn, when=None):
    """A record line; without `when` one written before records carried their time."""
    m = records.CreateBucket(records.Bucket(f"b{lsn}", "owner", 1.0))
    if when is not None:
        return journal.encode_record(lsn, [m], when)
    doc = json.loads(journal.encode_record(lsn, [m]).rpartition(b"\t")[0])
    del doc["t"]
    return _line(doc)


def _line(doc):
    import zlib
    body = json.dumps(doc).encode()
    return body + b"\t" + f"{zlib.crc32(body):08x}".encode() + b"\n"


def _segment(tmp_path, lines, first=1, last=3):
    path = tmp_path / "s.seg"
    path.write_bytes(journal.encode_base(first - 1) + b"".join(lines))
    return str(path), plan.Segment(1, first, last, "log/s.seg", path.stat().st_size)


def test_segments_decode_with_their_times(tmp_path):
    path, s = _segment(tmp_path, [_put(1, 10.0), _put(2), _put(3, 30)])
    got = list(index.read_segment(path, s))
    assert [(e.lsn, e.time) for e in got] == [(1, 10.0), (2, None), (3, 30.0)]
    assert got[0].mutations[0].bucket.name == "b1"
    assert index.latest_at(path, s, 29.0) == 1 and index.latest_at(path, s, 30.0) == 3


@pytest.mark.parametrize("damage,message", [
    (lambda ls: [ls[0], ls[1].replace(b"b2", b"bX"), ls[2]], "line 3 does not decode"),
    (lambda ls: [ls[0], ls[1], ls[2][:-1]], "line 4 is cut short"),
    (lambda ls: [ls[1], ls[0], ls[2]], "out of order"),
    (lambda ls: [ls[0], ls[1], _put(4)], "record 4, out of order or outside"),
])
def test_a_damaged_segment_is_an_error_naming_the_line(tmp_path, damage, message):
    path, s = _segment(tmp_path, damage([_put(1), _put(2), _put(3)]))
    with pytest.raises(RestoreError, match=message):
        list(index.read_segment(path, s))


def test_a_record_of_a_newer_format_is_refused(tmp_path):
    path, s = _segment(tmp_path, [_line({"lsn": 1, "f": records.FORMAT + 1, "m": []})],
                       last=1)
    with pytest.raises(RestoreError, match="newer s3ish"):
        list(index.read_segment(path, s))


def test_replay_stops_exactly_at_the_target(tmp_path):
    import sqlite3
    path, s = _segment(tmp_path, [_put(1), _put(2), _put(3)], last=5)
    db = str(tmp_path / "index.sqlite3")
    index.start_index(db, None)
    assert index.replay(db, [(s, path)], 2)["records"] == 2
    conn = sqlite3.connect(db)
    assert [r[0] for r in conn.execute("SELECT name FROM buckets ORDER BY name")] == \
        ["b1", "b2"]
    assert conn.execute("SELECT lsn FROM journal_state").fetchone()[0] == 2
    conn.close()
    db2 = str(tmp_path / "index2.sqlite3")
    index.start_index(db2, None)
    index.replay(db2, [(s, path)], 5)      # a position past the last record (a burnt one)
    conn = sqlite3.connect(db2)
    assert conn.execute("SELECT lsn FROM journal_state").fetchone()[0] == 5
    conn.close()


def test_a_checkpoint_must_be_at_its_named_position(tmp_path):
    import sqlite3
    src = str(tmp_path / "src.sqlite3")
    index.start_index(src, None)
    conn = sqlite3.connect(src)
    conn.execute("UPDATE journal_state SET lsn = 7")
    conn.commit()
    conn.close()
    with pytest.raises(RestoreError, match="named 8 in manifest.json holds the index at 7"):
        index.start_index(str(tmp_path / "i.sqlite3"), src, 8)
    (tmp_path / "junk").write_bytes(b"not sqlite at all" * 100)
    with pytest.raises(RestoreError, match="not a usable index"):
        index.start_index(str(tmp_path / "j.sqlite3"), str(tmp_path / "junk"), 1)
