"""Rebuilding from shard headers: metadata that cannot make a record is refused, not fatal."""
from s3ish.engine import selfdescribe
from s3ish.storage.drives import DriveSet
from s3ish.storage.erasure import make_codec
from s3ish.storage.erasure_store import ErasureDataStore


def _store(tmp_path):
    drives = [str(tmp_path / f"d{i}") for i in range(4)]
    drive_set = DriveSet(drives, 2, 2)
    drive_set.open(create_missing=True)
    return drives, ErasureDataStore(drive_set, make_codec(2, 2))


def _unit(store, meta, body=b"bytes", completion=None):
    w = store.writer(meta)
    w.write(body)
    w.commit(completion if completion is not None else
             {"size": len(body), "etag": "e", "mtime": 1.0, "checksum": ""})
    return w.data_id


def test_incomplete_or_odd_metadata_counts_as_undescribed(tmp_path):
    drives, store = _store(tmp_path)
    good = _unit(store, {"kind": "object", "bucket": "bkt", "key": "k", "owner": "o",
                         "content_type": "t", "headers": {}, "user_meta": {},
                         "storage_class": "STANDARD", "checksum_algorithm": "", "tags": {}})
    missing = _unit(store, {"kind": "object", "bucket": "bkt"})
    bad_part = _unit(store, {"kind": "part", "bucket": "bkt", "key": "k", "upload": "x",
                             "part_number": 1})
    bad_manifest = _unit(store, {"kind": "manifest", "bucket": "bkt", "key": "m"},
                         body=b"{not json")
    scan = selfdescribe.scan_drives(drives)
    assert set(scan.undescribed) == {missing, bad_part, bad_manifest}
    assert [v.parts[0].data_id for v in scan.versions.values()] == [good]


def test_an_objects_acl_given_at_upload_comes_back(tmp_path):
    from s3ish.engine.types import PutSpec
    from s3ish.meta.bucketconf import Grant
    drives, store = _store(tmp_path)
    grants = [Grant("group:AllUsers", "READ")]
    _unit(store, selfdescribe.object_meta("bkt", "k", PutSpec("o", acl=grants)))
    _unit(store, selfdescribe.object_meta("bkt", "plain", PutSpec("o")))
    scan = selfdescribe.scan_drives(drives)
    assert {v.key: v.acl for v in scan.versions.values()} == {"k": grants, "plain": None}
