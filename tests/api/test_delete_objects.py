"""DeleteObjects: batch deletes, quiet mode, per-key errors, the digest S3 requires."""
import base64
import hashlib

import pytest
import botocore.exceptions

from tests.support import error_code, send, signed_request


def test_batch_delete_and_quiet(s3, bucket):
    for i in range(5):
        s3.put_object(Bucket=bucket, Key=f"k{i}", Body=b"x")
    r = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "k0"}, {"Key": "k1"},
                                                             {"Key": "never-existed"}]})
    assert sorted(d["Key"] for d in r["Deleted"]) == ["k0", "k1", "never-existed"]
    r = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "k2"}], "Quiet": True})
    assert "Deleted" not in r and "Errors" not in r
    left = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]]
    assert left == ["k3", "k4"]


def test_per_key_errors(s3, bucket):
    s3.put_object(Bucket=bucket, Key="ok", Body=b"x")
    r = s3.delete_objects(Bucket=bucket, Delete={"Objects": [
        {"Key": "ok"}, {"Key": "versioned", "VersionId": "abc123"}]})
    assert [d["Key"] for d in r["Deleted"]] == ["ok"]
    assert r["Errors"][0]["Key"] == "versioned" and r["Errors"][0]["Code"]


def _raw_delete(server, bucket, body: bytes, headers):
    url, h = signed_request(server, "POST", f"/{bucket}?delete", body, headers=headers)
    return send("POST", url, h, body)


def test_digest_required(server, bucket):
    body = b"<Delete><Object><Key>a</Key></Object></Delete>"
    r = _raw_delete(server, bucket, body, {})
    assert r.status_code == 400 and error_code(r) == "InvalidRequest"
    md5 = base64.b64encode(hashlib.md5(body).digest()).decode()
    assert _raw_delete(server, bucket, body, {"Content-MD5": md5}).status_code == 200
    bad = base64.b64encode(hashlib.md5(b"x").digest()).decode()
    r = _raw_delete(server, bucket, body, {"Content-MD5": bad})
    assert r.status_code == 400 and error_code(r) == "BadDigest"


@pytest.mark.parametrize("body", [
    b"<Delete><Object><Key>a</Key></Object>",        # truncated
    b"<Delete></Delete>",                            # no objects
    b"<NotDelete><Object><Key>a</Key></Object></NotDelete>",
    b"<Delete>" + b"<Object><Key>k</Key></Object>" * 1001 + b"</Delete>",
])
def test_malformed_bodies(server, s3, bucket, body):
    s3.put_object(Bucket=bucket, Key="a", Body=b"keep me")
    md5 = base64.b64encode(hashlib.md5(body).digest()).decode()
    r = _raw_delete(server, bucket, body, {"Content-MD5": md5})
    assert r.status_code == 400 and error_code(r) == "MalformedXML"
    assert s3.get_object(Bucket=bucket, Key="a")["Body"].read() == b"keep me"


def test_boto3_checksum_instead_of_md5(s3, bucket):
    """boto3's new defaults send x-amz-checksum-crc32 and no Content-MD5."""
    s3.put_object(Bucket=bucket, Key="c", Body=b"x")
    r = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "c"}]})
    assert [d["Key"] for d in r["Deleted"]] == ["c"]
    with pytest.raises(botocore.exceptions.ClientError):
        s3.head_object(Bucket=bucket, Key="c")


def test_1000_keys_of_1024_bytes(s3, bucket):
    """The largest legal request: 1000 keys of 1024 bytes, full of characters the XML must
    escape, all deleted (the document used to be cut off at 1 MiB: MalformedXML)."""
    import concurrent.futures
    keys = [(f"{i:04d}/" + "&<>\"'" * 300)[:1024] for i in range(1000)]
    assert all(len(k.encode()) == 1024 for k in keys)
    # Every tenth key exists (deleting a missing key succeeds too): the test stays fast.
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        list(pool.map(lambda k: s3.put_object(Bucket=bucket, Key=k, Body=b""), keys[::10]))
    assert len(s3.list_objects_v2(Bucket=bucket)["Contents"]) == 100
    r = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": k} for k in keys]})
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert "Errors" not in r and sorted(d["Key"] for d in r["Deleted"]) == keys
    assert "Contents" not in s3.list_objects_v2(Bucket=bucket)


def test_conditional_delete_entries(s3, bucket):
    """ETag / Size / LastModifiedTime on an entry: a mismatch is refused, the object kept."""
    put = s3.put_object(Bucket=bucket, Key="cond", Body=b"x")
    mtime = s3.head_object(Bucket=bucket, Key="cond")["LastModified"]
    r = s3.delete_objects(Bucket=bucket, Delete={"Objects": [
        {"Key": "cond", "ETag": '"0123456789abcdef0123456789abcdef"'},
        {"Key": "cond", "Size": 5}]})
    assert [e["Code"] for e in r["Errors"]] == ["PreconditionFailed", "PreconditionFailed"]
    assert s3.get_object(Bucket=bucket, Key="cond")["Body"].read() == b"x"
    r = s3.delete_objects(Bucket=bucket, Delete={"Objects": [
        {"Key": "cond", "ETag": put["ETag"], "Size": 1, "LastModifiedTime": mtime}]})
    assert "Errors" not in r and [d["Key"] for d in r["Deleted"]] == ["cond"]
    assert "Contents" not in s3.list_objects_v2(Bucket=bucket)
