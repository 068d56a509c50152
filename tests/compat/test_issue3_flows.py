"""Issue 3 flows, run as users run them: the server-side copy family (CopyObject,
UploadPartCopy, multipart copies), ListMultipartUploads, SigV2 and browser POST uploads,
driven by the AWS CLI, rclone, s3cmd, minio-py and boto3's TransferManager.

Each CLI runs through the same isolated-HOME runners as the per-client files.
"""
import base64
import hashlib
import io
import json
import os
import xml.etree.ElementTree as ET
from datetime import datetime, timedelta, timezone

import pytest
import requests
from boto3.s3.transfer import TransferConfig
from minio import Minio
from minio.commonconfig import REPLACE, ComposeSource, CopySource
from minio.datatypes import PostPolicy
from minio.error import S3Error

from tests.compat.conftest import MiB, make_file, md5_file, md5_tree
from tests.compat.test_awscli import _runner as aws_runner
from tests.compat.test_rclone import FILES as RCLONE_FILES
from tests.compat.test_rclone import REMOTE, rclone, src_tree  # noqa: F401 (fixtures)
from tests.compat.test_s3cmd import _runner as s3cmd_runner
from tests.conftest import empty_bucket
from tests.support import ROOT_PASSWORD, ROOT_USER, unique_bucket


def out(p) -> str:
    return p.stdout.decode("utf-8")


@pytest.fixture(scope="module")
def aws(server, tmp_path_factory):
    return aws_runner(server, tmp_path_factory.mktemp("awshome-i3"), "s3v4")


@pytest.fixture(scope="module")
def s3cmd_v2(server, tmp_path_factory):
    """s3cmd with `signature_v2 = True`, and multipart copies above 5 MiB (instead of the
    default 1 GiB) so `s3cmd cp`/`mv` of a bigger object go through UploadPartCopy."""
    return s3cmd_runner(server, tmp_path_factory.mktemp("s3cmdhome-i3"), signature_v2=True,
                        extra_config="multipart_copy_chunk_size_mb = 5\n")


@pytest.fixture(scope="module")
def s3cmd_v4(server, tmp_path_factory):
    return s3cmd_runner(server, tmp_path_factory.mktemp("s3cmdhome-i3v4"))


@pytest.fixture(scope="module")
def mc(server):
    return Minio(server.endpoint.split("://", 1)[1], access_key=ROOT_USER,
                 secret_key=ROOT_PASSWORD, secure=False, region="us-east-1")


@pytest.fixture
def bucket2(s3):
    """A second bucket (the session's `bucket` fixture gives the first)."""
    name = unique_bucket("dst")
    s3.create_bucket(Bucket=name)
    yield name
    empty_bucket(s3, name)
    s3.delete_bucket(Bucket=name)


def tags_of(s3, bucket, key) -> dict:
    return {t["Key"]: t["Value"] for t in s3.get_object_tagging(Bucket=bucket, Key=key)["TagSet"]}


def get_bytes(s3, bucket, key) -> bytes:
    return s3.get_object(Bucket=bucket, Key=key)["Body"].read()


# --- 1. AWS CLI: 1 GiB up and back with default multipart settings ---------------------------

@pytest.mark.slow
def test_awscli_cp_1gib_roundtrip(aws, s3, bucket, tmp_path):
    src = tmp_path / "one-gib.bin"
    dst = tmp_path / "one-gib.back"
    try:
        make_file(src, 1024 * MiB, chunk=MiB)
        digest = md5_file(src)
        aws("s3", "cp", "--only-show-errors", str(src), f"s3://{bucket}/big/1GiB.bin",
            timeout=600)
        os.remove(src)  # only one 1 GiB file on local disk at a time
        head = s3.head_object(Bucket=bucket, Key="big/1GiB.bin")
        assert head["ContentLength"] == 1024 * MiB
        assert head["ETag"].strip('"').endswith("-128")  # default 8 MiB chunks
        aws("s3", "cp", "--only-show-errors", f"s3://{bucket}/big/1GiB.bin", str(dst),
            timeout=600)
        assert os.path.getsize(dst) == 1024 * MiB
        assert md5_file(dst) == digest
    finally:
        for p in (src, dst):
            if os.path.exists(p):
                os.remove(p)
        s3.delete_object(Bucket=bucket, Key="big/1GiB.bin")


# --- 2. AWS CLI: copies between buckets, mv, bucket-to-bucket sync ----------------------------

@pytest.mark.parametrize("size,parts", [(12345, None), (20 * MiB + 17, 3)],
                         ids=["small-CopyObject", "20MiB-UploadPartCopy"])
def test_awscli_cp_between_buckets(aws, s3, bucket, bucket2, tmp_path, size, parts):
    src = make_file(tmp_path / "src.bin", size)
    s3.upload_file(src, bucket, "src/ob j ü.bin",
                   ExtraArgs={"ContentType": "application/x-i3", "Metadata": {"color": "blue"}})
    s3.put_object_tagging(Bucket=bucket, Key="src/ob j ü.bin",
                          Tagging={"TagSet": [{"Key": "team", "Value": "s3ish"}]})

    aws("s3", "cp", f"s3://{bucket}/src/ob j ü.bin", f"s3://{bucket2}/copied/ob j ü.bin")
    head = s3.head_object(Bucket=bucket2, Key="copied/ob j ü.bin")
    assert head["ContentLength"] == size
    if parts is None:
        # One CopyObject (x-amz-metadata-directive COPY by default): ETag, metadata, content
        # type and tags all come from the source.
        assert head["ETag"].strip('"') == md5_file(src)
        assert head["Metadata"] == {"color": "blue"}
        assert head["ContentType"] == "application/x-i3"
        assert tags_of(s3, bucket2, "copied/ob j ü.bin") == {"team": "s3ish"}
    else:
        # CLI's 8 MiB multipart_threshold/chunksize: 3 UploadPartCopy parts. (CLI v1 gives
        # s3transfer the size from its own listing, so it never HEADs the source and a
        # multipart copy starts with no metadata; the same happens against AWS.)
        assert head["ETag"].strip('"').endswith(f"-{parts}")
        # With REPLACE, the CLI puts the new metadata on CreateMultipartUpload.
        aws("s3", "cp", f"s3://{bucket}/src/ob j ü.bin", f"s3://{bucket2}/replaced.bin",
            "--metadata-directive", "REPLACE", "--metadata", "color=green",
            "--content-type", "text/x-replaced")
        rep = s3.head_object(Bucket=bucket2, Key="replaced.bin")
        assert rep["Metadata"] == {"color": "green"} and rep["ContentType"] == "text/x-replaced"
        assert rep["ETag"].strip('"').endswith(f"-{parts}")
        assert rep["ContentLength"] == size

    dst = tmp_path / "back.bin"
    aws("s3", "cp", f"s3://{bucket2}/copied/ob j ü.bin", str(dst))
    assert md5_file(dst) == md5_file(src)
    # The source is untouched.
    assert s3.head_object(Bucket=bucket, Key="src/ob j ü.bin")["ContentLength"] == size


def test_awscli_mv_within_bucket_and_sync_buckets(aws, s3, bucket, bucket2, tmp_path):
    files = {"a.txt": 10, "d/b.bin": 300_000, "d/e/c ü.bin": 9 * MiB, "empty": 0}
    srcs = {}
    for i, (key, size) in enumerate(files.items()):
        srcs[key] = make_file(tmp_path / f"f{i}", size)
        s3.upload_file(srcs[key], bucket, key)

    # mv within the bucket: a copy then a delete of the source (small and multipart-sized).
    aws("s3", "mv", f"s3://{bucket}/a.txt", f"s3://{bucket}/moved/a.txt")
    aws("s3", "mv", f"s3://{bucket}/d/e/c ü.bin", f"s3://{bucket}/moved/c ü.bin")
    keys = sorted(o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"])
    assert keys == sorted(["d/b.bin", "empty", "moved/a.txt", "moved/c ü.bin"])
    assert get_bytes(s3, bucket, "moved/a.txt") == open(srcs["a.txt"], "rb").read()
    dst = tmp_path / "mv.back"
    s3.download_file(bucket, "moved/c ü.bin", str(dst))
    assert md5_file(dst) == md5_file(srcs["d/e/c ü.bin"])

    # sync bucket -> bucket: everything server-side; then a no-op second run.
    aws("s3", "sync", f"s3://{bucket}", f"s3://{bucket2}")
    assert sorted(o["Key"] for o in s3.list_objects_v2(Bucket=bucket2)["Contents"]) == keys
    assert out(aws("s3", "sync", f"s3://{bucket}", f"s3://{bucket2}")).strip() == ""
    for k in keys:
        assert get_bytes(s3, bucket2, k) == get_bytes(s3, bucket, k), k

    # A changed source object is re-copied; --delete removes what the source lost.
    s3.put_object(Bucket=bucket, Key="d/b.bin", Body=b"changed")
    s3.delete_object(Bucket=bucket, Key="empty")
    aws("s3", "sync", "--delete", f"s3://{bucket}", f"s3://{bucket2}")
    assert get_bytes(s3, bucket2, "d/b.bin") == b"changed"
    assert "empty" not in [o["Key"] for o in s3.list_objects_v2(Bucket=bucket2)["Contents"]]


# --- 3. rclone: concurrent multipart, server-side copyto / moveto -----------------------------

def test_rclone_concurrent_multipart_and_server_side_copy(rclone, s3, src_tree, tmp_path):
    name = unique_bucket("rclone")
    rclone("mkdir", f"{REMOTE}:{name}")
    try:
        rclone("copy", "--s3-upload-concurrency", "8", "--s3-chunk-size", "5Mi",
               "--s3-upload-cutoff", "5Mi", str(src_tree), f"{REMOTE}:{name}/data")
        big = s3.head_object(Bucket=name, Key="data/sub/deeper/big.bin")
        assert big["ETag"].strip('"').endswith("-6")   # 30 MiB in 5 MiB parts
        rclone("check", str(src_tree), f"{REMOTE}:{name}/data")

        # Server-side copy within the remote (CopyObject), then a move (copy + delete).
        rclone("copyto", f"{REMOTE}:{name}/data/small.txt", f"{REMOTE}:{name}/c/small copy.txt")
        rclone("copyto", f"{REMOTE}:{name}/data/sub/deeper/big.bin",
               f"{REMOTE}:{name}/c/big copy.bin")
        # Above --s3-copy-cutoff rclone copies in parts with UploadPartCopy.
        rclone("copyto", "--s3-copy-cutoff", "5Mi", f"{REMOTE}:{name}/data/sub/deeper/big.bin",
               f"{REMOTE}:{name}/c/big parts.bin")
        assert s3.head_object(Bucket=name, Key="c/big parts.bin")["ETag"].strip('"').endswith(
            "-6")
        rclone("moveto", f"{REMOTE}:{name}/data/sub/medium.bin", f"{REMOTE}:{name}/m/medium.bin")
        keys = {o["Key"] for o in s3.list_objects_v2(Bucket=name)["Contents"]}
        assert "data/sub/medium.bin" not in keys and "m/medium.bin" in keys

        digest = {rel: md5_file(src_tree / rel) for rel in RCLONE_FILES}
        for key, rel in (("c/small copy.txt", "small.txt"),
                         ("c/big copy.bin", "sub/deeper/big.bin"),
                         ("c/big parts.bin", "sub/deeper/big.bin"),
                         ("m/medium.bin", "sub/medium.bin")):
            hashes = json.loads(rclone("lsjson", "--hash", f"{REMOTE}:{name}/{key}").stdout)
            assert hashes[0]["Hashes"]["md5"] == digest[rel], key
            assert rclone("md5sum", "--download", f"{REMOTE}:{name}/{key}").stdout.split()[0] \
                .decode() == digest[rel], key
        # The copies keep rclone's modtime (x-amz-meta-mtime) of the original.
        src_mtime = json.loads(rclone("lsjson", f"{REMOTE}:{name}/data/small.txt").stdout)[0]
        cp_mtime = json.loads(rclone("lsjson", f"{REMOTE}:{name}/c/small copy.txt").stdout)[0]
        assert src_mtime["ModTime"] == cp_mtime["ModTime"]

        # Whole-directory server-side copy and a final check against the local tree.
        rclone("copy", f"{REMOTE}:{name}/data", f"{REMOTE}:{name}/data2")
        local = {rel: d for rel, d in md5_tree(src_tree).items() if rel != "sub/medium.bin"}
        down = tmp_path / "down"
        rclone("copy", f"{REMOTE}:{name}/data2", str(down))
        assert md5_tree(down) == local
    finally:
        rclone("purge", f"{REMOTE}:{name}", check=False)


# --- 4. s3cmd: SigV2 multipart, cp / mv between buckets, modify, multipart listing -----------

def test_s3cmd_v2_cp_mv_modify(s3cmd_v2, s3, bucket, bucket2, tmp_path):
    small = make_file(tmp_path / "small", 4321)
    big = make_file(tmp_path / "big", 20 * MiB)
    s3cmd_v2("put", small, f"s3://{bucket}/s/small ü.txt")
    s3cmd_v2("put", "--multipart-chunk-size-mb=5", big, f"s3://{bucket}/s/big.bin")
    assert s3.head_object(Bucket=bucket, Key="s/big.bin")["ETag"].strip('"').endswith("-4")

    # cp between buckets: CopyObject for the small one, UploadPartCopy for the big one
    # (multipart_copy_chunk_size_mb = 5 in this config).
    s3cmd_v2("cp", f"s3://{bucket}/s/small ü.txt", f"s3://{bucket2}/c/small ü.txt")
    s3cmd_v2("cp", f"s3://{bucket}/s/big.bin", f"s3://{bucket2}/c/big.bin")
    assert s3.head_object(Bucket=bucket2, Key="c/big.bin")["ETag"].strip('"').endswith("-4")
    for key, orig in (("c/small ü.txt", small), ("c/big.bin", big)):
        back = tmp_path / "back"
        s3cmd_v2("get", "--force", f"s3://{bucket2}/{key}", str(back))
        assert md5_file(back) == md5_file(orig), key

    # mv between buckets: the source disappears.
    s3cmd_v2("mv", f"s3://{bucket}/s/small ü.txt", f"s3://{bucket2}/m/small ü.txt")
    s3cmd_v2("mv", f"s3://{bucket}/s/big.bin", f"s3://{bucket2}/m/big.bin")
    assert s3.list_objects_v2(Bucket=bucket)["KeyCount"] == 0
    assert get_bytes(s3, bucket2, "m/small ü.txt") == open(small, "rb").read()
    assert hashlib.md5(get_bytes(s3, bucket2, "m/big.bin")).hexdigest() == md5_file(big)

    # modify: an in-place CopyObject with x-amz-metadata-directive: REPLACE.
    s3cmd_v2("modify", "--add-header=x-amz-meta-foo:bar", f"s3://{bucket2}/m/small ü.txt")
    head = s3.head_object(Bucket=bucket2, Key="m/small ü.txt")
    assert head["Metadata"].get("foo") == "bar"
    assert head["ContentLength"] == 4321
    assert get_bytes(s3, bucket2, "m/small ü.txt") == open(small, "rb").read()


def test_s3cmd_multipart_list_and_abort(s3cmd_v4, s3cmd_v2, s3, bucket):
    up1 = s3.create_multipart_upload(Bucket=bucket, Key="in progress/ü.bin")["UploadId"]
    s3.upload_part(Bucket=bucket, Key="in progress/ü.bin", UploadId=up1, PartNumber=1,
                   Body=b"x" * 1000)
    up2 = s3.create_multipart_upload(Bucket=bucket, Key="other")["UploadId"]

    for runner in (s3cmd_v4, s3cmd_v2):
        lines = out(runner("multipart", f"s3://{bucket}")).splitlines()
        assert lines[1] == "Initiated\tPath\tId"
        rows = sorted(tuple(line.split("\t")[1:]) for line in lines[2:])
        assert rows == sorted([(f"s3://{bucket}/in progress/ü.bin", up1),
                               (f"s3://{bucket}/other", up2)])
    s3cmd_v4("abortmp", f"s3://{bucket}/in progress/ü.bin", up1)
    s3cmd_v2("abortmp", f"s3://{bucket}/other", up2)
    assert s3.list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []
    lines = out(s3cmd_v4("multipart", f"s3://{bucket}")).splitlines()
    assert lines[2:] == []
    assert s3.list_objects_v2(Bucket=bucket)["KeyCount"] == 0


# --- 5. minio-py: copy_object, compose_object, presigned POST policy --------------------------

def test_minio_copy_and_compose(mc, s3, bucket, bucket2):
    a, b, c = os.urandom(6 * MiB + 3), os.urandom(7 * MiB), os.urandom(1000)
    for key, body in (("a", a), ("b", b), ("c", c)):
        mc.put_object(bucket, f"parts/{key}", io.BytesIO(body), len(body),
                      metadata={"x-amz-meta-src": key})

    # copy_object between buckets (CopyObject), keeping metadata; then with REPLACE.
    res = mc.copy_object(bucket2, "copy/a", CopySource(bucket, "parts/a"))
    assert res.etag
    st = mc.stat_object(bucket2, "copy/a")
    assert st.size == len(a)
    assert {k.lower(): v for k, v in st.metadata.items()}["x-amz-meta-src"] == "a"
    mc.copy_object(bucket2, "copy/a2", CopySource(bucket, "parts/a"),
                   metadata={"x-amz-meta-new": "yes"}, metadata_directive=REPLACE)
    meta = {k.lower(): v for k, v in mc.stat_object(bucket2, "copy/a2").metadata.items()}
    assert meta.get("x-amz-meta-new") == "yes" and "x-amz-meta-src" not in meta
    assert get_bytes(s3, bucket2, "copy/a2") == a

    # Copy-source conditionals: a stale ETag is refused with PreconditionFailed.
    with pytest.raises(S3Error) as e:
        mc.copy_object(bucket2, "copy/never", CopySource(bucket, "parts/a", match_etag="0" * 32))
    assert e.value.code == "PreconditionFailed"

    # compose_object: one UploadPartCopy per source, the middle one a byte range.
    sources = [ComposeSource(bucket, "parts/a"),
               ComposeSource(bucket, "parts/b", offset=MiB, length=5 * MiB),
               ComposeSource(bucket, "parts/c")]
    mc.compose_object(bucket2, "composed/ü.bin", sources)
    want = a + b[MiB:6 * MiB] + c
    st = mc.stat_object(bucket2, "composed/ü.bin")
    assert st.size == len(want) and st.etag.endswith("-3")
    assert get_bytes(s3, bucket2, "composed/ü.bin") == want
    # GET ?partNumber=2 returns exactly the second (range-copied) part.
    part2 = s3.get_object(Bucket=bucket2, Key="composed/ü.bin", PartNumber=2)
    assert part2["PartsCount"] == 3 and part2["Body"].read() == b[MiB:6 * MiB]


def _post(server, bucket, fields, body: bytes, filename="upload.bin"):
    return requests.post(f"{server.endpoint}/{bucket}", data=fields,
                         files={"file": (filename, body, "application/octet-stream")},
                         timeout=60)


def test_minio_presigned_post_policy(mc, server, s3, bucket):
    key = "posted/ünï file.bin"
    policy = PostPolicy(bucket, datetime.now(timezone.utc).replace(tzinfo=None)
                        + timedelta(minutes=10))
    policy.add_equals_condition("key", key)
    policy.add_content_length_range_condition(1000, 2 * MiB)
    fields = mc.presigned_post_policy(policy)
    assert fields["x-amz-algorithm"] == "AWS4-HMAC-SHA256"

    body = os.urandom(MiB + 11)
    r = _post(server, bucket, {**fields, "key": key}, body)
    assert r.status_code in (200, 204), r.text
    assert get_bytes(s3, bucket, key) == body
    assert s3.head_object(Bucket=bucket, Key=key)["ContentLength"] == len(body)

    # Outside content-length-range (too small, too big): refused, nothing stored.
    for bad, code in ((os.urandom(999), b"EntityTooSmall"),
                      (os.urandom(2 * MiB + 1), b"EntityTooLarge")):
        r = _post(server, bucket, {**fields, "key": key}, bad)
        assert r.status_code == 400 and code in r.content, r.text
    # A key that violates the policy's equality condition is refused too.
    r = _post(server, bucket, {**fields, "key": "posted/other"}, body)
    assert r.status_code == 403, r.text
    assert sorted(o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]) == [key]
    assert get_bytes(s3, bucket, key) == body

    # An expired policy is refused.
    old = PostPolicy(bucket, datetime.now(timezone.utc).replace(tzinfo=None)
                     - timedelta(minutes=1))
    old.add_equals_condition("key", key)
    r = _post(server, bucket, {**mc.presigned_post_policy(old), "key": key}, b"late")
    assert r.status_code == 403, r.text
    assert get_bytes(s3, bucket, key) == body


# --- 6. boto3 TransferManager multipart copy --------------------------------------------------

def test_boto3_transfer_manager_copy(s3, bucket, bucket2, tmp_path):
    src = make_file(tmp_path / "src.bin", 25 * MiB + 5)
    s3.upload_file(str(src), bucket, "tm/source.bin",
                   ExtraArgs={"Metadata": {"k": "v"}, "ContentType": "application/x-tm"})
    cfg = TransferConfig(multipart_threshold=5 * MiB, multipart_chunksize=5 * MiB,
                         max_concurrency=8)
    s3.copy({"Bucket": bucket, "Key": "tm/source.bin"}, bucket2, "tm/copy ü.bin", Config=cfg)
    head = s3.head_object(Bucket=bucket2, Key="tm/copy ü.bin")
    assert head["ContentLength"] == 25 * MiB + 5
    assert head["ETag"].strip('"').endswith("-6")
    # s3transfer carries the source's metadata into CreateMultipartUpload.
    assert head["Metadata"] == {"k": "v"} and head["ContentType"] == "application/x-tm"
    dst = tmp_path / "dst.bin"
    s3.download_file(bucket2, "tm/copy ü.bin", str(dst), Config=cfg)
    assert md5_file(dst) == md5_file(src)
    # Every part is there, in order, at the requested size.
    for n, size in ((1, 5 * MiB), (6, 5)):
        h = s3.head_object(Bucket=bucket2, Key="tm/copy ü.bin", PartNumber=n)
        assert h["ContentLength"] == size and h["PartsCount"] == 6


# --- Extras: boto3's generate_presigned_post (SigV4 and SigV2), CLI conditional writes -------

@pytest.mark.parametrize("sig", ["s3v4", "s3"], ids=["sigv4", "sigv2"])
def test_boto3_presigned_post(server, s3, bucket, sig):
    """The browser-upload form boto3 builds: `${filename}` in the key, success_action_status
    201 (an XML PostResponse), a content-length-range; SigV4 or legacy SigV2 fields."""
    signer = server.client(signature_version=sig)
    post = signer.generate_presigned_post(
        bucket, "uploads/${filename}",
        Fields={"success_action_status": "201", "Content-Type": "text/plain",
                "x-amz-meta-origin": "form"},
        Conditions=[["starts-with", "$key", "uploads/"], {"success_action_status": "201"},
                    {"Content-Type": "text/plain"}, {"x-amz-meta-origin": "form"},
                    ["content-length-range", 1, 10_000]],
        ExpiresIn=300)
    if sig == "s3":
        assert "AWSAccessKeyId" in post["fields"] and "signature" in post["fields"]
    else:
        assert post["fields"]["x-amz-algorithm"] == "AWS4-HMAC-SHA256"
    body = b"posted by a browser form\n"
    r = requests.post(post["url"], data=post["fields"],
                      files={"file": ("ünï note.txt", body, "text/plain")}, timeout=30)
    assert r.status_code == 201, r.text
    doc = ET.fromstring(r.content)
    ns = {"s3": "http://s3.amazonaws.com/doc/2006-03-01/"}
    assert doc.tag.endswith("PostResponse")
    assert doc.findtext("s3:Bucket", namespaces=ns) == bucket
    assert doc.findtext("s3:Key", namespaces=ns) == "uploads/ünï note.txt"
    assert doc.findtext("s3:ETag", namespaces=ns).strip('"') == hashlib.md5(body).hexdigest()
    head = s3.head_object(Bucket=bucket, Key="uploads/ünï note.txt")
    assert head["ContentType"] == "text/plain" and head["Metadata"] == {"origin": "form"}
    assert get_bytes(s3, bucket, "uploads/ünï note.txt") == body
    # A tampered policy is refused (signature mismatch).
    pol = json.loads(base64.b64decode(post["fields"]["policy"]))
    pol["conditions"] = [c for c in pol["conditions"] if not (
        isinstance(c, list) and c[0] == "content-length-range")]
    forged = {**post["fields"], "policy": base64.b64encode(json.dumps(pol).encode()).decode()}
    r = requests.post(post["url"], data=forged,
                      files={"file": ("forged.txt", b"x" * 20_000, "text/plain")}, timeout=30)
    assert r.status_code == 403, r.text
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]] == [
        "uploads/ünï note.txt"]


def test_awscli_conditional_put_and_part_number(aws, s3, bucket, tmp_path):
    src = make_file(tmp_path / "c", 100)
    put = ["s3api", "put-object", "--bucket", bucket, "--key", "once", "--body", src]
    first = json.loads(out(aws(*put, "--if-none-match", "*")))
    p = aws(*put, "--if-none-match", "*", check=False)
    assert p.returncode != 0 and b"PreconditionFailed" in p.stderr
    p = aws(*put, "--if-match", '"00000000000000000000000000000000"', check=False)
    assert p.returncode != 0 and b"PreconditionFailed" in p.stderr
    aws(*put, "--if-match", first["ETag"])

    big = make_file(tmp_path / "big", 9 * MiB)
    s3.upload_file(big, bucket, "mp.bin", Config=TransferConfig(multipart_threshold=8 * MiB,
                                                                multipart_chunksize=8 * MiB))
    h = json.loads(out(aws("s3api", "head-object", "--bucket", bucket, "--key", "mp.bin",
                           "--part-number", "2")))
    assert h["ContentLength"] == MiB and h["PartsCount"] == 2
    dst = tmp_path / "part1"
    g = json.loads(out(aws("s3api", "get-object", "--bucket", bucket, "--key", "mp.bin",
                           "--part-number", "1", str(dst))))
    assert g["ContentLength"] == 8 * MiB and g["PartsCount"] == 2
    with open(big, "rb") as f:
        assert dst.read_bytes() == f.read(8 * MiB)
