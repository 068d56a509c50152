"""Server-side encryption through boto3 and raw signed requests: every mode round-trips
(ranges, part numbers, multipart, small and empty objects) with AWS's headers, ETags and
checksums; SSE-C keys are checked as AWS does; conflicting or misplaced headers get AWS's
errors; bucket default encryption; a bucket policy requiring the encryption header;
compression under encryption; a server without a KMS refuses SSE-S3/SSE-KMS."""
import base64
import hashlib
import io
import json
import os
import subprocess
import sys
import zlib

import botocore
import pytest
import requests

from s3ish.storage.kms import key_arn
from s3ish.storage.sealed import PACKAGE
from tests.support import (ROOT_PASSWORD, ROOT_USER, ServerProcess, error_code, make_keyring,
                           send, signed_request, sse_c, unique_bucket)

MiB = 1024 * 1024
KEY, OTHER = os.urandom(32), os.urandom(32)
MODES = {
    "plain": ({}, {}),
    "sse-s3": ({"ServerSideEncryption": "AES256"}, {}),
    "sse-kms": ({"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": "testkey-2"}, {}),
    "sse-c": (sse_c(KEY), sse_c(KEY)),
}


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("sse")
    ring = make_keyring(str(tmp), "testkey-1", "testkey-2")
    s = ServerProcess(str(tmp / "data"), str(tmp),
                      extra_args=["--kms-keyring", ring, "--allow-insecure-sse-c"]).start()
    yield s
    s.stop()


@pytest.fixture(scope="module")
def c(srv):
    return srv.client()


@pytest.fixture
def bucket(c):
    name = unique_bucket("e")
    c.create_bucket(Bucket=name)
    return name


def _err(call, **kw) -> tuple[int, str]:
    with pytest.raises(botocore.exceptions.ClientError) as e:
        call(**kw)
    return e.value.response["ResponseMetadata"]["HTTPStatusCode"], \
        e.value.response["Error"]["Code"]


def _headers(resp) -> dict:
    return resp["ResponseMetadata"]["HTTPHeaders"]


def _md5(body: bytes) -> str:
    return f'"{hashlib.md5(body).hexdigest()}"'


def _crc32(body: bytes) -> str:
    return base64.b64encode(zlib.crc32(body).to_bytes(4, "big")).decode()


def _raw(srv, method, path, headers, body=b""):
    url, signed = signed_request(srv, method, path, body, headers=headers)
    return send(method, url, signed, body)


def _check_encryption_headers(mode: str, h: dict) -> None:
    if mode == "sse-s3":
        assert h["x-amz-server-side-encryption"] == "AES256"
    elif mode == "sse-kms":
        assert h["x-amz-server-side-encryption"] == "aws:kms"
        assert h["x-amz-server-side-encryption-aws-kms-key-id"] == key_arn("testkey-2")
    elif mode == "sse-c":
        assert h["x-amz-server-side-encryption-customer-algorithm"] == "AES256"
        assert h["x-amz-server-side-encryption-customer-key-md5"] == \
            base64.b64encode(hashlib.md5(KEY).digest()).decode()
    if mode != "sse-c":
        assert "x-amz-server-side-encryption-customer-algorithm" not in h
    if mode in ("plain", "sse-c"):
        assert "x-amz-server-side-encryption" not in h


# ---- every mode ----

@pytest.mark.parametrize("mode", MODES)
def test_round_trip_ranges_and_headers(c, bucket, mode):
    put, get = MODES[mode]
    body = os.urandom(3 * PACKAGE + 1000)
    resp = c.put_object(Bucket=bucket, Key="k", Body=body, ChecksumAlgorithm="CRC32", **put)
    _check_encryption_headers(mode, _headers(resp))
    etag = resp["ETag"]
    # SSE-S3 (and plain): the plaintext's MD5, as AWS; SSE-KMS and SSE-C: not the MD5.
    assert (etag == _md5(body)) == (mode in ("plain", "sse-s3"))
    assert len(etag) == 34
    got = c.get_object(Bucket=bucket, Key="k", ChecksumMode="ENABLED", **get)
    assert got["Body"].read() == body and got["ETag"] == etag
    assert got["ContentLength"] == len(body) and got["ChecksumCRC32"] == _crc32(body)
    _check_encryption_headers(mode, _headers(got))
    head = c.head_object(Bucket=bucket, Key="k", **get)
    assert head["ContentLength"] == len(body) and head["ETag"] == etag
    _check_encryption_headers(mode, _headers(head))
    for rng, want in [("bytes=0-0", body[:1]),
                      (f"bytes={PACKAGE - 5}-{PACKAGE + 5}", body[PACKAGE - 5:PACKAGE + 6]),
                      (f"bytes={PACKAGE}-{3 * PACKAGE - 1}", body[PACKAGE:3 * PACKAGE]),
                      ("bytes=-1500", body[-1500:]),
                      (f"bytes={len(body) - 1}-", body[-1:])]:
        part = c.get_object(Bucket=bucket, Key="k", Range=rng, **get)
        assert part["Body"].read() == want, rng
        assert part["ContentLength"] == len(want)
    one = c.get_object(Bucket=bucket, Key="k", PartNumber=1, **get)
    assert one["Body"].read() == body and one["ETag"] == etag


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("body", [b"", b"tiny"], ids=["empty", "tiny"])
def test_small_and_empty_objects(c, bucket, mode, body):
    put, get = MODES[mode]
    etag = c.put_object(Bucket=bucket, Key="s", Body=body, **put)["ETag"]
    got = c.get_object(Bucket=bucket, Key="s", **get)
    assert got["Body"].read() == body and got["ETag"] == etag
    _check_encryption_headers(mode, _headers(got))
    assert c.head_object(Bucket=bucket, Key="s", **get)["ContentLength"] == len(body)


@pytest.mark.parametrize("mode", MODES)
def test_multipart_every_mode(c, bucket, mode):
    put, get = MODES[mode]
    bodies = [os.urandom(5 * MiB), os.urandom(MiB + 7)]
    whole = b"".join(bodies)
    created = c.create_multipart_upload(Bucket=bucket, Key="mp", **put)
    _check_encryption_headers(mode, _headers(created))
    uid = created["UploadId"]
    parts = []
    for n, b in enumerate(bodies, 1):
        resp = c.upload_part(Bucket=bucket, Key="mp", UploadId=uid, PartNumber=n, Body=b,
                             **get)
        _check_encryption_headers(mode, _headers(resp))
        assert (resp["ETag"] == _md5(b)) == (mode in ("plain", "sse-s3"))
        parts.append({"PartNumber": n, "ETag": resp["ETag"]})
    listed = c.list_parts(Bucket=bucket, Key="mp", UploadId=uid, **get)["Parts"]
    assert [p["ETag"] for p in listed] == [p["ETag"] for p in parts]
    done = c.complete_multipart_upload(Bucket=bucket, Key="mp", UploadId=uid,
                                       MultipartUpload={"Parts": parts}, **get)
    assert done["ETag"].endswith('-2"')
    if mode != "sse-c":
        _check_encryption_headers(mode, _headers(done))
    got = c.get_object(Bucket=bucket, Key="mp", **get)
    assert got["Body"].read() == whole and got["ETag"] == done["ETag"]
    _check_encryption_headers(mode, _headers(got))
    edge = 5 * MiB
    assert c.get_object(Bucket=bucket, Key="mp", Range=f"bytes={edge - 10}-{edge + 10}",
                        **get)["Body"].read() == whole[edge - 10:edge + 11]
    second = c.get_object(Bucket=bucket, Key="mp", PartNumber=2, **get)
    assert second["Body"].read() == bodies[1] and second["PartsCount"] == 2


def test_sse_c_multipart_parts_need_the_upload_key(srv, c, bucket):
    uid = c.create_multipart_upload(Bucket=bucket, Key="mp", **sse_c(KEY))["UploadId"]
    args = {"Bucket": bucket, "Key": "mp", "UploadId": uid, "PartNumber": 1, "Body": b"x"}
    assert _err(c.upload_part, **args) == (400, "InvalidRequest")
    assert _err(c.upload_part, **args, **sse_c(OTHER)) == (400, "InvalidArgument")
    assert _err(c.list_parts, Bucket=bucket, Key="mp", UploadId=uid,
                **sse_c(OTHER)) == (400, "InvalidArgument")
    etag = c.upload_part(**args, **sse_c(KEY))["ETag"]
    # The same bytes sent again under the same key: the same ETag (never the MD5).
    assert c.upload_part(**args, **sse_c(KEY))["ETag"] == etag != _md5(b"x")
    done = {"Bucket": bucket, "Key": "mp", "UploadId": uid,
            "MultipartUpload": {"Parts": [{"PartNumber": 1, "ETag": etag}]}}
    assert _err(c.complete_multipart_upload, **done, **sse_c(OTHER)) == \
        (400, "InvalidArgument")
    assert _err(c.complete_multipart_upload, **done) == (400, "InvalidRequest")
    c.complete_multipart_upload(**done, **sse_c(KEY))
    # An upload that is not SSE-C takes no customer key.
    plain = c.create_multipart_upload(Bucket=bucket, Key="p")["UploadId"]
    assert _err(c.upload_part, Bucket=bucket, Key="p", UploadId=plain, PartNumber=1,
                Body=b"x", **sse_c(KEY)) == (400, "InvalidRequest")
    # The KMS headers are not UploadPart's: AWS refuses them.
    r = _raw(srv, "PUT", f"/{bucket}/p?partNumber=1&uploadId={plain}",
             {"x-amz-server-side-encryption": "AES256"}, b"x")
    assert r.status_code == 400 and error_code(r) == "InvalidArgument"
    assert "not supported for this operation" in r.text


# ---- SSE-C key checks ----

def test_sse_c_reads_need_the_right_key(c, bucket):
    c.put_object(Bucket=bucket, Key="k", Body=b"secret", **sse_c(KEY))
    assert _err(c.get_object, Bucket=bucket, Key="k") == (400, "InvalidRequest")
    assert _err(c.head_object, Bucket=bucket, Key="k") == (400, "400")
    assert _err(c.get_object, Bucket=bucket, Key="k", **sse_c(OTHER)) == (403, "AccessDenied")
    assert _err(c.head_object, Bucket=bucket, Key="k", **sse_c(OTHER)) == (403, "403")
    assert _err(c.get_object, Bucket=bucket, Key="k", Range="bytes=0-1",
                **sse_c(OTHER)) == (403, "AccessDenied")
    c.put_object(Bucket=bucket, Key="plain", Body=b"plain")
    assert _err(c.get_object, Bucket=bucket, Key="plain", **sse_c(KEY)) == \
        (400, "InvalidRequest")
    attrs = {"Bucket": bucket, "Key": "k", "ObjectAttributes": ["ETag", "ObjectSize"]}
    assert _err(c.get_object_attributes, **attrs) == (400, "InvalidRequest")
    assert _err(c.get_object_attributes, **attrs, **sse_c(OTHER)) == (403, "AccessDenied")
    assert c.get_object_attributes(**attrs, **sse_c(KEY))["ObjectSize"] == 6


def _customer_headers(key: bytes, md5: bytes | None = None, algorithm="AES256") -> dict:
    h = {"x-amz-server-side-encryption-customer-algorithm": algorithm,
         "x-amz-server-side-encryption-customer-key": base64.b64encode(key).decode(),
         "x-amz-server-side-encryption-customer-key-MD5":
             base64.b64encode(md5 if md5 is not None else hashlib.md5(key).digest()).decode()}
    return h


@pytest.mark.parametrize("change,message", [
    (lambda h: h.update({"x-amz-server-side-encryption-customer-key-MD5":
                         "AAAAAAAAAAAAAAAAAAAAAA=="}), "calculated MD5 hash of the key"),
    (lambda h: h.pop("x-amz-server-side-encryption-customer-key-MD5"), "calculated MD5 of"),
    (lambda h: h.pop("x-amz-server-side-encryption-customer-key"), "appropriate secret key"),
    (lambda h: h.pop("x-amz-server-side-encryption-customer-algorithm"),
     "valid encryption algorithm"),
    (lambda h: h.update({"x-amz-server-side-encryption-customer-algorithm": "AES512"}),
     "valid encryption algorithm"),
    (lambda h: h.update(_customer_headers(b"k" * 31)), "secret key was invalid"),
    (lambda h: h.update({"x-amz-server-side-encryption-customer-key": "not base64!"}),
     "secret key was invalid"),
], ids=["bad-md5", "no-md5", "no-key", "no-algorithm", "other-algorithm", "short-key",
        "not-base64"])
def test_sse_c_header_errors(srv, c, bucket, change, message):
    headers = _customer_headers(KEY)
    change(headers)
    r = _raw(srv, "PUT", f"/{bucket}/bad", headers, b"body")
    assert r.status_code == 400 and error_code(r) == "InvalidArgument", r.text
    assert message in r.text
    assert "Contents" not in c.list_objects_v2(Bucket=bucket)


@pytest.mark.parametrize("headers,code", [
    ({"x-amz-server-side-encryption": "AES256", **_customer_headers(KEY)}, "InvalidArgument"),
    ({"x-amz-server-side-encryption": "AES256",
      "x-amz-server-side-encryption-aws-kms-key-id": "testkey-1"}, "InvalidArgument"),
    ({"x-amz-server-side-encryption-aws-kms-key-id": "testkey-1"}, "InvalidArgument"),
    ({"x-amz-server-side-encryption": "aes:kms"}, "InvalidArgument"),
    ({"x-amz-server-side-encryption": "aws:kms",
      "x-amz-server-side-encryption-context": "not-json"}, "InvalidArgument"),
    ({"x-amz-server-side-encryption": "aws:kms", "x-amz-server-side-encryption-context":
      base64.b64encode(b'{"a": 1}').decode()}, "InvalidArgument"),
    ({"x-amz-server-side-encryption": "AES256",
      "x-amz-server-side-encryption-context": base64.b64encode(b"{}").decode()},
     "InvalidArgument"),
    ({"x-amz-server-side-encryption": "AES256",
      "x-amz-server-side-encryption-bucket-key-enabled": "true"}, "InvalidArgument"),
    ({"x-amz-server-side-encryption": "aws:kms",
      "x-amz-server-side-encryption-bucket-key-enabled": "maybe"}, "InvalidArgument"),
    ({"x-amz-server-side-encryption": "aws:kms",
      "x-amz-server-side-encryption-aws-kms-key-id": "testkey-9"}, "KMS.NotFoundException"),
    ({"x-amz-server-side-encryption": "aws:kms", "x-amz-server-side-encryption-aws-kms-key-id":
      "arn:aws:kms:us-east-1:000000000000:key/nope"}, "KMS.NotFoundException"),
    ({"x-amz-server-side-encryption-foo": "x"}, "InvalidArgument"),
])
def test_write_header_errors(srv, c, bucket, headers, code):
    r = _raw(srv, "PUT", f"/{bucket}/bad", headers, b"body")
    assert r.status_code == 400 and error_code(r) == code, r.text
    assert "Contents" not in c.list_objects_v2(Bucket=bucket)


@pytest.mark.parametrize("method", ["GET", "HEAD"])
def test_encryption_header_on_reads_is_refused(srv, c, bucket, method):
    """As AWS: the encryption of an object is not a read's to say (400)."""
    c.put_object(Bucket=bucket, Key="k", Body=b"x", ServerSideEncryption="AES256")
    for name, value in [("x-amz-server-side-encryption", "AES256"),
                        ("x-amz-server-side-encryption-aws-kms-key-id", "testkey-1")]:
        r = _raw(srv, method, f"/{bucket}/k", {name: value})
        assert r.status_code == 400, (name, r.status_code)
        if method == "GET":
            assert error_code(r) == "InvalidArgument"


def test_kms_context_and_bucket_key_are_recorded(c, bucket):
    context = base64.b64encode(json.dumps({"purpose": "test"}).encode()).decode()
    resp = c.put_object(Bucket=bucket, Key="k", Body=b"x", ServerSideEncryption="aws:kms",
                        SSEKMSEncryptionContext=context, BucketKeyEnabled=True)
    h = _headers(resp)
    assert h["x-amz-server-side-encryption-context"] == context
    assert h["x-amz-server-side-encryption-bucket-key-enabled"] == "true"
    assert h["x-amz-server-side-encryption-aws-kms-key-id"] == key_arn("testkey-1")
    got = c.head_object(Bucket=bucket, Key="k")
    assert got["BucketKeyEnabled"] is True and got["SSEKMSKeyId"] == key_arn("testkey-1")


# ---- bucket default encryption ----

def _default(algorithm, key_id=None, bucket_key=None):
    rule = {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": algorithm,
                                                   **({"KMSMasterKeyID": key_id}
                                                      if key_id else {})}}
    if bucket_key is not None:
        rule["BucketKeyEnabled"] = bucket_key
    return {"Rules": [rule]}


def test_bucket_default_encryption(c, bucket):
    assert _err(c.get_bucket_encryption, Bucket=bucket) == \
        (404, "ServerSideEncryptionConfigurationNotFoundError")
    assert c.delete_bucket_encryption(Bucket=bucket)["ResponseMetadata"][
        "HTTPStatusCode"] == 204
    c.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration=_default("AES256"))
    got = c.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]
    assert got["Rules"][0]["ApplyServerSideEncryptionByDefault"] == {"SSEAlgorithm": "AES256"}
    put = c.put_object(Bucket=bucket, Key="a", Body=b"a")
    assert put["ServerSideEncryption"] == "AES256" and put["ETag"] == _md5(b"a")
    assert c.get_object(Bucket=bucket, Key="a")["ServerSideEncryption"] == "AES256"
    uid = c.create_multipart_upload(Bucket=bucket, Key="m")
    assert uid["ServerSideEncryption"] == "AES256"
    c.abort_multipart_upload(Bucket=bucket, Key="m", UploadId=uid["UploadId"])
    # The request's own encryption wins; SSE-C is never the default's to change.
    assert c.put_object(Bucket=bucket, Key="c", Body=b"c", **sse_c(KEY)).get(
        "ServerSideEncryption") is None
    arn = key_arn("testkey-2")
    c.put_bucket_encryption(Bucket=bucket,
                            ServerSideEncryptionConfiguration=_default("aws:kms", arn, True))
    rule = c.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"][
        "Rules"][0]
    assert rule["ApplyServerSideEncryptionByDefault"]["KMSMasterKeyID"] == arn
    assert rule["BucketKeyEnabled"] is True
    put = c.put_object(Bucket=bucket, Key="b", Body=b"b")
    assert (put["ServerSideEncryption"], put["SSEKMSKeyId"], put["BucketKeyEnabled"]) == \
        ("aws:kms", arn, True)
    # Objects already stored keep their encryption.
    assert c.head_object(Bucket=bucket, Key="a")["ServerSideEncryption"] == "AES256"
    c.delete_bucket_encryption(Bucket=bucket)
    assert _err(c.get_bucket_encryption, Bucket=bucket)[1] == \
        "ServerSideEncryptionConfigurationNotFoundError"
    assert "ServerSideEncryption" not in c.put_object(Bucket=bucket, Key="d", Body=b"d")
    assert c.get_object(Bucket=bucket, Key="b")["Body"].read() == b"b"


@pytest.mark.parametrize("config,status,code", [
    ({"Rules": []}, 400, "MalformedXML"),
    ({"Rules": [_default("AES256")["Rules"][0]] * 2}, 400, "MalformedXML"),
    (_default("AES128"), 400, "MalformedXML"),
    (_default("AES256", "testkey-1"), 400, "InvalidArgument"),
    (_default("aws:kms", "testkey-9"), 400, "KMS.NotFoundException"),
    (_default("aws:kms:dsse"), 501, "NotImplemented"),
])
def test_bucket_encryption_errors(c, bucket, config, status, code):
    assert _err(c.put_bucket_encryption, Bucket=bucket,
                ServerSideEncryptionConfiguration=config) == (status, code)
    assert _err(c.get_bucket_encryption, Bucket=bucket)[0] == 404


def test_policy_can_require_the_encryption_header(c, bucket):
    deny = {"Effect": "Deny", "Principal": "*", "Action": "s3:PutObject",
            "Resource": f"arn:aws:s3:::{bucket}/*",
            "Condition": {"Null": {"s3:x-amz-server-side-encryption": "true"}}}
    wrong = {**deny, "Condition": {"StringNotEquals": {
        "s3:x-amz-server-side-encryption": "AES256"}}}
    c.put_bucket_policy(Bucket=bucket, Policy=json.dumps({"Version": "2012-10-17",
                                                          "Statement": [deny, wrong]}))
    assert _err(c.put_object, Bucket=bucket, Key="k", Body=b"x") == (403, "AccessDenied")
    assert _err(c.put_object, Bucket=bucket, Key="k", Body=b"x",
                ServerSideEncryption="aws:kms") == (403, "AccessDenied")
    # The bucket default does not satisfy a policy that asks for the header (as AWS).
    c.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration=_default("AES256"))
    assert _err(c.put_object, Bucket=bucket, Key="k", Body=b"x") == (403, "AccessDenied")
    resp = c.put_object(Bucket=bucket, Key="k", Body=b"x", ServerSideEncryption="AES256")
    assert resp["ServerSideEncryption"] == "AES256"
    c.delete_bucket_policy(Bucket=bucket)


def test_policy_condition_on_the_customer_algorithm(c, bucket):
    deny = {"Effect": "Deny", "Principal": "*", "Action": "s3:PutObject",
            "Resource": f"arn:aws:s3:::{bucket}/*", "Condition": {"Null": {
                "s3:x-amz-server-side-encryption-customer-algorithm": "true"}}}
    c.put_bucket_policy(Bucket=bucket, Policy=json.dumps({"Version": "2012-10-17",
                                                          "Statement": [deny]}))
    assert _err(c.put_object, Bucket=bucket, Key="k", Body=b"x") == (403, "AccessDenied")
    c.put_object(Bucket=bucket, Key="k", Body=b"x", **sse_c(KEY))
    c.delete_bucket_policy(Bucket=bucket)


# ---- the other writes ----

def test_post_object_encryption_fields(c, bucket):
    post = c.generate_presigned_post(bucket, "posted", Fields={
        "x-amz-server-side-encryption": "aws:kms",
        "x-amz-server-side-encryption-aws-kms-key-id": "testkey-2"}, Conditions=[
        {"x-amz-server-side-encryption": "aws:kms"},
        {"x-amz-server-side-encryption-aws-kms-key-id": "testkey-2"}])
    r = requests.post(post["url"], data=post["fields"],
                      files={"file": ("f", io.BytesIO(b"posted body"))}, timeout=30)
    assert r.status_code == 204, r.text
    assert r.headers["x-amz-server-side-encryption"] == "aws:kms"
    got = c.get_object(Bucket=bucket, Key="posted")
    assert got["Body"].read() == b"posted body" and got["SSEKMSKeyId"] == key_arn("testkey-2")
    fields = _customer_headers(KEY)
    post = c.generate_presigned_post(bucket, "posted-c", Fields=fields,
                                     Conditions=[{k: v} for k, v in fields.items()])
    r = requests.post(post["url"], data=post["fields"],
                      files={"file": ("f", io.BytesIO(b"customer body"))}, timeout=30)
    assert r.status_code == 204, r.text
    assert c.get_object(Bucket=bucket, Key="posted-c", **sse_c(KEY))["Body"].read() == \
        b"customer body"
    assert _err(c.get_object, Bucket=bucket, Key="posted-c")[0] == 400


def _admin_compression(srv, bucket: str) -> None:
    env = {**os.environ, "S3ISH_ROOT_USER": ROOT_USER, "S3ISH_ROOT_PASSWORD": ROOT_PASSWORD}
    r = subprocess.run([sys.executable, "-m", "s3ish", "admin", "--endpoint", srv.endpoint,
                        "compression", bucket, "on"], env=env, capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 0, r.stderr


def _unit_files(srv) -> dict:
    root = os.path.join(srv.data, "objects")
    return {os.path.join(d, f): os.path.getsize(os.path.join(d, f))
            for d, _, fs in os.walk(root) for f in fs}


def test_compression_under_encryption(srv, c, bucket):
    _admin_compression(srv, bucket)
    marker = b"COMPRESSIBLE-MARKER "
    body = b"".join(marker + b"%08d\n" % i for i in range(100_000))
    before = _unit_files(srv)
    put = c.put_object(Bucket=bucket, Key="z.txt", Body=body, ServerSideEncryption="AES256")
    assert put["ETag"] == _md5(body)
    new = {p: n for p, n in _unit_files(srv).items() if p not in before}
    assert sum(new.values()) < len(body) // 4
    for path in new:
        with open(path, "rb") as f:
            assert marker not in f.read()
    got = c.get_object(Bucket=bucket, Key="z.txt")
    assert got["Body"].read() == body and got["ServerSideEncryption"] == "AES256"
    for rng in [(0, 10), (PACKAGE - 3, PACKAGE + 3), (262_000, 800_000),
                (len(body) - 5, len(body) - 1)]:
        assert c.get_object(Bucket=bucket, Key="z.txt", Range=f"bytes={rng[0]}-{rng[1]}")[
            "Body"].read() == body[rng[0]:rng[1] + 1]


# ---- no KMS ----

def test_a_server_without_kms_refuses_managed_keys(s3):
    """The shared server runs without a KMS: SSE-S3 / SSE-KMS (asked, or as a bucket
    default) are refused, never stored in clear."""
    bucket = unique_bucket("nokms")
    s3.create_bucket(Bucket=bucket)
    for extra in ({"ServerSideEncryption": "AES256"}, {"ServerSideEncryption": "aws:kms"}):
        with pytest.raises(botocore.exceptions.ClientError) as e:
            s3.put_object(Bucket=bucket, Key="k", Body=b"x", **extra)
        assert e.value.response["Error"]["Code"] == "NotImplemented"
        assert "--kms-keyring" in e.value.response["Error"]["Message"]
    assert _err(s3.put_bucket_encryption, Bucket=bucket,
                ServerSideEncryptionConfiguration=_default("AES256")) == (501, "NotImplemented")
    assert _err(s3.create_multipart_upload, Bucket=bucket, Key="k",
                ServerSideEncryption="AES256") == (501, "NotImplemented")
    assert "Contents" not in s3.list_objects_v2(Bucket=bucket)
    s3.delete_bucket(Bucket=bucket)


def test_folder_written_before_encryption(tmp_path):
    """A 4-drive set written by an older s3ish (no encryption fields anywhere, a parts table
    without its sse_key column) opens and serves; new encrypted objects on it work, multipart
    ones too."""
    import tarfile
    fixtures = os.path.join(os.path.dirname(__file__), "..", "fixtures")
    with tarfile.open(os.path.join(fixtures, "legacy-replaced-4drives.tar.gz")) as tar:
        tar.extractall(tmp_path, filter="data")
    ring = make_keyring(str(tmp_path), "testkey-1")
    drives = [str(tmp_path / f"d{i}") for i in range(1, 5)]
    srv = ServerProcess(drives, str(tmp_path), extra_args=[
        "--kms-keyring", ring, "--allow-insecure-sse-c", "--scrub-rate", "0"]).start()
    try:
        c = srv.client()
        assert c.get_object(Bucket="legacy", Key="big")["Body"].read() == \
            bytes(range(256)) * 5000
        head = c.head_object(Bucket="legacy", Key="small")
        assert "ServerSideEncryption" not in head and "SSECustomerAlgorithm" not in head
        body = os.urandom(MiB)
        c.put_object(Bucket="legacy", Key="new", Body=body, ServerSideEncryption="AES256")
        uid = c.create_multipart_upload(Bucket="legacy", Key="newmp", **sse_c(KEY))["UploadId"]
        etag = c.upload_part(Bucket="legacy", Key="newmp", UploadId=uid, PartNumber=1,
                             Body=body, **sse_c(KEY))["ETag"]
        c.complete_multipart_upload(Bucket="legacy", Key="newmp", UploadId=uid,
                                    MultipartUpload={"Parts": [{"PartNumber": 1,
                                                                "ETag": etag}]},
                                    **sse_c(KEY))
        assert c.get_object(Bucket="legacy", Key="new")["Body"].read() == body
        assert c.get_object(Bucket="legacy", Key="newmp", Range="bytes=5-300000",
                            **sse_c(KEY))["Body"].read() == body[5:300001]
    finally:
        srv.stop()


def test_damaged_sealed_unit_is_an_error_never_wrong_bytes(srv, c, bucket):
    """A byte flipped in a sealed unit on a single folder (no bitrot hashes there): the
    package's tag fails, the read is an error (500 before the body, a cut-off body after)."""
    small, big = os.urandom(200_000), os.urandom(3 * MiB)
    before = _unit_files(srv)
    c.put_object(Bucket=bucket, Key="small", Body=small, ServerSideEncryption="AES256")
    small_unit = [p for p in _unit_files(srv) if p not in before]
    c.put_object(Bucket=bucket, Key="big", Body=big, ServerSideEncryption="AES256")
    big_unit = [p for p in _unit_files(srv) if p not in before and p not in small_unit]
    assert len(small_unit) == len(big_unit) == 1
    for path, offset in ((small_unit[0], 50_000), (big_unit[0], 2 * MiB)):
        with open(path, "r+b") as f:
            f.seek(offset)
            byte = f.read(1)
            f.seek(offset)
            f.write(bytes([byte[0] ^ 1]))
    assert _err(c.get_object, Bucket=bucket, Key="small") == (500, "InternalError")
    try:
        got = c.get_object(Bucket=bucket, Key="big")["Body"].read()
    except (botocore.exceptions.ClientError, botocore.exceptions.ResponseStreamingError):
        got = None                            # an error status or a cut-off body
    assert got is None, "wrong bytes served"
    # Ranges that do not touch the damaged package still read.
    assert c.get_object(Bucket=bucket, Key="big", Range="bytes=0-99")["Body"].read() == \
        big[:100]
    assert "does not open" in srv.read_log()


def test_a_key_missing_from_the_keyring_is_a_logged_server_error(tmp_path):
    ring = make_keyring(str(tmp_path), "first", "second")
    data = str(tmp_path / "data")
    srv = ServerProcess(data, str(tmp_path), extra_args=["--kms-keyring", ring]).start()
    try:
        c = srv.client()
        c.create_bucket(Bucket="keys")
        c.put_object(Bucket="keys", Key="k", Body=b"sealed", ServerSideEncryption="aws:kms",
                     SSEKMSKeyId="second")
    finally:
        srv.stop()
    other = make_keyring(str(tmp_path), "first")          # "second" is gone
    srv = ServerProcess(data, str(tmp_path), extra_args=["--kms-keyring", other]).start()
    try:
        assert _err(srv.client().get_object, Bucket="keys", Key="k") == (500, "InternalError")
        assert "'second'" in srv.read_log() and "keys/k" in srv.read_log()
    finally:
        srv.stop()
