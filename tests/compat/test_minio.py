"""minio-py (the MinIO Python SDK) against the real server: Minio("127.0.0.1:PORT", secure=False).
"""
import io
import os

import pytest
import requests
from minio import Minio
from minio.deleteobjects import DeleteObject
from minio.error import S3Error

from tests.compat.conftest import MiB, make_file, md5_file
from tests.support import ROOT_PASSWORD, ROOT_USER, unique_bucket


@pytest.fixture(scope="module")
def mc(server):
    return Minio(server.endpoint.split("://", 1)[1], access_key=ROOT_USER,
                 secret_key=ROOT_PASSWORD, secure=False, region="us-east-1")


@pytest.fixture
def mbucket(mc):
    name = unique_bucket("minio")
    assert not mc.bucket_exists(name)
    mc.make_bucket(name)
    assert mc.bucket_exists(name)
    yield name
    errs = list(mc.remove_objects(name, (DeleteObject(o.object_name) for o in
                                         mc.list_objects(name, recursive=True))))
    assert not errs
    mc.remove_bucket(name)
    assert not mc.bucket_exists(name)


def test_bucket_lifecycle(mc):
    name = unique_bucket("minio")
    mc.make_bucket(name)
    assert mc.bucket_exists(name)
    assert name in [b.name for b in mc.list_buckets()]
    mc.make_bucket(name)        # re-created by its owner in us-east-1: success, as on S3
    mc.put_object(name, "x", io.BytesIO(b"x"), 1)
    with pytest.raises(S3Error) as e:
        mc.remove_bucket(name)
    assert e.value.code == "BucketNotEmpty"
    mc.remove_object(name, "x")
    mc.remove_bucket(name)
    assert not mc.bucket_exists(name)
    with pytest.raises(S3Error) as e:
        mc.remove_bucket(name)
    assert e.value.code == "NoSuchBucket"


def test_put_get_with_metadata(mc, mbucket):
    body = os.urandom(123_457)
    res = mc.put_object(mbucket, "meta/ünï ファイル.bin", io.BytesIO(body), len(body),
                        content_type="application/x-test",
                        metadata={"x-amz-meta-color": "blue", "Project": "s3ish"})
    assert res.etag

    resp = mc.get_object(mbucket, "meta/ünï ファイル.bin")
    try:
        assert resp.read() == body
        assert resp.headers["Content-Type"] == "application/x-test"
        assert resp.headers["x-amz-meta-color"] == "blue"
        assert resp.headers["x-amz-meta-project"] == "s3ish"
    finally:
        resp.close()
        resp.release_conn()

    st = mc.stat_object(mbucket, "meta/ünï ファイル.bin")
    assert st.size == len(body)
    assert st.etag == res.etag
    assert st.content_type == "application/x-test"
    meta = {k.lower(): v for k, v in st.metadata.items()}
    assert meta["x-amz-meta-color"] == "blue" and meta["x-amz-meta-project"] == "s3ish"

    # Ranged read.
    resp = mc.get_object(mbucket, "meta/ünï ファイル.bin", offset=1000, length=500)
    try:
        assert resp.read() == body[1000:1500]
    finally:
        resp.close()
        resp.release_conn()

    # Empty object.
    mc.put_object(mbucket, "empty", io.BytesIO(b""), 0)
    assert mc.stat_object(mbucket, "empty").size == 0
    resp = mc.get_object(mbucket, "empty")
    try:
        assert resp.read() == b""
    finally:
        resp.close()
        resp.release_conn()

    with pytest.raises(S3Error) as e:
        mc.stat_object(mbucket, "missing")
    assert e.value.code in ("NoSuchKey", "ResponseNotFound")


def test_stream_unknown_length_multipart(mc, mbucket):
    """length=-1 makes minio-py upload in part_size parts via multipart."""
    body = os.urandom(11 * MiB + 7)
    mc.put_object(mbucket, "streamed", io.BytesIO(body), -1, part_size=5 * MiB)
    st = mc.stat_object(mbucket, "streamed")
    assert st.size == len(body) and st.etag.endswith("-3")
    resp = mc.get_object(mbucket, "streamed")
    try:
        assert resp.read() == body
    finally:
        resp.close()
        resp.release_conn()


@pytest.mark.slow
def test_fput_fget_100mib(mc, mbucket, tmp_path, big_file):
    src, digest = big_file
    res = mc.fput_object(mbucket, "big/100MiB.bin", src, part_size=5 * MiB)
    assert res.etag.endswith("-20")
    st = mc.stat_object(mbucket, "big/100MiB.bin")
    assert st.size == 100 * MiB
    dst = tmp_path / "back.bin"
    mc.fget_object(mbucket, "big/100MiB.bin", str(dst))
    assert md5_file(dst) == digest
    os.remove(dst)
    mc.remove_object(mbucket, "big/100MiB.bin")


def test_fput_fget_small_file(mc, mbucket, tmp_path):
    src = make_file(tmp_path / "small.bin", 2 * MiB + 5)
    mc.fput_object(mbucket, "small.bin", src)
    dst = tmp_path / "small.back"
    mc.fget_object(mbucket, "small.bin", str(dst))
    assert md5_file(dst) == md5_file(src)


def test_list_objects(mc, mbucket):
    keys = ["a.txt", "dir/1", "dir/2", "dir/sub/3", "dir2/x", "ünï/ファイル", "z"]
    for k in keys:
        mc.put_object(mbucket, k, io.BytesIO(k.encode()), len(k.encode()))

    assert sorted(o.object_name for o in mc.list_objects(mbucket, recursive=True)) == sorted(keys)
    top = list(mc.list_objects(mbucket))
    assert sorted((o.object_name, o.is_dir) for o in top) == sorted(
        [("a.txt", False), ("dir/", True), ("dir2/", True), ("ünï/", True), ("z", False)])
    assert sorted(o.object_name for o in mc.list_objects(mbucket, prefix="dir/")) == [
        "dir/1", "dir/2", "dir/sub/"]
    assert sorted(o.object_name for o in mc.list_objects(mbucket, prefix="dir/",
                                                         recursive=True)) == [
        "dir/1", "dir/2", "dir/sub/3"]
    assert [o.object_name for o in mc.list_objects(mbucket, prefix="dir", recursive=True)] == [
        "dir/1", "dir/2", "dir/sub/3", "dir2/x"]
    # Keys sort by their UTF-8 bytes: "z" (0x7a) before "ü" (0xc3 0xbc).
    assert [o.object_name for o in mc.list_objects(mbucket, start_after="dir2/x",
                                                   recursive=True)] == ["z", "ünï/ファイル"]
    # ListObjects v1 as well.
    assert sorted(o.object_name for o in mc.list_objects(mbucket, recursive=True,
                                                         use_api_v1=True)) == sorted(keys)
    for o in mc.list_objects(mbucket, prefix="dir/", recursive=True):
        assert o.size == len(o.object_name.encode()) and o.etag and o.last_modified


def test_remove_object_and_objects(mc, mbucket):
    keys = [f"del/{i:03d}" for i in range(30)] + ["keep", "del ü/space"]
    for k in keys:
        mc.put_object(mbucket, k, io.BytesIO(b"d"), 1)
    mc.remove_object(mbucket, "keep")
    mc.remove_object(mbucket, "keep")  # deleting a missing key is not an error
    errs = list(mc.remove_objects(mbucket, [DeleteObject(k) for k in keys if k != "keep"]
                                  + [DeleteObject("never-existed")]))
    assert errs == []
    assert list(mc.list_objects(mbucket, recursive=True)) == []


def test_presigned_get(mc, mbucket):
    body = os.urandom(70_000)
    key = "pre signed/ünï.bin"
    mc.put_object(mbucket, key, io.BytesIO(body), len(body))
    url = mc.presigned_get_object(mbucket, key)
    r = requests.get(url, timeout=30)
    assert r.status_code == 200, r.text
    assert r.content == body
    r = requests.get(url, headers={"Range": "bytes=10-19"}, timeout=30)
    assert r.status_code == 206 and r.content == body[10:20]
    bad = url.replace("X-Amz-Signature=", "X-Amz-Signature=0")
    assert requests.get(bad, timeout=30).status_code == 403


def test_presigned_put_and_response_overrides(mc, mbucket):
    body = os.urandom(9_999)
    url = mc.presigned_put_object(mbucket, "uploaded via url ü.bin")
    r = requests.put(url, data=body, timeout=30)
    assert r.status_code == 200, r.text
    st = mc.stat_object(mbucket, "uploaded via url ü.bin")
    assert st.size == len(body)

    url = mc.presigned_get_object(mbucket, "uploaded via url ü.bin", response_headers={
        "response-content-type": "text/plain",
        "response-content-disposition": 'attachment; filename="x.txt"'})
    r = requests.get(url, timeout=30)
    assert r.status_code == 200, r.text
    assert r.content == body
    assert r.headers["Content-Type"] == "text/plain"
    assert r.headers["Content-Disposition"] == 'attachment; filename="x.txt"'
