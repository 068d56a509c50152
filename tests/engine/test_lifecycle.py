"""Lifecycle with no HTTP: validation of configurations, the worker's decisions, and the
worker against a real metadata store (short debug days)."""
import asyncio
import time

import pytest

from s3ish.bg.lifecycle import LifecycleWorker
from s3ish.engine import errors, lifecycle as lc
from s3ish.engine.multipart import Multipart
from s3ish.engine.objects import Engine
from s3ish.engine.types import PutSpec
from s3ish.meta.bucketconf import (LifecycleFilter, LifecycleNoncurrentTransition,
                                   LifecycleRule, LifecycleTransition)
from s3ish.meta.records import ObjectVersion
from s3ish.meta.sqlite import SqliteMetaStore
from s3ish.storage.datastore import MemoryDataStore

DAY = lc.DAY


def rule(**kw) -> LifecycleRule:
    kw.setdefault("status", "Enabled")
    kw.setdefault("id", "r")
    return LifecycleRule(**kw)


def refused(rules, code: str) -> str:
    with pytest.raises(lc.LifecycleConfigError) as e:
        lc.validate(rules)
    assert e.value.code == code, e.value.message
    return e.value.message


# ---- validation ----

def test_valid_configurations_pass_and_get_ids():
    rules = lc.validate([rule(id="", expiration_days=1),
                         rule(id="b", noncurrent_days=3, newer_noncurrent_versions=2,
                              abort_incomplete_days=1),
                         rule(id="c", expired_object_delete_marker=True,
                              filter=LifecycleFilter(prefix="x/")),
                         rule(id="d", expiration_date=20 * 365 * DAY,
                              transitions=[LifecycleTransition("GLACIER", date=DAY * 3650)])])
    assert rules[0].id and len(rules[0].id) <= 255


def test_ids_status_and_counts():
    assert "255" in refused([rule(id="a" * 256, expiration_days=1)], "InvalidArgument")
    assert "unique" in refused([rule(id="a", expiration_days=1),
                                rule(id="a", expiration_days=2)], "InvalidArgument")
    for status in ("enabled", "disabled", "invalid"):
        refused([rule(status=status, expiration_days=1)], "MalformedXML")
    refused([], "MalformedXML")
    refused([rule(id=str(i), expiration_days=1) for i in range(1001)], "MalformedXML")
    lc.validate([rule(id=str(i), expiration_days=1) for i in range(1000)])
    refused([rule()], "InvalidRequest")              # no action at all


def test_expiration_forms():
    refused([rule(expiration_days=0)], "InvalidArgument")
    refused([rule(expiration_days=-1)], "InvalidArgument")
    refused([rule(expiration_days=1, expiration_date=DAY)], "MalformedXML")
    refused([rule(expiration_days=1, expired_object_delete_marker=True)], "MalformedXML")
    assert "midnight" in refused([rule(expiration_date=DAY + 3600)], "InvalidArgument")
    refused([rule(expired_object_delete_marker=True,
                  filter=LifecycleFilter(tags={"a": "b"}))], "InvalidRequest")


def test_noncurrent_abort_and_filters():
    refused([rule(noncurrent_days=0)], "InvalidArgument")
    refused([rule(newer_noncurrent_versions=3)], "MalformedXML")
    refused([rule(noncurrent_days=1, newer_noncurrent_versions=101)], "InvalidArgument")
    refused([rule(abort_incomplete_days=0)], "InvalidArgument")
    refused([rule(abort_incomplete_days=1, filter=LifecycleFilter(tags={"k": "v"}))],
            "InvalidRequest")
    refused([rule(expiration_days=1, filter=LifecycleFilter(size_greater_than=10,
                                                             size_less_than=10,
                                                             use_and=True))],
            "InvalidArgument")
    refused([rule(expiration_days=1, filter=LifecycleFilter(prefix="p" * 1025))],
            "InvalidArgument")


def test_transitions_are_validated():
    refused([rule(transitions=[LifecycleTransition("STANDARD", days=1)])], "MalformedXML")
    refused([rule(transitions=[LifecycleTransition("GLACIER")])], "MalformedXML")
    refused([rule(transitions=[LifecycleTransition("GLACIER", days=1),
                               LifecycleTransition("GLACIER", days=2)])], "InvalidRequest")
    refused([rule(transitions=[LifecycleTransition("GLACIER", days=1),
                               LifecycleTransition("DEEP_ARCHIVE", date=DAY)])],
            "InvalidRequest")
    refused([rule(expiration_days=5, transitions=[LifecycleTransition("GLACIER", days=5)])],
            "InvalidArgument")
    refused([rule(noncurrent_days=3, noncurrent_transitions=[
        LifecycleNoncurrentTransition("GLACIER", days=3)])], "InvalidArgument")
    lc.validate([rule(transitions=[LifecycleTransition("GLACIER", days=0)])])


def test_dates():
    assert lc.parse_date("2017-09-27") == 1506470400
    assert lc.parse_date("2017-09-27T00:00:00.000Z") == 1506470400
    for bad in ("20200101", "2017-13-01", "yesterday"):
        with pytest.raises(lc.LifecycleConfigError):
            lc.parse_date(bad)


# ---- meaning ----

def v(key="k", mtime=0.0, size=10, tags=None, marker=False, vid="x", **kw) -> ObjectVersion:
    return ObjectVersion(bucket="b", key=key, size=size, etag="e", mtime=mtime, owner="o",
                         version_id=vid, tags=tags or {}, delete_marker=marker, **kw)


def test_days_round_up_to_midnight_with_real_days():
    assert lc.after_days(10 * DAY + 5, 1, DAY) == 12 * DAY
    assert lc.after_days(10 * DAY, 1, DAY) == 11 * DAY
    assert lc.after_days(100.0, 3, 10) == 130.0


def test_filters_select():
    r = rule(expiration_days=1, filter=LifecycleFilter(prefix="a/", tags={"t": "1"},
                                                        size_greater_than=5, use_and=True))
    assert lc.matches(r, "a/x", 6, {"t": "1", "u": "2"})
    assert not lc.matches(r, "b/x", 6, {"t": "1"})
    assert not lc.matches(r, "a/x", 5, {"t": "1"})
    assert not lc.matches(r, "a/x", 6, {"t": "2"})
    r.status = "Disabled"
    assert not lc.matches(r, "a/x", 6, {"t": "1"})


def test_header_is_the_earliest_matching_rule_in_calendar_days():
    rules = [rule(id="late", expiration_days=5), rule(id="soon", expiration_days=2),
             rule(id="other", expiration_days=1, filter=LifecycleFilter(prefix="z"))]
    h = lc.expiration_header(rules, "k", 1, {}, 10 * DAY + 60)
    assert h == 'expiry-date="Wed, 14 Jan 1970 00:00:00 GMT", rule-id="soon"'
    assert lc.expiration_header(rules[2:], "k", 1, {}, 0) is None


def test_plan_current_expiration():
    rules = [rule(expiration_days=2)]
    plan = lc.plan_key(rules, v(mtime=100), [], now=110, day=10)
    assert not plan.actions and plan.next_due == 120
    plan = lc.plan_key(rules, v(mtime=100), [], now=120, day=10)
    assert [a.kind for a in plan.actions] == ["expire"]


def test_plan_noncurrent_counts_from_the_successor_and_keeps_newer_ones():
    rules = [rule(noncurrent_days=1, newer_noncurrent_versions=2)]
    cur = v(mtime=50, vid="v5")
    old = [v(mtime=40, vid="v4"), v(mtime=30, vid="v3"), v(mtime=20, vid="v2"),
           v(mtime=10, vid="v1")]
    plan = lc.plan_key(rules, cur, old, now=25, day=10)
    assert plan.actions == [] and plan.next_due == 30       # v1: noncurrent since 20 (v2)
    plan = lc.plan_key(rules, cur, old, now=35, day=10)
    assert [a.version.version_id for a in plan.actions] == ["v1"] and plan.next_due == 40
    plan = lc.plan_key(rules, cur, old, now=45, day=10)     # v4, v3: the 2 newest, kept
    assert [a.version.version_id for a in plan.actions] == ["v2", "v1"]


def test_plan_lone_delete_marker_and_locks():
    rules = [rule(expired_object_delete_marker=True, noncurrent_days=1)]
    marker = v(marker=True, mtime=100, vid="m")
    plan = lc.plan_key(rules, marker, [v(mtime=50)], now=105, day=10)
    assert plan.actions == [] and plan.next_due == 110
    plan = lc.plan_key(rules, marker, [v(mtime=50)], now=111, day=10)
    assert [a.version.version_id for a in plan.actions] == ["x", "m"]
    locked = v(mtime=50, lock_mode="COMPLIANCE", lock_until=1000.0)
    plan = lc.plan_key(rules, marker, [locked], now=111, day=10)
    assert plan.actions == [] and plan.next_due == 1000.0
    held = v(mtime=50, legal_hold=True)
    plan = lc.plan_key(rules, marker, [held], now=111, day=10)
    assert plan.actions == [] and plan.next_due == 121


# ---- the worker against a store ----

async def _one(data: bytes):
    yield data


async def _setup(versioning: str = "", lock: bool = False):
    e = Engine(SqliteMetaStore(":memory:"), MemoryDataStore())
    await e.create_bucket("b", "o", "r", object_lock=lock)
    if versioning:
        await e.set_bucket_versioning("b", versioning)
    return e, Multipart(e), LifecycleWorker(e, Multipart(e), day_seconds=0.2)


async def _put(e, key, data=b"data", **spec):
    return await e.put_object("b", key, _one(data), PutSpec(owner="o", **spec))


def test_worker_expires_unversioned_objects_once_due():
    async def go():
        e, _, w = await _setup()
        await _put(e, "old/a")
        await _put(e, "keep/b")
        await e.set_bucket_lifecycle("b", lc.validate([rule(
            expiration_days=1, filter=LifecycleFilter(prefix="old/"))]))
        assert (await w.run_pass())["expired"] == 0
        # Nothing is looked at again before it is due: no rescans.
        assert (await w.run_pass())["looked_at"] == 0
        await asyncio.sleep(0.25)
        result = await w.run_pass()
        assert result["expired"] == 1 and result["looked_at"] == 1
        with pytest.raises(errors.NoSuchKey):
            await e.head_object("b", "old/a")
        await e.head_object("b", "keep/b")
        await w.run_pass()      # the delete itself scheduled the key: one last look
        assert (await w.run_pass())["looked_at"] == 0
        await e.meta.close()
    asyncio.run(go())


def test_worker_in_versioned_bucket_marks_then_expires_noncurrent_and_marker():
    async def go():
        e, _, w = await _setup("Enabled")
        await e.set_bucket_lifecycle("b", lc.validate([
            rule(id="cur", expiration_days=1),
            rule(id="old", noncurrent_days=1, expired_object_delete_marker=None),
            rule(id="dm", expired_object_delete_marker=True)]))
        await _put(e, "k")
        await w.run_pass()
        await asyncio.sleep(0.25)
        await w.run_pass()          # current expired: a delete marker is added
        cur, old = await e.meta.key_versions("b", "k")
        assert cur.delete_marker and len(old) == 1
        await asyncio.sleep(0.25)
        await w.run_pass()          # the noncurrent version, then the lone marker
        await w.run_pass()
        assert await e.meta.key_versions("b", "k") == (None, [])
        await e.meta.close()
    asyncio.run(go())


def test_worker_tags_written_later_are_seen():
    async def go():
        e, _, w = await _setup()
        await e.set_bucket_lifecycle("b", lc.validate([rule(
            expiration_days=1, filter=LifecycleFilter(tags={"t": "1"}))]))
        await _put(e, "k")
        await w.run_pass()
        await e.set_object_tags("b", "k", {"t": "1"})
        await asyncio.sleep(0.25)
        assert (await w.run_pass())["expired"] == 1
        await e.meta.close()
    asyncio.run(go())


def test_worker_never_removes_a_locked_version():
    async def go():
        e, _, w = await _setup(lock=True)
        await e.set_bucket_lifecycle("b", lc.validate([rule(noncurrent_days=1)]))
        until = time.time() + 3600
        locked = await _put(e, "k", lock_mode="COMPLIANCE", lock_until=until)
        await _put(e, "k")
        await asyncio.sleep(0.25)
        await w.run_pass()
        cur, old = await e.meta.key_versions("b", "k")
        assert [o.version_id for o in old] == [locked.version_id]
        # Looked at again only when the retention ends.
        assert (await w.run_pass())["looked_at"] == 0
        rows = await e.meta.lifecycle_due(until + 1, 10)
        assert [r.due for r in rows] == [until]
        await e.meta.close()
    asyncio.run(go())


def test_worker_aborts_incomplete_uploads():
    async def go():
        e, mp, w = await _setup()
        await e.set_bucket_lifecycle("b", lc.validate([rule(
            abort_incomplete_days=1, filter=LifecycleFilter(prefix="a/"))]))
        doomed = await mp.create_multipart_upload("b", "a/x", PutSpec(owner="o"))
        await mp.upload_part(doomed, 1, _one(b"part"), "")
        kept = await mp.create_multipart_upload("b", "b/x", PutSpec(owner="o"))
        await w.run_pass()
        await asyncio.sleep(0.25)
        assert (await w.run_pass())["expired"] == 1
        assert await e.meta.get_upload(doomed.upload_id) is None
        assert await e.meta.get_upload(kept.upload_id) is not None
        assert e.data.list_ids() == []
        await e.meta.close()
    asyncio.run(go())


def test_configuration_removed_drops_the_schedule():
    async def go():
        e, _, w = await _setup()
        await e.set_bucket_lifecycle("b", lc.validate([rule(expiration_days=1)]))
        await _put(e, "k")
        await e.set_bucket_lifecycle("b", [])
        assert await e.meta.lifecycle_due(time.time() + 10, 10) == []
        await asyncio.sleep(0.25)
        assert (await w.run_pass())["expired"] == 0
        await e.head_object("b", "k")
        await e.meta.close()
    asyncio.run(go())


# ---- the schedule the rules keep, over both Tx implementations ----

def _schedule(tx) -> dict:
    if hasattr(tx, "due"):
        return dict(tx.due)
    return {(b, k, u): t for b, k, u, t in tx.db.execute(
        "SELECT bucket, key, upload_id, due FROM lc_due")}


@pytest.mark.parametrize("kind", ["dict", "sql"])
def test_rules_schedule_what_changes_in_lifecycle_buckets_only(kind):
    from s3ish.meta import records as rec, rules
    from tests.engine.test_versions import DictTx, SqlTx
    tx = DictTx() if kind == "dict" else SqlTx()
    for name in ("b", "plain"):
        rules.apply(tx, rec.CreateBucket(rec.Bucket(name, "o", 0.0)))

    def put(bucket, key, t):
        rules.apply(tx, rec.PutObject(ObjectVersion(bucket=bucket, key=key, size=1, etag="e",
                                                    mtime=t, owner="o")))
    put("b", "old", 10.0)
    put("plain", "x", 10.0)
    rules.apply(tx, rec.SetBucketLifecycle("b", [rule(expiration_days=1)]))
    assert _schedule(tx) == {("b", "old", ""): 10.0}           # every key, once
    put("b", "new", 20.0)
    put("plain", "y", 20.0)
    rules.apply(tx, rec.SetObjectTags("b", "old", {"t": "1"}))
    rules.apply(tx, rec.DeleteObject("b", "new", now=30.0))
    rules.apply(tx, rec.CreateUpload(rec.Upload("u1", "b", "up", 40.0, "o")))
    assert _schedule(tx) == {("b", "old", ""): 10.0, ("b", "new", ""): 20.0,
                             ("b", "up", "u1"): 40.0}
    rules.apply(tx, rec.SetBucketLifecycle("b", []))
    assert _schedule(tx) == {}


@pytest.mark.parametrize("kind", ["dict", "sql"])
def test_only_keys_under_the_rules_prefixes_are_scheduled(kind):
    from s3ish.meta import records as rec, rules
    from tests.engine.test_versions import DictTx, SqlTx
    tx = DictTx() if kind == "dict" else SqlTx()
    rules.apply(tx, rec.CreateBucket(rec.Bucket("b", "o", 0.0)))
    for key in ("a%/1", "ab/1", "logs/1", "other"):
        rules.apply(tx, rec.PutObject(ObjectVersion(bucket="b", key=key, size=1, etag="e",
                                                    mtime=1.0, owner="o")))
    rules.apply(tx, rec.SetBucketLifecycle("b", [
        rule(id="1", expiration_days=1, filter=LifecycleFilter(prefix="a%")),
        rule(id="2", expiration_days=1, filter=LifecycleFilter(prefix="logs/")),
        rule(id="3", status="Disabled", expiration_days=1)]))
    assert set(_schedule(tx)) == {("b", "a%/1", ""), ("b", "logs/1", "")}
    rules.apply(tx, rec.PutObject(ObjectVersion(bucket="b", key="other", size=1, etag="e",
                                                mtime=2.0, owner="o")))
    rules.apply(tx, rec.CreateUpload(rec.Upload("u", "b", "elsewhere", 3.0, "o")))
    assert set(_schedule(tx)) == {("b", "a%/1", ""), ("b", "logs/1", "")}


def test_a_lock_lifted_early_lets_the_rule_act():
    async def go():
        e, _, w = await _setup(lock=True)
        await e.set_bucket_lifecycle("b", lc.validate([rule(noncurrent_days=1)]))
        held = await _put(e, "k", lock_mode="GOVERNANCE", lock_until=time.time() + 3600)
        await _put(e, "k")
        await asyncio.sleep(0.25)
        await w.run_pass()
        assert len((await e.meta.key_versions("b", "k"))[1]) == 1
        await e.set_object_retention("b", "k", held.version_id, "", 0.0,
                                     bypass_governance=True)
        assert (await w.run_pass())["expired"] == 1     # looked at again at once
        assert (await e.meta.key_versions("b", "k"))[1] == []
        await e.meta.close()
    asyncio.run(go())
