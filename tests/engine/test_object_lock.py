"""Object lock rules with no HTTP: default retention, retention changes (extend, shorten,
mode changes, removal), governance bypass, compliance, legal hold, deletes of locked versions,
and locks that survive a reopen and a journal rebuild."""
import asyncio
import os
import time

import pytest

from s3ish.engine import errors, objectlock, selfdescribe
from s3ish.engine.multipart import Multipart
from s3ish.engine.objects import Engine
from s3ish.engine.types import PutSpec
from s3ish.meta import journal, records as r
from s3ish.meta.recovery import rebuild_from_mutations, rebuild_index
from s3ish.meta.sqlite import SqliteMetaStore
from s3ish.storage.datastore import MemoryDataStore
from s3ish.storage.drives import DriveSet
from s3ish.storage.erasure import make_codec
from s3ish.storage.erasure_store import ErasureDataStore

DAY = 86400.0


async def _body(data: bytes):
    yield data


def run(coro):
    return asyncio.run(coro)


async def _locked_bucket(e: Engine, mode: str = "", days: int | None = None) -> None:
    await e.create_bucket("b", "o", "r", object_lock=True)
    if mode:
        await e.set_bucket_object_lock("b", objectlock.default_retention(mode, days, None))


async def _put(e: Engine, key: str = "k", **lock) -> r.ObjectVersion:
    return await e.put_object("b", key, _body(b"data"), PutSpec(owner="o", **lock))


@pytest.fixture
def engine():
    return Engine(SqliteMetaStore(":memory:"), MemoryDataStore())


def test_default_retention_validation():
    assert objectlock.default_retention(None, None, None) == r.ObjectLockConfig()
    assert objectlock.default_retention("COMPLIANCE", None, 2).years == 2
    for args in [("GOVERNANCE", 1, 1), ("GOVERNANCE", None, None), ("governance", 1, None),
                 (None, 1, None)]:
        with pytest.raises(errors.InvalidLockConfiguration):
            objectlock.default_retention(*args)
    for args, name in [(("GOVERNANCE", 0, None), "Days"), (("GOVERNANCE", None, -1), "Years"),
                       (("COMPLIANCE", 36501, None), "Days"),
                       (("COMPLIANCE", None, 101), "Years")]:
        with pytest.raises(errors.InvalidRetentionPeriod) as e:
            objectlock.default_retention(*args)
        assert e.value.name == name
    assert objectlock.default_retention("GOVERNANCE", 36500, None).days == 36500


def test_lock_needs_versioning_and_keeps_it(engine):
    async def go():
        e = engine
        await e.create_bucket("plain", "o", "r")
        with pytest.raises(errors.InvalidBucketState):
            await e.set_bucket_object_lock("plain", r.ObjectLockConfig())
        await e.set_bucket_versioning("plain", "Suspended")
        with pytest.raises(errors.InvalidBucketState):
            await e.set_bucket_object_lock("plain", r.ObjectLockConfig())
        await e.set_bucket_versioning("plain", "Enabled")
        await e.set_bucket_object_lock("plain", r.ObjectLockConfig())   # enabled afterwards
        await _locked_bucket(e)
        assert (await e.get_bucket("b")).versioning == "Enabled"
        with pytest.raises(errors.InvalidBucketState):
            await e.set_bucket_versioning("b", "Suspended")
        await e.meta.close()
    run(go())


def test_lock_parameters_need_a_locked_bucket(engine):
    async def go():
        e = engine
        await e.create_bucket("b", "o", "r")
        until = time.time() + DAY
        for lock in [{"lock_mode": "GOVERNANCE", "lock_until": until}, {"legal_hold": False}]:
            with pytest.raises(errors.ObjectLockNotEnabled):
                await _put(e, **lock)
            with pytest.raises(errors.ObjectLockNotEnabled):
                await Multipart(e).create_multipart_upload("b", "k", PutSpec("o", **lock))
        # The rules refuse too (another front end, a race with nothing checked before).
        v = r.ObjectVersion(bucket="b", key="k", size=0, etag="", mtime=time.time(),
                            owner="o", vsort="x", inline=b"", legal_hold=True)
        with pytest.raises(errors.ObjectLockNotEnabled):
            await e.meta.apply(r.PutObject(v))
        for lock in [{"lock_mode": "GOVERNANCE", "lock_until": time.time() - 1},
                     {"lock_mode": "OTHER", "lock_until": until}]:
            with pytest.raises((errors.RetainUntilInPast, errors.InvalidLockMode)):
                await _put(e, **lock)
        assert await e.list_buckets("o") and not (await e.list_objects("b")).contents
        await e.meta.close()
    run(go())


def test_default_retention_applies_to_new_versions(engine):
    async def go():
        e = engine
        await _locked_bucket(e, "GOVERNANCE", 2)
        v = await _put(e)
        got = await e.head_object("b", "k", v.version_id)
        assert got.lock_mode == "GOVERNANCE"
        assert got.lock_until == pytest.approx(got.mtime + 2 * DAY)
        assert got.legal_hold is None
        # A retention asked for the version wins over the default.
        until = time.time() + 3600
        v2 = await _put(e, lock_mode="COMPLIANCE", lock_until=until, legal_hold=True)
        got = await e.head_object("b", "k", v2.version_id)
        assert (got.lock_mode, got.lock_until, got.legal_hold) == ("COMPLIANCE", until, True)
        await e.set_bucket_object_lock("b", objectlock.default_retention("COMPLIANCE", None, 1))
        v3 = await _put(e)
        got = await e.head_object("b", "k", v3.version_id)
        assert got.lock_until == pytest.approx(got.mtime + 365 * DAY)
        # A multipart upload gets the default when it completes.
        mp = Multipart(e)
        u = await mp.create_multipart_upload("b", "m", PutSpec("o"))
        part = await mp.upload_part(u, 1, _body(b"part"), "")
        done = await mp.complete_multipart_upload(u, [(1, part.etag, {})])
        assert (await e.head_object("b", "m", done.version_id)).lock_mode == "COMPLIANCE"
        await e.meta.close()
    run(go())


def test_retention_changes(engine):
    async def go():
        e = engine
        await _locked_bucket(e)
        v = await _put(e)
        vid, now = v.version_id, time.time()
        await e.set_object_retention("b", "k", vid, "GOVERNANCE", now + 2 * DAY)
        await e.set_object_retention("b", "k", vid, "GOVERNANCE", now + 3 * DAY)   # extend
        with pytest.raises(errors.ObjectLocked):                                   # shorten
            await e.set_object_retention("b", "k", vid, "GOVERNANCE", now + DAY)
        with pytest.raises(errors.ObjectLocked):                                   # remove
            await e.set_object_retention("b", "k", vid, "", 0.0)
        with pytest.raises(errors.ObjectLocked):                       # to COMPLIANCE
            await e.set_object_retention("b", "k", vid, "COMPLIANCE", now + 4 * DAY)
        await e.set_object_retention("b", "k", vid, "GOVERNANCE", now + DAY,
                                     bypass_governance=True)
        assert (await e.head_object("b", "k", vid)).lock_until == now + DAY
        await e.set_object_retention("b", "k", vid, "", 0.0, bypass_governance=True)
        got = await e.head_object("b", "k", vid)
        assert (got.lock_mode, got.lock_until) == ("", 0.0)
        await e.set_object_retention("b", "k", vid, "GOVERNANCE", now + DAY)
        await e.set_object_retention("b", "k", vid, "COMPLIANCE", now + DAY,
                                     bypass_governance=True)
        # COMPLIANCE: extended only, whoever asks.
        for mode, until in [("COMPLIANCE", now + 3600), ("GOVERNANCE", now + 2 * DAY),
                            ("", 0.0)]:
            with pytest.raises(errors.ObjectLocked):
                await e.set_object_retention("b", "k", vid, mode, until,
                                             bypass_governance=True)
        await e.set_object_retention("b", "k", vid, "COMPLIANCE", now + 2 * DAY)
        with pytest.raises(errors.RetainUntilInPast):
            await e.set_object_retention("b", "k", vid, "COMPLIANCE", now - 1)
        await e.meta.close()
    run(go())


def test_expired_retention_allows_anything(engine):
    async def go():
        e = engine
        await _locked_bucket(e)
        v = await _put(e, lock_mode="COMPLIANCE", lock_until=time.time() + 3600)
        later = time.time() + 7200     # the rules take `now` from the record
        await e.meta.apply(r.SetObjectRetention("b", "k", v.version_id, "GOVERNANCE",
                                                later + 60, later))
        await e.meta.apply(r.DeleteObject("b", "k", v.version_id, now=later + 61))
        with pytest.raises(errors.NoSuchKey):
            await e.head_object("b", "k")
        await e.meta.close()
    run(go())


def test_deletes_of_locked_versions(engine):
    async def go():
        e = engine
        await _locked_bucket(e)
        until = time.time() + DAY
        gov = await _put(e, "gov", lock_mode="GOVERNANCE", lock_until=until)
        comp = await _put(e, "comp", lock_mode="COMPLIANCE", lock_until=until)
        held = await _put(e, "held", legal_hold=True)
        for v in (gov, comp, held):
            with pytest.raises(errors.ObjectLocked):
                await e.delete_object("b", v.key, v.version_id)
        for v in (comp, held):
            with pytest.raises(errors.ObjectLocked):
                await e.delete_object("b", v.key, v.version_id, bypass_governance=True)
        # Without a version id: a delete marker on top; the locked version stays.
        out = await e.delete_object("b", "comp")
        assert out.delete_marker
        assert (await e.head_object("b", "comp", comp.version_id)).lock_mode == "COMPLIANCE"
        await e.delete_object("b", "comp", out.version_id)      # the marker itself: allowed
        out = await e.delete_object("b", "gov", gov.version_id, bypass_governance=True)
        assert out.version_id == gov.version_id
        # A legal hold on top of a retention: both must go before the version can.
        await e.set_object_retention("b", "held", held.version_id, "GOVERNANCE", until)
        await e.set_object_legal_hold("b", "held", held.version_id, False)
        assert (await e.head_object("b", "held")).legal_hold is False
        with pytest.raises(errors.ObjectLocked):
            await e.delete_object("b", "held", held.version_id)
        await e.delete_object("b", "held", held.version_id, bypass_governance=True)
        await e.meta.close()
    run(go())


def test_legal_hold_and_retention_need_bucket_lock(engine):
    async def go():
        e = engine
        await e.create_bucket("b", "o", "r")
        await _put(e)
        with pytest.raises(errors.ObjectLockNotEnabled):
            await e.set_object_legal_hold("b", "k", None, True)
        with pytest.raises(errors.ObjectLockNotEnabled):
            await e.set_object_retention("b", "k", None, "GOVERNANCE", time.time() + 60)
        await e.meta.close()
    run(go())


def test_locks_survive_reopen_and_journal_rebuild(tmp_path):
    drive = str(tmp_path / "d1")
    os.makedirs(drive)
    journal.prepare(drive)
    db = os.path.join(drive, "meta.sqlite3")

    def engine():
        return Engine(SqliteMetaStore(db, journal=journal.Journal([drive], quorum=1)),
                      MemoryDataStore())

    async def close(e):
        await e.meta.close()
        e.meta.journal.close()

    async def write():
        e = engine()
        await _locked_bucket(e, "GOVERNANCE", 1)
        v = await _put(e)
        await e.set_object_legal_hold("b", "k", v.version_id, True)
        await close(e)
        return v.version_id

    async def check(vid):
        e = engine()
        assert (await e.get_bucket("b")).object_lock.days == 1
        v = await e.head_object("b", "k", vid)
        assert (v.lock_mode, v.legal_hold) == ("GOVERNANCE", True)
        with pytest.raises(errors.ObjectLocked):
            await e.delete_object("b", "k", vid, bypass_governance=True)
        await close(e)

    vid = run(write())
    run(check(vid))
    os.unlink(db)
    rebuild_index(db, [drive])
    run(check(vid))


def test_locks_survive_a_rebuild_from_shard_headers(tmp_path):
    """The last resort (every journal copy lost): the retention and legal hold given at
    upload come back, and so does the bucket's object lock."""
    drives = [str(tmp_path / f"d{i}") for i in range(4)]
    drive_set = DriveSet(drives, 2, 2)
    drive_set.open(create_missing=True)

    async def write():
        e = Engine(SqliteMetaStore(":memory:"), ErasureDataStore(drive_set, make_codec(2, 2)))
        await _locked_bucket(e)
        await _put(e, "held", legal_hold=True)
        mp = Multipart(e)
        u = await mp.create_multipart_upload("b", "mp", PutSpec(
            "o", lock_mode="COMPLIANCE", lock_until=time.time() + DAY))
        part = await mp.upload_part(u, 1, _body(b"part"), "")
        await mp.complete_multipart_upload(u, [(1, part.etag, {})])
        await e.meta.close()

    async def check(db):
        e = Engine(SqliteMetaStore(db), ErasureDataStore(drive_set, make_codec(2, 2)))
        b = await e.get_bucket("b")
        assert b.object_lock is not None and b.versioning == "Enabled"
        for key in ("held", "mp"):
            v = await e.head_object("b", key)
            with pytest.raises(errors.ObjectLocked):
                await e.delete_object("b", key, v.version_id, bypass_governance=True)
        await e.meta.close()

    run(write())
    scan = selfdescribe.scan_drives(drives)
    db = str(tmp_path / "rebuilt.sqlite3")
    assert rebuild_from_mutations(db, scan.mutations())["skipped"] == 0
    run(check(db))
