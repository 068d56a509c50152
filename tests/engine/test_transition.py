"""Lifecycle transitions and RestoreObject in the engine, no HTTP and no remote: when rules
move a version (plans), the records and their compare-and-swap (a racing write wins), their
journal form, and read-through of moved units (plain, compressed, SSE-S3, SSE-C, multipart)
from a fake tier that counts the bytes each ranged read fetches."""
import asyncio
import os

import pytest

from s3ish.engine import cold, lifecycle as lc, multipart, sse, tiering
from s3ish.engine.multipart import Multipart
from s3ish.engine.objects import Engine
from s3ish.engine.types import PutSpec
from s3ish.meta import logcodec, records as r, tier_rules
from s3ish.meta.bucketconf import (LifecycleFilter, LifecycleNoncurrentTransition,
                                   LifecycleRule, LifecycleTransition)
from s3ish.meta.sqlite import SqliteMetaStore
from s3ish.storage import kms as kms_mod
from s3ish.storage.datastore import MemoryDataStore
from s3ish.tier.errors import RemoteError

GIR = "GLACIER_IR"
BODY = b"".join(b"%08d a line of the transition test, compressible\n" % i
                for i in range(40000))          # 2 MB
KEY = sse.CustomerKey(b"K" * 32, "")


class FakeTier:
    """tier.blocking.BlockingReader's read over a dict, logging every ranged GET."""

    def __init__(self):
        self.objects: dict[str, bytes] = {}
        self.reads: list[tuple[str, int, int]] = []
        self.down = False

    def read(self, key: str, start: int, end: int) -> bytes:
        if self.down:
            raise RemoteError("GetObject", key, "refused", retryable=True)
        self.reads.append((key, start, end))
        return self.objects[key][start:end]

    def close(self):
        pass

    def fetched(self) -> int:
        return sum(end - start for _, start, end in self.reads)


async def _body(data: bytes, piece: int = 100_000):
    for i in range(0, len(data), piece):
        yield data[i:i + piece]


async def _engine(compression=False) -> tuple[Engine, FakeTier]:
    e = Engine(SqliteMetaStore(":memory:"), MemoryDataStore(), compression=compression,
               kms=kms_mod.MasterKey(os.urandom(32)))
    tier = FakeTier()
    e.cold = cold.ColdStore(tier)
    await e.create_bucket("b", "owner", "us-east-1")
    return e, tier


async def _read(e, key, rng, customer=None, version_id=None):
    _, _, stream = await e.get_object("b", key, lambda v: rng, version_id, customer)
    return b"".join([c async for c in stream])


def _upload(e: Engine, tier: FakeTier, v: r.ObjectVersion) -> None:
    for p in v.parts:
        h = e.data.open(p.data_id)
        tier.objects[f"data/{p.data_id}"] = h.read_at(0, h.size())
        h.close()


async def _move(e: Engine, tier: FakeTier, v: r.ObjectVersion) -> bool:
    """What bg/transition.py does, with the fake tier: copy each unit's stored bytes there,
    then the record (which frees the local units: no graveyard here, they go at once)."""
    _upload(e, tier, v)
    return await tiering.transition(e, v, GIR)


def rule(**kw) -> LifecycleRule:
    kw.setdefault("status", "Enabled")
    kw.setdefault("id", "r")
    return LifecycleRule(**kw)


def version(**kw) -> r.ObjectVersion:
    kw.setdefault("size", 200_000)
    return r.ObjectVersion(bucket="b", key=kw.pop("key", "k"), etag="e", owner="o",
                           parts=[r.DataPart("d" + kw.get("vsort", "1"), kw["size"])], **kw)


# ---- plans ----

def test_transitions_are_planned_for_the_tier_class_only():
    rules = [rule(transitions=[LifecycleTransition(GIR, days=1)]),
             rule(id="other", transitions=[LifecycleTransition("DEEP_ARCHIVE", days=0)])]
    v = version(mtime=100)
    assert lc.plan_key(rules, v, [], now=105, day=10, tier_class=GIR).next_due == 110
    plan = lc.plan_key(rules, v, [], now=110, day=10, tier_class=GIR)
    assert [(a.kind, a.rule_id) for a in plan.actions] == [("transition", "r")]
    assert lc.plan_key(rules, v, [], now=110, day=10).actions == []   # no cold tier
    moved = version(mtime=100, storage_class=GIR)
    moved.parts[0].remote = True
    assert lc.plan_key(rules, moved, [], now=110, day=10, tier_class=GIR).actions == []
    dated = [rule(transitions=[LifecycleTransition(GIR, date=50 * 86400)])]
    assert lc.plan_key(dated, v, [], now=10, day=10, tier_class=GIR).next_due == 50 * 86400


def test_small_objects_move_only_with_a_size_filter_and_expiration_wins():
    small = version(mtime=0, size=1000)
    plain = [rule(transitions=[LifecycleTransition(GIR, days=0)])]
    sized = [rule(filter=LifecycleFilter(size_greater_than=10),
                  transitions=[LifecycleTransition(GIR, days=0)])]
    assert lc.plan_key(plain, small, [], now=5, day=10, tier_class=GIR).actions == []
    assert lc.plan_key(sized, small, [], 5, 10, GIR).actions[0].kind == "transition"
    both = [rule(expiration_days=2, transitions=[LifecycleTransition(GIR, days=1)])]
    v = version(mtime=0)
    assert [a.kind for a in lc.plan_key(both, v, [], 15, 10, GIR).actions] == ["transition"]
    assert [a.kind for a in lc.plan_key(both, v, [], 25, 10, GIR).actions] == ["expire"]


def test_noncurrent_transitions_count_from_the_successor_and_keep_the_newest():
    rules = [rule(noncurrent_transitions=[LifecycleNoncurrentTransition(
        GIR, days=1, newer_noncurrent_versions=1)])]
    cur = version(mtime=50, vsort="4")
    old = [version(mtime=40, vsort="3"), version(mtime=30, vsort="2"),
           version(mtime=20, vsort="1")]
    plan = lc.plan_key(rules, cur, old, now=45, day=10, tier_class=GIR)
    assert [a.version.vsort for a in plan.actions] == ["1"]   # noncurrent since 30
    assert plan.next_due == 50                                # v2: noncurrent since 40
    plan = lc.plan_key(rules, cur, old, now=60, day=10, tier_class=GIR)
    assert [a.version.vsort for a in plan.actions] == ["2", "1"]    # v3 is kept (newest)


def test_restore_work_is_planned_without_rules():
    v = version(mtime=0, storage_class=GIR, restore_days=3)
    assert [a.kind for a in lc.plan_key([], v, [], 5, 10, GIR).actions] == ["restore"]
    v = version(mtime=0, storage_class=GIR, restore_expiry=30.0)
    assert lc.plan_key([], v, [], 5, 10, GIR).next_due == 30.0
    assert [a.kind for a in lc.plan_key([], v, [], 30, 10, GIR).actions] == ["unrestore"]
    assert tiering.restore_header(v, now=5) == \
        'ongoing-request="false", expiry-date="Thu, 01 Jan 1970 00:00:30 GMT"'
    assert tiering.restore_header(v, now=31) is None
    assert tiering.restore_header(version(mtime=0, restore_days=1)) == \
        'ongoing-request="true"'


# ---- records ----

def test_a_transition_moves_the_units_and_frees_them_here():
    async def go():
        e, tier = await _engine()
        v = await e.put_object("b", "k", _body(BODY), PutSpec(owner="o"))
        assert await _move(e, tier, v)
        assert e.data.list_ids() == []                   # freed here (no graveyard)
        got = await e.head_object("b", "k")
        assert got.storage_class == GIR and got.parts[0].remote and got.etag == v.etag
        assert got.version_id == v.version_id and got.mtime == v.mtime
        listed = await e.list_objects("b")
        assert listed.contents[0].storage_class == GIR
        assert await _read(e, "k", (0, len(BODY) - 1)) == BODY
        assert not await tiering.transition(e, got, GIR)   # already moved: nothing
        await e.meta.close()
    asyncio.run(go())


def test_a_racing_overwrite_wins_and_nothing_it_keeps_is_freed():
    async def go():
        e, tier = await _engine()
        v1 = await e.put_object("b", "k", _body(BODY), PutSpec(owner="o"))
        _upload(e, tier, v1)                             # a transition of v1 in flight
        v2 = await e.put_object("b", "k", _body(BODY[:300_000]), PutSpec(owner="o"))
        assert not await tiering.transition(e, v1, GIR)  # the null version is v2 now
        now = await e.head_object("b", "k")
        assert now.storage_class == "STANDARD" and not now.parts[0].remote
        assert e.data.list_ids() == [v2.parts[0].data_id]
        assert await _read(e, "k", (0, 299_999)) == BODY[:300_000]
        # A record naming other units, or an older time, does nothing either.
        for bad in (r.TransitionVersion("b", "k", "null", GIR, ["x"], v2.etag, v2.mtime),
                    r.TransitionVersion("b", "k", "null", GIR, [v2.parts[0].data_id],
                                        v2.etag, v2.mtime - 1)):
            assert (await e.meta.apply(bad)).changed == 0
        await e.meta.close()
    asyncio.run(go())


def test_records_travel_in_the_journal():
    m = r.CompleteRestore("b", "k", "v", {"d1": "c1"}, 12.5)
    line = logcodec.encode_record(7, [m, r.TransitionVersion("b", "k", "v", GIR, ["d1"],
                                                             "e", 1.5)])
    entry = logcodec.decode_entry(line)
    assert entry.mutations[0] == m and entry.mutations[1].data_ids == ["d1"]
    assert logcodec.referenced_ids(entry.mutations) == []    # nothing new to ship
    old = r.ObjectVersion.from_row("b", "k", 1, "e", 1.0, "o", "STANDARD",
                                   '{"parts": [{"data_id": "d", "size": 1}]}', None)
    assert not old.parts[0].remote and old.restore_expiry == 0.0   # written before


def test_restore_records_and_their_refusals():
    async def go():
        e, tier = await _engine()
        v = await e.put_object("b", "k", _body(BODY), PutSpec(owner="o"))
        with pytest.raises(tier_rules.InvalidObjectState):
            await tiering.restore_object(e, "b", "k", None, 1)
        with pytest.raises(tiering.InvalidRestoreDays):
            await tiering.restore_object(e, "b", "k", None, 0)
        await _move(e, tier, v)
        v, began = await tiering.restore_object(e, "b", "k", None, 2)
        assert began and (await e.head_object("b", "k")).restore_days == 2
        with pytest.raises(tier_rules.RestoreAlreadyInProgress):
            await tiering.restore_object(e, "b", "k", None, 2)
        # The copy: the tier's bytes under a new local id.
        w = e.data.writer()
        w.write(tier.objects[f"data/{v.parts[0].data_id}"])
        w.commit()
        v = await e.head_object("b", "k")
        assert await tiering.complete_restore(e, v, {v.parts[0].data_id: w.data_id}, 1e12)
        v = await e.head_object("b", "k")
        assert v.parts[0].restored == w.data_id and v.restore_expiry == 1e12
        tier.reads.clear()
        assert await _read(e, "k", (5, 99)) == BODY[5:100] and tier.reads == []   # local
        v, began = await tiering.restore_object(e, "b", "k", None, 5)   # kept: 200
        assert not began and v.restore_days == 0
        assert not await tiering.expire_restore(e, await e.head_object("b", "k"), 10.0)
        assert (await e.meta.apply(r.ExpireRestore("b", "k", "null", 1e13))).freed == \
            [w.data_id]
        v = await e.head_object("b", "k")
        assert not v.parts[0].restored and v.restore_expiry == 0
        assert await _read(e, "k", (5, 99)) == BODY[5:100] and tier.reads   # the tier again
        await e.meta.close()
    asyncio.run(go())


def test_a_restore_no_longer_wanted_frees_its_copies_and_a_delete_frees_them_too():
    async def go():
        e, tier = await _engine()
        await e.set_bucket_versioning("b", "Enabled")
        v = await e.put_object("b", "k", _body(BODY), PutSpec(owner="o"))
        await _move(e, tier, v)
        await tiering.restore_object(e, "b", "k", None, 1)
        v = await e.head_object("b", "k")
        out = await e.meta.apply(r.CompleteRestore("b", "k", v.version_id, {"other": "c"}, 9))
        assert out.changed == 0 and out.freed == ["c"]       # not its units: freed
        out = await e.meta.apply(r.CompleteRestore("b", "k", v.version_id,
                                                   {v.parts[0].data_id: "c2"}, 1e12))
        assert out.changed == 1
        out = await e.meta.apply(r.DeleteObject("b", "k", v.version_id))
        assert set(out.freed) == {v.parts[0].data_id, "c2"}
        await e.meta.close()
    asyncio.run(go())


def test_inline_objects_only_change_class():
    async def go():
        e, tier = await _engine()
        v = await e.put_object("b", "s", _body(b"small"), PutSpec(owner="o"))
        assert v.inline is not None and not v.parts
        assert await _move(e, tier, v)
        got = await e.head_object("b", "s")
        assert got.storage_class == GIR and got.inline == b"small"
        v, began = await tiering.restore_object(e, "b", "s", None, 1)
        assert began and (await e.head_object("b", "s")).restore_expiry > 0   # nothing to fetch
        await e.meta.close()
    asyncio.run(go())


# ---- read-through ----

@pytest.mark.parametrize("form", ["plain", "compressed", "sse-s3", "sse-c"])
def test_ranges_fetch_only_what_they_need(form):
    async def go():
        e, tier = await _engine(compression=form == "compressed")
        customer = KEY if form == "sse-c" else None
        spec = PutSpec(owner="o", sse=sse.Encryption(mode="AES256") if form == "sse-s3"
                       else sse.Encryption(customer=KEY) if customer else None)
        v = await e.put_object("b", "k", _body(BODY), spec)
        await _move(e, tier, v)
        assert await _read(e, "k", (0, len(BODY) - 1), customer) == BODY
        tier.reads.clear()
        assert await _read(e, "k", (1_000_000, 1_000_099), customer) == \
            BODY[1_000_000:1_000_100]
        # Plain: the 100 bytes; sealed: the package holding them; compressed: the footer and
        # the block holding them (a small share of the unit).
        limit = {"plain": 100, "sse-s3": 64 * 1024 + 16, "sse-c": 64 * 1024 + 16,
                 "compressed": v.parts[0].stored_size // 4}[form]
        assert 0 < tier.fetched() <= limit, tier.reads
        await e.meta.close()
    asyncio.run(go())


def test_a_multipart_range_reads_only_its_part(monkeypatch):
    monkeypatch.setattr(multipart, "MIN_PART_SIZE", 1)

    async def go():
        e, tier = await _engine()
        mp = Multipart(e)
        u = await mp.create_multipart_upload("b", "m", PutSpec(owner="o"))
        third = len(BODY) // 3
        pieces = [BODY[:third], BODY[third:2 * third], BODY[2 * third:]]
        parts = [await mp.upload_part(u, n, _body(p), "") for n, p in enumerate(pieces, 1)]
        v = await mp.complete_multipart_upload(u, [(p.part_number, p.etag, {}) for p in parts])
        await _move(e, tier, await e.head_object("b", "m"))
        tier.reads.clear()
        assert await _read(e, "m", (third + 10, third + 5000)) == BODY[third + 10:third + 5001]
        assert {k for k, _, _ in tier.reads} == {f"data/{v.parts[1].data_id}"}
        assert tier.fetched() == 4991
        assert await _read(e, "m", (0, len(BODY) - 1)) == BODY
        await e.meta.close()
    asyncio.run(go())


def test_a_tier_that_does_not_answer_is_an_error_before_any_byte():
    async def go():
        e, tier = await _engine()
        v = await e.put_object("b", "k", _body(BODY), PutSpec(owner="o"))
        await _move(e, tier, v)
        tier.down = True
        for rng in ((0, 10), (0, len(BODY) - 1)):
            with pytest.raises(cold.TierUnavailable):
                await e.get_object("b", "k", lambda v: rng)
        e.cold = None
        with pytest.raises(tiering.TierNotConfigured):
            await e.get_object("b", "k", lambda v: (0, 10))
        await e.meta.close()
    asyncio.run(go())
