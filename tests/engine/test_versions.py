"""The versioning rules (meta/rules.py) with no HTTP: run over a minimal dict store written
here and over SQLite's, which must agree; then the engine, journal replay of format-1 records,
and a data folder written before versions existed."""
import asyncio
import copy
import json
import sqlite3
import zlib

import pytest

from s3ish.engine.objects import Engine
from s3ish.engine.types import PutSpec
from s3ish.meta import docs, errors, journal, records as r, rules
from s3ish.meta.recovery import _apply_all
from s3ish.meta.sqlite import SqliteMetaStore
from s3ish.meta.sqlite_tx import MIGRATIONS, SqliteTx, migrate
from s3ish.storage.datastore import MemoryDataStore
from s3ish.util.ids import version_id


class DictTx:
    """rules.Tx over plain dicts: proof that the rules need nothing of SQL."""

    def __init__(self):
        self.buckets, self.cur, self.old, self.uploads, self.parts = {}, {}, {}, {}, {}
        self.stats = {}
        self.due = {}           # the lifecycle schedule: (bucket, key, upload_id) -> time

    def bucket(self, name):
        return copy.deepcopy(self.buckets.get(name))

    def insert_bucket(self, b):
        self.buckets[b.name] = copy.deepcopy(b)
        self.stats[b.name] = [0, 0]

    update_bucket = insert_bucket

    def delete_bucket(self, name):
        del self.buckets[name]

    def bucket_empty(self, name):
        return not any(b == name for b, _ in self.cur) and not any(
            b == name for b, _, _ in self.old)

    def uploads_of(self, bucket):
        return [u for u, up in self.uploads.items() if up.bucket == bucket]

    def current(self, bucket, key):
        return copy.deepcopy(self.cur.get((bucket, key)))

    def version(self, bucket, key, vid):
        c = self.cur.get((bucket, key))
        if c is not None and c.version_id == vid:
            return copy.deepcopy(c)
        for (b, k, _), v in self.old.items():
            if (b, k) == (bucket, key) and v.version_id == vid:
                return copy.deepcopy(v)
        return None

    def noncurrent(self, bucket, key, vid):
        for (b, k, _), v in self.old.items():
            if (b, k) == (bucket, key) and v.version_id == vid:
                return copy.deepcopy(v)
        return None

    def put_current(self, v):
        assert (v.bucket, v.key) not in self.cur
        self.cur[(v.bucket, v.key)] = copy.deepcopy(v)

    def demote(self, v):
        del self.cur[(v.bucket, v.key)]
        self.put_noncurrent(v)

    def put_noncurrent(self, v):
        self.old[(v.bucket, v.key, v.vsort)] = copy.deepcopy(v)

    def remove(self, v, current):
        if current:
            del self.cur[(v.bucket, v.key)]
        else:
            del self.old[(v.bucket, v.key, v.vsort)]

    def promote_newest(self, bucket, key):
        mine = sorted(s for b, k, s in self.old if (b, k) == (bucket, key))
        if mine:
            self.cur[(bucket, key)] = self.old.pop((bucket, key, mine[0]))

    def update_version(self, v, current):
        if current:
            self.cur[(v.bucket, v.key)] = copy.deepcopy(v)
        else:
            self.old[(v.bucket, v.key, v.vsort)] = copy.deepcopy(v)

    def count(self, bucket, objects, nbytes):
        self.stats[bucket][0] += objects
        self.stats[bucket][1] += nbytes

    def upload(self, upload_id):
        return self.uploads.get(upload_id)

    def insert_upload(self, u):
        self.uploads[u.upload_id] = u

    def delete_upload(self, upload_id):
        self.uploads.pop(upload_id)
        return [self.parts.pop(k) for k in [k for k in self.parts if k[0] == upload_id]]

    def part_ids(self, upload_id):
        return {d for k, d in self.parts.items() if k[0] == upload_id}

    def put_part(self, p):
        old = self.parts.get((p.upload_id, p.part_number))
        self.parts[(p.upload_id, p.part_number)] = p.data_id
        return old

    def lc_schedule(self, bucket, key, upload_id, t):
        k = (bucket, key, upload_id)
        self.due[k] = min(self.due.get(k, t), t)

    def lc_reset(self, bucket, prefixes):
        self.due = {k: t for k, t in self.due.items() if k[0] != bucket}
        for v in [*self.cur.values(), *self.old.values()]:
            if v.bucket == bucket and any(v.key.startswith(p) for p in prefixes):
                self.lc_schedule(bucket, v.key, "", v.mtime)
        for u in self.uploads.values():
            if u.bucket == bucket and any(u.key.startswith(p) for p in prefixes):
                self.lc_schedule(bucket, u.key, u.upload_id, u.initiated)

    def history(self, bucket, key):
        """[(version id, delete marker)] newest first, the current one first."""
        out = []
        if (bucket, key) in self.cur:
            c = self.cur[(bucket, key)]
            out.append((c.version_id, c.delete_marker))
        for s in sorted(s for b, k, s in self.old if (b, k) == (bucket, key)):
            v = self.old[(bucket, key, s)]
            out.append((v.version_id, v.delete_marker))
        return out


class SqlTx(SqliteTx):
    def __init__(self):
        db = sqlite3.connect(":memory:", isolation_level=None)
        migrate(db)
        super().__init__(db)

    def history(self, bucket, key):
        out = []
        c = self.current(bucket, key)
        if c is not None:
            out.append((c.version_id, c.delete_marker))
        for meta, dm in self.db.execute("SELECT meta, dm FROM versions WHERE bucket=? AND "
                                        "key=? ORDER BY vsort", (bucket, key)):
            out.append((json.loads(meta)["version_id"], bool(dm)))
        return out


@pytest.fixture(params=[DictTx, SqlTx])
def tx(request):
    t = request.param()
    rules.apply(t, r.CreateBucket(r.Bucket("b", "o", 0.0)))
    return t


NOW = 1_000_000.0


def put(tx, key="k", data="d1", **kw):
    v = r.ObjectVersion(bucket="b", key=key, size=1, etag="e" + data, mtime=NOW, owner="o",
                        parts=[r.DataPart(data, 1)], vsort=version_id(), **kw)
    return rules.apply(tx, r.PutObject(v))


def delete(tx, key="k", version=None, bypass=False, now=NOW):
    return rules.apply(tx, r.DeleteObject("b", key, version, version_id(), now, bypass))


def versioning(tx, status):
    rules.apply(tx, r.SetBucketVersioning("b", status))


def test_unversioned_overwrite_frees_the_old_data(tx):
    assert put(tx, data="d1").version_id == "null"
    out = put(tx, data="d2")
    assert out.freed == ["d1"] and tx.history("b", "k") == [("null", False)]
    assert delete(tx).freed == ["d2"] and tx.history("b", "k") == []
    assert delete(tx).freed == []      # nothing there: still success


def test_enabled_keeps_every_version_and_markers_stack(tx):
    versioning(tx, "Enabled")
    a, b = put(tx, data="d1"), put(tx, data="d2")
    assert a.freed == b.freed == [] and a.version_id != b.version_id
    m1 = delete(tx)
    m2 = delete(tx)        # a delete marker on a delete marker: another marker
    assert m1.delete_marker and m2.delete_marker and m1.freed == m2.freed == []
    assert tx.history("b", "k") == [(m2.version_id, True), (m1.version_id, True),
                                    (b.version_id, False), (a.version_id, False)]
    # Removing the current marker promotes the next newest; removing a version frees it.
    assert delete(tx, version=m2.version_id).delete_marker
    assert tx.current("b", "k").version_id == m1.version_id
    assert delete(tx, version=a.version_id).freed == ["d1"]
    delete(tx, version=m1.version_id)
    assert tx.current("b", "k").version_id == b.version_id


def test_suspended_replaces_only_the_null_version(tx):
    put(tx, data="d0")                                   # null, before versioning
    versioning(tx, "Enabled")
    v1 = put(tx, data="d1")
    versioning(tx, "Suspended")
    out = put(tx, data="d2")
    assert out.version_id == "null" and out.freed == ["d0"]
    assert tx.history("b", "k") == [("null", False), (v1.version_id, False)]
    out = put(tx, data="d3")                             # null overwritten in place
    assert out.freed == ["d2"]
    m = delete(tx)
    assert m.version_id == "null" and m.delete_marker and m.freed == ["d3"]
    assert tx.history("b", "k") == [("null", True), (v1.version_id, False)]
    versioning(tx, "Enabled")
    v2 = put(tx, data="d4")
    assert tx.history("b", "k") == [(v2.version_id, False), ("null", True),
                                    (v1.version_id, False)]


def test_newest_version_id_wins_whatever_the_commit_order(tx):
    """A long upload overtaken by a later, shorter one (or a delete) commits last: it goes in
    as noncurrent, so the current version is the newest of the history."""
    versioning(tx, "Enabled")
    slow, mid, fast, marker = version_id(), version_id(), version_id(), version_id()

    def put_at(vsort, data):
        v = r.ObjectVersion(bucket="b", key="k", size=1, etag="e", mtime=NOW, owner="o",
                            parts=[r.DataPart(data, 1)], vsort=vsort)
        return rules.apply(tx, r.PutObject(v))

    put_at(fast, "d2")
    out = put_at(slow, "d1")
    assert out.version_id == slow and out.freed == []
    assert tx.history("b", "k") == [(fast, False), (slow, False)]
    rules.apply(tx, r.DeleteObject("b", "k", None, marker, NOW, False))
    late = put_at(version_id(), "d3")
    assert tx.history("b", "k") == [(late.version_id, False), (marker, True), (fast, False),
                                    (slow, False)]
    assert delete(tx, version=late.version_id).freed == ["d3"]
    assert tx.current("b", "k").version_id == marker
    delete(tx, version=marker)
    versioning(tx, "Suspended")     # a null version older than the current one: noncurrent
    old_null = put_at(mid, "d4")
    assert old_null.version_id == "null"
    assert tx.history("b", "k") == [(fast, False), ("null", False), (slow, False)]


def test_conditions_see_the_current_live_version(tx):
    versioning(tx, "Enabled")
    put(tx, data="d1")
    with pytest.raises(errors.PreconditionFailed):
        rules.apply(tx, r.DeleteObject("b", "k", None, version_id(), NOW, False,
                                       r.Condition(if_match="nope")))
    marker = delete(tx)
    with pytest.raises(errors.PreconditionFailed):   # a delete marker has no ETag
        rules.apply(tx, r.DeleteObject("b", "k", None, version_id(), NOW, False,
                                       r.Condition(if_match="*")))
    with pytest.raises(errors.PreconditionFailed):   # ... but a time and a size (0)
        rules.apply(tx, r.DeleteObject("b", "k", None, version_id(), NOW, False,
                                       r.Condition(if_match_size=1)))
    rules.apply(tx, r.DeleteObject("b", "k", marker.version_id, "", NOW, False,
                                   r.Condition(if_match_size=0, if_match_mtime=NOW)))
    with pytest.raises(errors.NoSuchKey):            # nothing at all under the key
        rules.apply(tx, r.DeleteObject("b", "nothing", None, version_id(), NOW, False,
                                       r.Condition(if_match="*")))
    delete(tx)
    v = r.ObjectVersion(bucket="b", key="k", size=1, etag="x", mtime=NOW, owner="o",
                        vsort=version_id())
    rules.apply(tx, r.PutObject(v, r.Condition(if_none_match=True)))   # marker: none live


def lock_bucket(tx, mode="", days=0):
    versioning(tx, "Enabled")
    rules.apply(tx, r.SetBucketObjectLock("b", r.ObjectLockConfig(True, mode, days)))


def test_locked_versions_cannot_be_removed(tx):
    lock_bucket(tx)
    gov = put(tx, data="g", lock_mode="GOVERNANCE", lock_until=NOW + 100)
    comp = put(tx, key="c", data="c", lock_mode="COMPLIANCE", lock_until=NOW + 100)
    held = put(tx, key="h", data="h", legal_hold=True)
    for key, v in (("k", gov), ("c", comp), ("h", held)):
        with pytest.raises(errors.ObjectLocked):
            delete(tx, key=key, version=v.version_id)
    with pytest.raises(errors.ObjectLocked):
        delete(tx, key="c", version=comp.version_id, bypass=True)   # compliance: never
    assert delete(tx, version=gov.version_id, bypass=True).freed == ["g"]
    assert delete(tx, key="c", version=comp.version_id, now=NOW + 101).freed == ["c"]
    m = delete(tx, key="h")             # a delete marker is always allowed
    assert m.delete_marker and tx.version("b", "h", held.version_id) is not None
    rules.apply(tx, r.SetObjectLegalHold("b", "h", held.version_id, False))
    assert delete(tx, key="h", version=held.version_id).freed == ["h"]


def test_retention_changes(tx):
    lock_bucket(tx)
    v = put(tx, lock_mode="GOVERNANCE", lock_until=NOW + 100)

    def retain(mode, until, bypass=False):
        return rules.apply(tx, r.SetObjectRetention("b", "k", v.version_id, mode, until, NOW,
                                                    bypass))
    retain("GOVERNANCE", NOW + 200)                     # extending: always
    with pytest.raises(errors.ObjectLocked):
        retain("GOVERNANCE", NOW + 50)                  # shortening needs the bypass
    retain("GOVERNANCE", NOW + 50, bypass=True)
    with pytest.raises(errors.ObjectLocked):
        retain("COMPLIANCE", NOW + 60)                  # a mode change needs it too
    retain("COMPLIANCE", NOW + 60, bypass=True)
    for mode, until in (("GOVERNANCE", NOW + 70), ("COMPLIANCE", NOW + 55), ("", 0)):
        with pytest.raises(errors.ObjectLocked):
            retain(mode, until, bypass=True)
    assert tx.version("b", "k", v.version_id).lock_mode == "COMPLIANCE"


def test_default_retention_and_lock_state_rules(tx):
    with pytest.raises(errors.InvalidBucketState):     # lock needs versioning
        rules.apply(tx, r.SetBucketObjectLock("b", r.ObjectLockConfig()))
    with pytest.raises(errors.ObjectLockNotEnabled):
        rules.apply(tx, r.SetObjectLegalHold("b", "k", None, True))
    lock_bucket(tx, "GOVERNANCE", 2)
    v = put(tx)
    got = tx.version("b", "k", v.version_id)
    assert got.lock_mode == "GOVERNANCE" and got.lock_until == NOW + 2 * rules.DAY
    with pytest.raises(errors.InvalidBucketState):     # no suspending a locked bucket
        versioning(tx, "Suspended")


def test_bucket_with_versions_is_not_empty(tx):
    versioning(tx, "Enabled")
    put(tx)
    delete(tx)
    with pytest.raises(errors.BucketNotEmpty):
        rules.apply(tx, r.DeleteBucket("b", "o"))


# ---- replay of format 1 and a folder written before versions ----

# Fields each record gained in format 2 (absent from every format-1 line).
_NEW_FIELDS = {"DeleteObject": ("version_id", "marker", "now", "bypass_governance",
                                "condition", "owner"),
               "ObjectVersion": ("vsort", "delete_marker", "lock_mode", "lock_until",
                                 "legal_hold"),
               "Bucket": ("versioning", "object_lock", "lifecycle", "tags")}


def _format1_line(lsn, mutations):
    """A journal line exactly as the previous format wrote it: no "f", no new fields."""
    m = []
    for x in mutations:
        doc = docs.to_doc(x)
        for name in _NEW_FIELDS.get(type(x).__name__, ()):
            del doc[name]
        for field, kind in (("version", "ObjectVersion"), ("bucket", "Bucket")):
            if isinstance(doc.get(field), dict):
                for name in _NEW_FIELDS[kind]:
                    del doc[field][name]
        m.append([type(x).__name__, doc])
    body = json.dumps({"lsn": lsn, "m": m}, separators=(",", ":")).encode()
    return body + b"\t" + f"{zlib.crc32(body):08x}".encode() + b"\n"


def test_format1_journal_records_replay():
    def obj(key, data, t):
        return r.ObjectVersion(bucket="b", key=key, size=len(data), etag="e", mtime=t,
                               owner="o", inline=data)
    lines = [_format1_line(1, [r.CreateBucket(r.Bucket("b", "o", 1.0, "us-east-1"))]),
             _format1_line(2, [r.PutObject(obj("k", b"one", 2.0))]),
             _format1_line(3, [r.PutObject(obj("k", b"two", 3.0)),
                               r.PutObject(obj("gone", b"x", 3.0))]),
             _format1_line(4, [r.DeleteObject("b", "gone")])]
    assert b'"f"' not in b"".join(lines) and b"vsort" not in b"".join(lines)
    decoded = [journal.decode_record(line) for line in lines]
    assert all(d is not None for d in decoded)
    db = sqlite3.connect(":memory:", isolation_level=None)
    migrate(db)
    applied, skipped = _apply_all(db, [m for _, ms in decoded for m in ms])
    assert (applied, skipped) == (5, 0)
    tx = SqliteTx(db)
    k = tx.current("b", "k")
    assert k.inline == b"two" and k.version_id == "null" and tx.current("b", "gone") is None
    # A record of a newer format than this code knows is never half-understood.
    newer = journal.encode_record(9, [r.DeleteObject("b", "k")]).replace(b'"f":2', b'"f":3')
    body = newer.rsplit(b"\t", 1)[0]
    assert journal.decode_record(body + b"\t" + f"{zlib.crc32(body):08x}".encode()) is None


def test_folder_written_before_versions(tmp_path):
    """An index at schema 3 (before versions) opens, keeps its objects as null versions and
    takes versioning on top: the old object becomes a noncurrent `null` version."""
    path = str(tmp_path / "meta.sqlite3")
    db = sqlite3.connect(path, isolation_level=None)
    for script in MIGRATIONS[:3]:
        for stmt in script.split(";"):
            if stmt.strip():
                db.execute(stmt)
    db.execute("PRAGMA user_version=3")
    db.execute("INSERT INTO buckets VALUES ('b', 'o', 1.0, 'us-east-1')")
    db.execute("INSERT INTO bucket_stats VALUES ('b', 1, 3)")
    meta = json.dumps({"version_id": "null", "content_type": "text/plain"})
    db.execute("INSERT INTO objects VALUES ('b','k',3,'e',5.0,'o','STANDARD',?,?)",
               (meta, b"old"))
    db.close()

    async def go():
        e = Engine(SqliteMetaStore(path), MemoryDataStore())
        v = await e.head_object("b", "k")
        assert v.version_id == "null" and v.inline == b"old"
        await e.set_bucket_versioning("b", "Enabled")

        async def body():
            yield b"new"
        nv = await e.put_object("b", "k", body(), PutSpec(owner="o"))
        listing = await e.list_object_versions("b")
        assert [(row.version.version_id, row.vpos == "") for row in listing.versions] == [
            (nv.version_id, True), ("null", False)]
        old = await e.head_object("b", "k", "null")
        assert old.inline == b"old" and old.content_type == "text/plain"
        await e.meta.close()
    asyncio.run(go())
