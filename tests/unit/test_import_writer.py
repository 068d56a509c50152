"""DataStore.import_writer (a unit written under a given id, as `s3ish restore` does) on the
folder and erasure stores, and the shard-header metadata a restore gives units
(selfdescribe.restored_units / restored_part): a header rebuild finds the versions again."""
import dataclasses

import pytest

from s3ish.engine import selfdescribe
from s3ish.meta import records as r
from s3ish.storage.datastore import FolderDataStore, MemoryDataStore
from s3ish.storage.drives import DriveSet
from s3ish.storage.erasure import make_codec
from s3ish.storage.erasure_store import ErasureDataStore
from s3ish.util.ids import data_id

MiB = 1 << 20


def _erasure(tmp_path):
    drives = [str(tmp_path / f"d{i}") for i in range(4)]
    drive_set = DriveSet(drives, 2, 2)
    drive_set.open(create_missing=True)
    return drives, ErasureDataStore(drive_set, make_codec(2, 2))


def _stores(tmp_path):
    return {"folder": FolderDataStore(str(tmp_path / "f")), "memory": MemoryDataStore(),
            "erasure": _erasure(tmp_path)[1]}


def _import(store, unit_id, body, describe=None, block=300_000):
    w = store.import_writer(unit_id, describe)
    for i in range(0, len(body), block):
        w.write(body[i:i + block])
    w.commit()


def _read(store, unit_id, n):
    h = store.open(unit_id)
    try:
        return h.read_at(0, n)
    finally:
        h.close()


@pytest.mark.parametrize("kind", ["folder", "memory", "erasure"])
def test_a_unit_keeps_its_id_and_bytes(tmp_path, kind):
    store = _stores(tmp_path)[kind]
    body = bytes(range(256)) * (5 * 4096 + 3)        # over one erasure block, unaligned
    unit = data_id()
    _import(store, unit, body)
    assert _read(store, unit, len(body)) == body
    assert unit in store.list_ids()
    _import(store, unit, body)                       # again (a retried restore): same unit
    assert _read(store, unit, len(body)) == body


@pytest.mark.parametrize("kind", ["folder", "memory", "erasure"])
def test_exists_says_whether_a_unit_is_here_without_reporting_damage(tmp_path, kind):
    store = _stores(tmp_path)[kind]
    unit = data_id()
    assert not store.exists(unit)
    _import(store, unit, b"here")
    assert store.exists(unit)
    store.delete(unit)
    assert not store.exists(unit)
    if kind == "erasure":
        assert store.damaged_count() == 0        # a missing unit asked about is no damage


@pytest.mark.parametrize("kind", ["folder", "memory", "erasure"])
@pytest.mark.parametrize("bad", ["../../etc/passwd", "ABCDEF0123456789ABCDEF0123456789",
                                 "short", ""])
def test_only_data_ids_are_taken(tmp_path, kind, bad):
    with pytest.raises(ValueError, match="not a data id"):
        _stores(tmp_path)[kind].import_writer(bad)


@pytest.mark.parametrize("kind", ["folder", "erasure"])
def test_an_aborted_import_leaves_nothing(tmp_path, kind):
    store = _stores(tmp_path)[kind]
    w = store.import_writer(data_id())
    w.write(b"x" * (MiB + 5))
    w.abort()
    assert store.list_ids() == [] and store.clean_tmp() == 0


def test_headers_carry_the_metadata_given(tmp_path):
    _, store = _erasure(tmp_path)
    unit = data_id()
    _import(store, unit, b"abc", {"kind": "object", "bucket": "b", "anything": [1, 2]})
    header = store.read_header(unit)
    assert header.extra == {"kind": "object", "bucket": "b", "anything": [1, 2]}
    assert header.size == 3 and header.data_id == unit


def _version(**kw):
    base = dict(bucket="bkt", key="k", size=5, etag="5d41402abc4b2a76b9719d911017c592",
                mtime=1700000000.5, owner="o", content_type="text/plain",
                headers={"Cache-Control": "no-cache"}, user_meta={"a": "1"},
                tags={"t": "v"}, vsort="7fffffffffffffff0123456789abcdef",
                acl=[r.Grant("id:o2", "READ")])
    return r.ObjectVersion(**{**base, **kw})


def test_restored_units_rebuild_from_shard_headers(tmp_path):
    """Each kind of unit restored with its metadata: a header rebuild finds the simple
    object (versioned, compressed), the multipart object (through its manifest) and the
    open upload's part."""
    drives, store = _erasure(tmp_path)
    simple = _version(version_id="7fffffffffffffff0123456789abcdef",
                      parts=[r.DataPart(data_id(), 5, "5d41402abc4b2a76b9719d911017c592",
                                        "AAAAAA==", compression="zstd", stored_size=9)],
                      checksum_algorithm="CRC32", checksum_value="AAAAAA==",
                      checksum_type="FULL_OBJECT")
    parts = [r.DataPart(data_id(), 3, "a" * 32), r.DataPart(data_id(), 2, "b" * 32)]
    multi = _version(key="mp", size=5, etag="c" * 32 + "-2", parts=parts,
                     vsort="7ffffffffffffffe0123456789abcdef")
    multi.manifest = data_id()
    body = selfdescribe.manifest_body(dataclasses.replace(multi, manifest=""))
    for v in (simple, multi):
        for unit, describe in selfdescribe.restored_units(v):
            payload = body if unit == multi.manifest else b"x" * 9
            if unit == multi.manifest:
                assert selfdescribe.manifest_matches(v, payload)
                describe = {**describe, **selfdescribe.manifest_final(v, payload)}
            _import(store, unit, payload, describe)
    upload = r.Upload("up1", "bkt", "open", 1700000001.0, "o")
    part = r.Part("up1", 3, data_id(), 4, "d" * 32, 1700000002.0)
    _import(store, part.data_id, b"open", selfdescribe.restored_part(upload, part))
    scan = selfdescribe.scan_drives(drives)
    assert scan.undescribed == []
    got = scan.versioned[("bkt", "k", simple.vsort)]
    assert got.parts == simple.parts and got.acl == simple.acl
    assert (got.tags, got.user_meta, got.headers, got.checksum_value) == \
        (simple.tags, simple.user_meta, simple.headers, simple.checksum_value)
    mp = scan.versions[("bkt", "mp")]
    assert mp.manifest == multi.manifest and mp.parts == multi.parts and mp.etag == multi.etag
    assert [(u.upload_id, list(ps)) for u, ps in scan._uploads.values()] == [("up1", [3])]
    assert not selfdescribe.manifest_matches(simple, body)
    assert not selfdescribe.manifest_matches(multi, b"{not json")
