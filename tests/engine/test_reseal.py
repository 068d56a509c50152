"""Key rotation's reseal pass (engine/reseal.py, meta/reseal_rules.py) with no HTTP: every
SSE-S3/SSE-KMS data key (simple and multipart objects, noncurrent versions, open uploads'
parts) moves to its key's newest version without a byte of data read or rewritten, SSE-C keys
are never touched, a second pass finds nothing, the old key versions are then not needed any
more; compare-and-swap against concurrent writes; the records replay from the journal; a
rebuild from shard headers (which keep the keys units were written with) still reads
everything."""
import asyncio
import glob
import hashlib
import json
import os

import pytest

from s3ish.engine import multipart, reseal, selfdescribe, sse
from s3ish.engine.multipart import Multipart
from s3ish.engine.objects import Engine
from s3ish.engine.types import PutSpec
from s3ish.meta import journal, records as r
from s3ish.meta.recovery import rebuild_from_mutations, rebuild_index
from s3ish.meta.sqlite import SqliteMetaStore
from s3ish.storage import kms as kms_mod
from s3ish.storage.datastore import FolderDataStore, MemoryDataStore
from s3ish.storage.drives import DriveSet
from s3ish.storage.erasure import make_codec
from s3ish.storage.erasure_store import ErasureDataStore

CUSTOMER = sse.CustomerKey(b"C" * 32, "")


def _body(seed: str, n: int = 150_000) -> bytes:
    out = bytearray()
    i = 0
    while len(out) < n:
        out += f"{seed} {i:08d}\n".encode()
        i += 1
    return bytes(out[:n])


async def _chunks(data: bytes, piece: int = 64_000):
    for i in range(0, len(data), piece):
        yield data[i:i + piece]


def _spec(**enc) -> PutSpec:
    return PutSpec(owner="o", sse=sse.Encryption(**enc))


S3 = {"mode": "AES256"}
KMS2 = {"mode": "aws:kms", "kms_key_id": "key-two"}
SSEC = {"customer": CUSTOMER}


def _keyring(tmp_path) -> str:
    path = str(tmp_path / "keyring.json")
    kms_mod.create_key(path, "key-one")
    kms_mod.create_key(path, "key-two")
    return path


async def _read(e: Engine, bucket: str, key: str, version_id=None, customer=None) -> bytes:
    _, _, stream = await e.get_object(bucket, key, lambda v: (0, v.size - 1) if v.size
                                      else None, version_id, customer)
    if stream is None:
        return b""
    return b"".join([c async for c in stream])


async def _populate(e: Engine) -> dict:
    """A versioned bucket and an unversioned one holding every kind of encrypted unit.
    Returns {(bucket, key, version id): (body, customer key)} and the open uploads."""
    await e.create_bucket("v", "o", "us-east-1")
    await e.set_bucket_versioning("v", "Enabled")
    await e.create_bucket("u", "o", "us-east-1")
    want = {}

    async def put(bucket, key, body, enc):
        v = await e.put_object(bucket, key, _chunks(body), _spec(**enc))
        want[(bucket, key, v.version_id)] = (body, enc.get("customer"))

    for i in range(3):                                  # two noncurrent versions each
        await put("v", "s3", _body(f"s3-{i}"), S3)
        await put("v", "kms", _body(f"kms-{i}"), KMS2)
        await put("v", "ssec", _body(f"ssec-{i}"), SSEC)
    await put("u", "s3", _body("u-s3"), S3)
    await put("u", "kms", _body("u-kms", 10), KMS2)
    await put("u", "plain", _body("plain", 1000), {})
    await e.put_object("v", "gone", _chunks(b"x" * 10), _spec(**S3))
    await e.delete_object("v", "gone")                   # a delete marker over it
    mp = Multipart(e)
    for bucket, key, enc in (("v", "mp-kms", KMS2), ("u", "mp-s3", S3), ("v", "mp-c", SSEC)):
        u = await mp.create_multipart_upload(bucket, key, _spec(**enc))
        bodies = [_body(f"{key}-{n}", 90_000 + n) for n in (1, 2, 3)]
        done = [await mp.upload_part(u, n, _chunks(b), "", customer=enc.get("customer"))
                for n, b in enumerate(bodies, 1)]
        v = await mp.complete_multipart_upload(u, [(p.part_number, p.etag, {}) for p in done],
                                               customer=enc.get("customer"))
        want[(bucket, key, v.version_id)] = (b"".join(bodies), enc.get("customer"))
    uploads = {}
    for bucket, key, enc in (("v", "open-kms", KMS2), ("u", "open-s3", S3),
                             ("u", "open-c", SSEC)):
        u = await mp.create_multipart_upload(bucket, key, _spec(**enc))
        bodies = [_body(f"{key}-{n}", 70_000) for n in (1, 2)]
        parts = [await mp.upload_part(u, n, _chunks(b), "", customer=enc.get("customer"))
                 for n, b in enumerate(bodies, 1)]
        uploads[(bucket, key)] = (u, bodies, parts, enc.get("customer"))
    return want, uploads


async def _units(e: Engine) -> dict:
    """{data id: (sse mode, sse_key)} of every version's and open upload's units (a small
    object's sealed bytes in its record: under ("inline", bucket, key, version))."""
    out = {}
    for bucket in ("u", "v"):
        for row in await e.meta.scan_versions(bucket, "", None, None, 10_000):
            for p in row.version.parts:
                out[p.data_id] = (row.version.sse, p.sse_key)
            if row.version.inline_key:
                out[("inline", bucket, row.key, row.vpos)] = (row.version.sse,
                                                             row.version.inline_key)
        for u in await e.meta.scan_uploads(bucket, "", "", None, 1000):
            for p in await e.meta.list_parts(u.upload_id, 0, 1000):
                out[p.data_id] = (u.sse, p.sse_key)
    return out


async def _etags(e: Engine) -> dict:
    return {(row.key, row.vpos): (row.version.etag, [p.etag for p in row.version.parts])
            for bucket in ("u", "v")
            for row in await e.meta.scan_versions(bucket, "", None, None, 10_000)}


def _files(roots) -> dict:
    """Every data file under the roots: (mtime, size, sha256): proof nothing was rewritten."""
    out = {}
    for root in roots:
        for path in glob.glob(os.path.join(root, "objects", "*", "*")):
            with open(path, "rb") as f:
                out[path] = (os.stat(path).st_mtime_ns, hashlib.sha256(f.read()).hexdigest())
    return out


async def _check_all(e: Engine, want: dict, uploads: dict | None = None) -> None:
    for (bucket, key, vid), (body, customer) in want.items():
        assert await _read(e, bucket, key, vid, customer) == body, (bucket, key, vid)
    if uploads:
        mp = Multipart(e)
        for (bucket, key), (u, bodies, parts, customer) in uploads.items():
            v = await mp.complete_multipart_upload(
                u, [(p.part_number, p.etag, {}) for p in parts], customer=customer)
            assert await _read(e, bucket, key, v.version_id, customer) == b"".join(bodies)


def _destroy_versions(path: str, upto: dict) -> None:
    """Edit the keyring by hand: each key's versions up to `upto[key]` replaced by random
    bytes (versions are numbered by position, so removing one is destroying its key)."""
    with open(path) as f:
        doc = json.load(f)
    for key_id, version in upto.items():
        for i in range(version):
            doc["keys"][key_id]["versions"][i] = kms_mod._new_version()
    with open(path, "w") as f:
        json.dump(doc, f)


def test_rotate_reseal_and_drop_the_old_versions(tmp_path, monkeypatch):
    monkeypatch.setattr(multipart, "MIN_PART_SIZE", 1)
    ring_path = _keyring(tmp_path)
    ring = kms_mod.LocalKeyring(ring_path)
    data = str(tmp_path / "data")

    async def go():
        e = Engine(SqliteMetaStore(str(tmp_path / "meta.sqlite3")), FolderDataStore(data),
                   kms=ring)
        want, uploads = await _populate(e)
        before = await _units(e)
        kms_units = {d for d, (mode, _) in before.items() if mode in ("AES256", "aws:kms")}
        ssec_units = {d for d, (mode, _) in before.items() if mode == "SSE-C"}
        assert len(kms_units) == 6 + 2 + 3 + 3 + 4 + 1 and len(ssec_units) == 3 + 3 + 2
        assert all(before[d][1].split(":")[2] == "1" for d in kms_units)
        files = _files([data])
        etags = await _etags(e)

        # Nothing rotated yet: every key is current.
        report = await reseal.reseal_all(e, page=2)
        assert (report.resealed, report.current, report.sse_c, report.failed) == \
            (0, len(kms_units), len(ssec_units), 0)

        kms_mod.rotate_key(ring_path, "key-one")
        kms_mod.rotate_key(ring_path, "key-two")
        kms_mod.rotate_key(ring_path, "key-two")         # key-two: version 3
        ring.reload()
        report = await reseal.reseal_all(e, page=2)       # small pages: every page boundary
        assert report.to_dict() == {
            "resealed": len(kms_units), "current": 0, "sse_c": len(ssec_units), "raced": 0,
            "failed": 0, "failures": [], "versions": 3 * 3 + 3 + 3, "parts": 6}
        after = await _units(e)
        assert after.keys() == before.keys()
        newest = {"key-one": "2", "key-two": "3"}
        for d in kms_units:
            _, key_id, version, _ = after[d][1].split(":", 3)
            assert version == newest[key_id] and after[d][0] == before[d][0]
            assert after[d][1] != before[d][1]
            assert ring.decrypt(after[d][1]) == ring.decrypt(before[d][1])  # same data key
        for d in ssec_units:
            assert after[d] == before[d]                  # the customer's wrapping: untouched
        assert _files([data]) == files                    # no data read back, none rewritten
        assert await _etags(e) == etags                   # the data keys are the same

        again = await reseal.reseal_all(e, page=3)
        assert (again.resealed, again.current, again.sse_c, again.raced) == \
            (0, len(kms_units), len(ssec_units), 0)
        await _check_all(e, want)
        await e.meta.close()

        # The old versions destroyed: everything still reads (nothing needs them any more),
        # while a key sealed under an old version no longer opens.
        _destroy_versions(ring_path, {"key-one": 1, "key-two": 2})
        fresh = kms_mod.LocalKeyring(ring_path)
        with pytest.raises(kms_mod.KmsError):
            fresh.decrypt(before[next(iter(kms_units))][1])
        e = Engine(SqliteMetaStore(str(tmp_path / "meta.sqlite3")), FolderDataStore(data),
                   kms=fresh)
        await _check_all(e, want, uploads)
        await e.meta.close()
    asyncio.run(go())


BIG = 50_000       # times a few bytes: over the inline limit, so each object is a data unit


def test_a_version_changed_between_scan_and_commit_is_left_alone(tmp_path):
    ring_path = _keyring(tmp_path)
    ring = kms_mod.LocalKeyring(ring_path)

    async def go():
        e = Engine(SqliteMetaStore(":memory:"), FolderDataStore(str(tmp_path / "data")),
                   kms=ring)
        await e.create_bucket("u", "o", "us-east-1")
        old = await e.put_object("u", "k", _chunks(b"old" * BIG), _spec(**S3))
        await e.put_object("u", "other", _chunks(b"other" * BIG), _spec(**S3))
        kms_mod.rotate_key(ring_path, "key-one")
        ring.reload()
        commit = reseal._commit
        newer = []

        async def overwrite_first(records, engine, report):
            # The scan has read `k`; a client overwrites it before the records commit.
            if not newer:
                newer.append(await e.put_object("u", "k", _chunks(b"new" * BIG),
                                                _spec(**S3)))
            await commit(records, engine, report)

        reseal._commit = overwrite_first
        try:
            report = await reseal.reseal_all(e)
        finally:
            reseal._commit = commit
        assert (report.resealed, report.raced, report.failed) == (1, 1, 0)
        cur = await e.head_object("u", "k")
        assert cur.parts == newer[0].parts           # the new version: as written (v2 already)
        assert cur.parts[0].sse_key.startswith("v1:key-one:2:")
        assert (await e.head_object("u", "other")).parts[0].sse_key.startswith("v1:key-one:2:")
        assert await _read(e, "u", "k") == b"new" * BIG

        # The rule itself: a stale `old` text, an unknown unit, a deleted version: no-ops.
        v = await e.head_object("u", "other")
        stale = r.ResealedKey(v.parts[0].data_id, old.parts[0].sse_key, "v1:key-one:2:AAAA")
        out = await e.meta.apply(r.ResealDataKeys("u", "other", v.version_id, [stale]))
        assert out.changed == 0 and (await e.head_object("u", "other")).parts == v.parts
        gone = r.ResealedKey(old.parts[0].data_id, old.parts[0].sse_key, "v1:key-one:2:AAAA")
        assert (await e.meta.apply(r.ResealDataKeys("u", "k", "null", [gone]))).changed == 0
        assert (await e.meta.apply(r.ResealDataKeys("u", "nope", "null", [gone]))).changed == 0
        assert (await e.meta.apply(r.ResealPartKey("no-upload", 1, gone))).changed == 0
        assert (await e.head_object("u", "k")).parts == newer[0].parts
        await e.meta.close()
    asyncio.run(go())


def test_a_part_replaced_between_scan_and_commit_is_left_alone(tmp_path, monkeypatch):
    monkeypatch.setattr(multipart, "MIN_PART_SIZE", 1)
    ring_path = _keyring(tmp_path)
    ring = kms_mod.LocalKeyring(ring_path)

    async def go():
        e = Engine(SqliteMetaStore(":memory:"), FolderDataStore(str(tmp_path / "data")),
                   kms=ring)
        await e.create_bucket("u", "o", "us-east-1")
        mp = Multipart(e)
        u = await mp.create_multipart_upload("u", "k", _spec(**KMS2))
        first = await mp.upload_part(u, 1, _chunks(b"a" * 5000), "")
        kms_mod.rotate_key(ring_path, "key-two")
        ring.reload()
        new = ring.reseal(first.sse_key)
        again = await mp.upload_part(u, 1, _chunks(b"b" * 5000), "")   # re-uploaded
        rec = r.ResealPartKey(u.upload_id, 1, r.ResealedKey(first.data_id, first.sse_key, new))
        assert (await e.meta.apply(rec)).changed == 0
        [p] = await e.meta.list_parts(u.upload_id, 0, 10)
        assert p == again
        assert p.sse_key.startswith("v1:key-two:2:")       # written after the rotation
        await e.meta.close()
    asyncio.run(go())


def test_failures_are_counted_with_their_reason(tmp_path):
    ring_path = _keyring(tmp_path)
    ring = kms_mod.LocalKeyring(ring_path)

    async def go():
        e = Engine(SqliteMetaStore(":memory:"), FolderDataStore(str(tmp_path / "data")),
                   kms=ring)
        await e.create_bucket("u", "o", "us-east-1")
        await e.put_object("u", "one", _chunks(b"1" * 100), _spec(mode="aws:kms",
                                                                kms_key_id="key-one"))
        await e.put_object("u", "two", _chunks(b"2" * 100), _spec(**KMS2))
        kms_mod.rotate_key(ring_path, "key-one")
        ring.reload()
        # key-two vanishes from the keyring (an operator's mistake): its units are reported.
        with open(ring_path) as f:
            doc = json.load(f)
        del doc["keys"]["key-two"]
        with open(ring_path, "w") as f:
            json.dump(doc, f)
        ring.reload()
        report = await reseal.reseal_all(e)
        assert (report.resealed, report.failed) == (1, 1)
        [f] = report.failures
        assert f["key"] == "two" and "key-two" in f["error"] and f["bucket"] == "u"
        await e.meta.close()
    asyncio.run(go())


def test_no_kms_no_reseal():
    async def go():
        e = Engine(SqliteMetaStore(":memory:"), MemoryDataStore())
        with pytest.raises(sse.KmsNotConfigured):
            await reseal.reseal_all(e)
        await e.meta.close()
    asyncio.run(go())


def test_reseal_records_replay_from_the_journal(tmp_path, monkeypatch):
    monkeypatch.setattr(multipart, "MIN_PART_SIZE", 1)
    ring_path = _keyring(tmp_path)
    ring = kms_mod.LocalKeyring(ring_path)
    drive, data = str(tmp_path / "d1"), str(tmp_path / "data")
    os.makedirs(drive)
    journal.prepare(drive)
    db = os.path.join(drive, "meta.sqlite3")

    def engine():
        return Engine(SqliteMetaStore(db, journal=journal.Journal([drive], quorum=1)),
                      FolderDataStore(data), kms=ring)

    async def close(e):
        await e.meta.close()
        e.meta.journal.close()

    async def write():
        e = engine()
        want, uploads = await _populate(e)
        kms_mod.rotate_key(ring_path, "key-one")
        kms_mod.rotate_key(ring_path, "key-two")
        ring.reload()
        report = await reseal.reseal_all(e)
        units = await _units(e)
        await close(e)
        return want, uploads, report, units

    async def check(want, uploads, units):
        e = engine()
        assert await _units(e) == units
        again = await reseal.reseal_all(e)
        assert again.resealed == 0 and again.current == report.resealed
        await _check_all(e, want, uploads)
        await close(e)

    want, uploads, report, units = asyncio.run(write())
    assert report.resealed == 19 and report.failed == 0
    names = [type(m).__name__ for _, ms in journal.read_merged([drive]) for m in ms]
    assert names.count("ResealDataKeys") == 11 and names.count("ResealPartKey") == 4
    os.unlink(db)                                       # the index lost: replayed
    rebuild_index(db, [drive])
    asyncio.run(check(want, uploads, units))


def test_a_rebuild_from_shard_headers_after_a_reseal_reads_everything(tmp_path, monkeypatch):
    """Shard headers keep the wrapped key each unit was written with: after a rotation and
    a reseal they name the old key versions, which the keyring keeps."""
    monkeypatch.setattr(multipart, "MIN_PART_SIZE", 1)
    ring_path = _keyring(tmp_path)
    ring = kms_mod.LocalKeyring(ring_path)
    drives = [str(tmp_path / f"d{i}") for i in range(4)]
    drive_set = DriveSet(drives, 2, 2)
    drive_set.open(create_missing=True)

    def store():
        return ErasureDataStore(drive_set, make_codec(2, 2))

    async def write():
        e = Engine(SqliteMetaStore(":memory:"), store(), kms=ring)
        want, uploads = await _populate(e)
        before = _files(drives)
        kms_mod.rotate_key(ring_path, "key-one")
        kms_mod.rotate_key(ring_path, "key-two")
        ring.reload()
        report = await reseal.reseal_all(e)
        assert report.resealed == 19 and report.failed == 0
        assert _files(drives) == before                   # shards untouched
        await e.meta.close()
        return want, uploads

    async def check(db, want, uploads):
        e = Engine(SqliteMetaStore(db), store(), kms=ring)
        units = await _units(e)
        assert {k.split(":")[2] for mode, k in units.values()
                if mode in ("AES256", "aws:kms")} == {"1"}
        await _check_all(e, want)
        report = await reseal.reseal_all(e)             # the rebuilt index: resealed again
        assert report.failed == 0 and report.resealed > 0
        await _check_all(e, want, uploads)
        await e.meta.close()

    want, uploads = asyncio.run(write())
    scan = selfdescribe.scan_drives(drives)
    db = str(tmp_path / "rebuilt.sqlite3")
    assert rebuild_from_mutations(db, scan.mutations())["skipped"] == 0
    asyncio.run(check(db, want, uploads))
