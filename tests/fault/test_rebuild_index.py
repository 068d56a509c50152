"""The metadata index survives what the data survives: lose the drive holding it (and another),
or delete it, and everything lists and reads back identically from the journal."""
import os
import shutil
import subprocess
import sys

import pytest

from tests.fault.test_erasure_drives import MiB
from tests.support import ServerProcess

ENV = {"S3ISH_ROOT_USER": "x", "S3ISH_ROOT_PASSWORD": "y"}


def _snapshot(c):
    """Everything a client can see: buckets, listings, bodies, metadata, tags, uploads."""
    out = {}
    for b in sorted(x["Name"] for x in c.list_buckets()["Buckets"]):
        objs = {}
        for page in c.get_paginator("list_objects_v2").paginate(Bucket=b):
            for o in page.get("Contents", []):
                h = c.head_object(Bucket=b, Key=o["Key"])
                body = c.get_object(Bucket=b, Key=o["Key"])["Body"].read()
                tags = c.get_object_tagging(Bucket=b, Key=o["Key"])["TagSet"]
                objs[o["Key"]] = (o["ETag"], o["Size"], h["ContentType"], h["Metadata"],
                                  h.get("StorageClass"), body, sorted(
                                      (t["Key"], t["Value"]) for t in tags))
        uploads = [(u["Key"], u["UploadId"])
                   for u in c.list_multipart_uploads(Bucket=b).get("Uploads", [])]
        out[b] = (objs, uploads)
    return out


def _populate(c):
    c.create_bucket(Bucket="alpha")
    c.create_bucket(Bucket="beta", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    c.put_object(Bucket="alpha", Key="inline", Body=b"small and inline",
                 ContentType="text/plain", Metadata={"a": "1"}, Tagging="t=1")
    c.put_object(Bucket="alpha", Key="dir/big", Body=os.urandom(2 * MiB + 5),
                 StorageClass="STANDARD_IA")
    c.put_object(Bucket="alpha", Key="gone", Body=b"deleted later")
    c.delete_object(Bucket="alpha", Key="gone")
    c.put_object(Bucket="alpha", Key="over", Body=b"v1")
    c.put_object(Bucket="alpha", Key="over", Body=b"v2")
    up = c.create_multipart_upload(Bucket="beta", Key="mp", Metadata={"m": "p"})
    parts = [os.urandom(5 * MiB), b"tail"]
    done = [{"PartNumber": i, "ETag": c.upload_part(Bucket="beta", Key="mp",
                                                    UploadId=up["UploadId"], PartNumber=i,
                                                    Body=p)["ETag"]}
            for i, p in enumerate(parts, 1)]
    c.complete_multipart_upload(Bucket="beta", Key="mp", UploadId=up["UploadId"],
                                MultipartUpload={"Parts": done})
    c.create_multipart_upload(Bucket="beta", Key="open-upload")
    c.copy_object(Bucket="beta", Key="copied", CopySource="alpha/inline")
    c.put_object_tagging(Bucket="beta", Key="copied",
                         Tagging={"TagSet": [{"Key": "x", "Value": "y"}]})


def _server(drives, tmp_path, env=None):
    return ServerProcess(drives, str(tmp_path), extra_args=["--scrub-rate", "0"],
                         env=env).start()


@pytest.mark.slow
def test_lose_index_drive_and_another(tmp_path):
    drives = [str(tmp_path / f"d{i}") for i in range(1, 5)]
    srv = _server(drives, tmp_path)
    try:
        c = srv.client()
        _populate(c)
        before = _snapshot(c)
    finally:
        srv.stop()
    # The first drive holds the SQLite index: lose it and one more (m = 2).
    shutil.rmtree(drives[0])
    shutil.rmtree(drives[2])
    for d in (drives[0], drives[2]):
        os.makedirs(d)                      # new, empty disks in the lost drives' places
    srv = _server(drives, tmp_path)
    try:
        c = srv.client()
        assert _snapshot(c) == before
        assert "rebuilding it from the journal" in srv.read_log()
        c.put_object(Bucket="alpha", Key="after", Body=b"still writable")
    finally:
        srv.stop()


@pytest.mark.slow
def test_admin_rebuild_index(tmp_path):
    drives = [str(tmp_path / f"d{i}") for i in range(1, 5)]
    srv = _server(drives, tmp_path)
    try:
        c = srv.client()
        _populate(c)
        before = _snapshot(c)
        running = subprocess.run([sys.executable, "-m", "s3ish", "admin", "rebuild-index",
                                  "--data", str(tmp_path / "d{1...4}")], capture_output=True,
                                 text=True, env={**os.environ, **ENV})
        assert running.returncode != 0 and "stop it first" in running.stderr
    finally:
        srv.stop()
    os.unlink(os.path.join(drives[0], "meta.sqlite3"))
    r = subprocess.run([sys.executable, "-m", "s3ish", "admin", "rebuild-index", "--data",
                        str(tmp_path / "d{1...4}")], capture_output=True, text=True,
                       env={**os.environ, **ENV})
    assert r.returncode == 0, r.stderr
    assert "lsn_gaps                 0" in r.stdout
    srv = _server(drives, tmp_path)
    try:
        assert _snapshot(srv.client()) == before
    finally:
        srv.stop()


@pytest.mark.slow
def test_compacted_journal_still_rebuilds(tmp_path):
    drives = [str(tmp_path / f"d{i}") for i in range(1, 5)]
    env = {"S3ISH_JOURNAL_COMPACT_BYTES": "1"}      # compact at every start-up
    srv = _server(drives, tmp_path, env)
    try:
        _populate(srv.client())
    finally:
        srv.stop()
    srv = _server(drives, tmp_path, env)                                      # folds the journal into snapshots
    try:
        assert "journal compacted" in srv.read_log()
        c = srv.client()
        c.put_object(Bucket="alpha", Key="after-compaction", Body=b"in the journal only")
        before = _snapshot(c)
    finally:
        srv.stop()
    shutil.rmtree(drives[0])                         # the index drive, and one more
    shutil.rmtree(drives[3])
    for d in (drives[0], drives[3]):
        os.makedirs(d)
    srv = _server(drives, tmp_path)
    try:
        assert _snapshot(srv.client()) == before
    finally:
        srv.stop()
