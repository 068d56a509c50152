"""Versioned buckets rebuilt from shard headers alone (every journal and snapshot lost): every
version that has data comes back with its version id, bytes and place in its key's history.
What the headers cannot hold does not come back: delete markers (they have no data unit) and
configuration changed after upload (see engine/selfdescribe.py)."""
import os
import shutil
import subprocess
import sys

import pytest

from tests.fault.test_rebuild_index import ENV
from tests.support import ServerProcess

MiB = 1024 * 1024


def _server(drives, tmp_path):
    return ServerProcess(drives, str(tmp_path), extra_args=["--scrub-rate", "0"]).start()


def _versions(c, bucket):
    """Every version a client sees: (key, version id, latest, etag, size, body); markers
    apart as (key, version id, latest)."""
    out, markers = [], []
    for page in c.get_paginator("list_object_versions").paginate(Bucket=bucket):
        for v in page.get("Versions", []):
            body = c.get_object(Bucket=bucket, Key=v["Key"], VersionId=v["VersionId"])
            out.append((v["Key"], v["VersionId"], v["IsLatest"], v["ETag"], v["Size"],
                        body["Body"].read()))
        markers += [(m["Key"], m["VersionId"], m["IsLatest"])
                    for m in page.get("DeleteMarkers", [])]
    return out, markers


def _populate(c):
    c.create_bucket(Bucket="ver")
    c.put_object(Bucket="ver", Key="k", Body=b"null, before versioning")
    c.put_bucket_versioning(Bucket="ver", VersioningConfiguration={"Status": "Enabled"})
    c.put_object(Bucket="ver", Key="k", Body=b"small version")
    c.put_object(Bucket="ver", Key="k", Body=os.urandom(2 * MiB + 3))
    up = c.create_multipart_upload(Bucket="ver", Key="k")
    parts = [os.urandom(5 * MiB), b"tail"]
    done = [{"PartNumber": i, "ETag": c.upload_part(Bucket="ver", Key="k",
                                                    UploadId=up["UploadId"], PartNumber=i,
                                                    Body=p)["ETag"]}
            for i, p in enumerate(parts, 1)]
    c.complete_multipart_upload(Bucket="ver", Key="k", UploadId=up["UploadId"],
                                MultipartUpload={"Parts": done})
    c.put_object(Bucket="ver", Key="k", Body=b"newest")
    c.put_object(Bucket="ver", Key="marked", Body=b"under a marker")
    c.delete_object(Bucket="ver", Key="marked")
    c.put_object(Bucket="ver", Key="gone", Body=b"a version deleted by id")
    vid = c.put_object(Bucket="ver", Key="gone", Body=b"deleted")["VersionId"]
    c.delete_object(Bucket="ver", Key="gone", VersionId=vid)
    c.put_object(Bucket="ver", Key="s", Body=b"versioned, then overwritten while suspended")
    c.put_bucket_versioning(Bucket="ver", VersioningConfiguration={"Status": "Suspended"})
    c.put_object(Bucket="ver", Key="s", Body=b"null, written while suspended")
    c.put_object(Bucket="ver", Key="s", Body=b"null again: replaces the last one")
    c.create_bucket(Bucket="locked", ObjectLockEnabledForBucket=True)
    for i in range(3):
        c.put_object(Bucket="locked", Key="l", Body=f"locked {i}".encode(),
                     **({"ObjectLockLegalHoldStatus": "ON"} if i == 0 else {}))


@pytest.mark.slow
def test_versions_rebuilt_from_shard_headers(tmp_path):
    drives = [str(tmp_path / f"d{i}") for i in range(1, 5)]
    srv = _server(drives, tmp_path)
    try:
        c = srv.client()
        _populate(c)
        before = {b: _versions(c, b) for b in ("ver", "locked")}
        state = c.get_bucket_versioning(Bucket="ver")["Status"]
    finally:
        srv.stop()
    assert len(before["ver"][0]) == 9 and len(before["ver"][1]) == 1
    for d in drives:
        shutil.rmtree(os.path.join(d, ".s3ish"))       # every journal and snapshot
    os.unlink(os.path.join(drives[0], "meta.sqlite3"))
    r = subprocess.run([sys.executable, "-m", "s3ish", "admin", "rebuild-index", "--data",
                        str(tmp_path / "d{1...4}")], capture_output=True, text=True,
                       env={**os.environ, **ENV}, timeout=120)
    assert r.returncode == 0, r.stderr
    assert "shard headers" in r.stdout and "skipped                  0" in r.stdout
    srv = _server(drives, tmp_path)
    try:
        c = srv.client()
        after = {b: _versions(c, b) for b in ("ver", "locked")}
        assert after["locked"] == before["locked"]
        versions, markers = after["ver"]
        assert markers == []                           # a delete marker has no data unit
        # Without its marker, "marked"'s only version is its current one again.
        expected = [(k, vid, latest or k == "marked", *rest)
                    for k, vid, latest, *rest in before["ver"][0]]
        assert versions == expected
        # The last write was a null version: the bucket was (at least then) suspended.
        assert c.get_bucket_versioning(Bucket="ver")["Status"] == state == "Suspended"
        assert c.get_bucket_versioning(Bucket="locked")["Status"] == "Enabled"
        assert c.get_object_lock_configuration(Bucket="locked")[
            "ObjectLockConfiguration"]["ObjectLockEnabled"] == "Enabled"
        c.put_object(Bucket="ver", Key="k", Body=b"after")    # the journal starts again
        got = c.get_object(Bucket="ver", Key="k", VersionId="null")["Body"].read()
        assert got == b"after"
    finally:
        srv.stop()
