"""Copies between encryption modes: CopyObject and UploadPartCopy from and to plain, SSE-S3,
SSE-KMS, SSE-C and SSE-C with another key (every pair), decrypted with the source's keys and
encrypted as the destination says; in-place copies that change the encryption; the copy
source's SSE-C key checks."""
import hashlib
import os

import botocore
import pytest

from s3ish.storage.kms import key_arn
from s3ish.storage.sealed import PACKAGE
from tests.support import ServerProcess, make_keyring, sse_c, unique_bucket

KEY, OTHER = os.urandom(32), os.urandom(32)
# mode -> (write arguments, read arguments)
MODES = {
    "plain": ({}, {}),
    "sse-s3": ({"ServerSideEncryption": "AES256"}, {}),
    "sse-kms": ({"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": "testkey-2"}, {}),
    "sse-c": (sse_c(KEY), sse_c(KEY)),
    "sse-c-other": (sse_c(OTHER), sse_c(OTHER)),
}
BODY = os.urandom(2 * PACKAGE + 333)


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("ssecopy")
    ring = make_keyring(str(tmp), "testkey-1", "testkey-2")
    s = ServerProcess(str(tmp / "data"), str(tmp),
                      extra_args=["--kms-keyring", ring, "--allow-insecure-sse-c"]).start()
    yield s
    s.stop()


@pytest.fixture(scope="module")
def c(srv):
    return srv.client()


@pytest.fixture(scope="module")
def sources(c):
    """One bucket with the body stored under every mode (key = mode)."""
    bucket = unique_bucket("src")
    c.create_bucket(Bucket=bucket)
    for mode, (put, _) in MODES.items():
        c.put_object(Bucket=bucket, Key=mode, Body=BODY, **put)
    return bucket


def _source_key(mode: str) -> dict:
    """CopySourceSSECustomer* arguments for a source of `mode`."""
    key = {"sse-c": KEY, "sse-c-other": OTHER}.get(mode)
    return sse_c(key, "CopySourceSSECustomer") if key else {}


def _check_mode(c, bucket, key, mode):
    _, get = MODES[mode]
    head = c.head_object(Bucket=bucket, Key=key, **get)
    if mode == "sse-s3":
        assert head["ServerSideEncryption"] == "AES256"
    elif mode == "sse-kms":
        assert head["SSEKMSKeyId"] == key_arn("testkey-2")
    else:
        assert "ServerSideEncryption" not in head
        assert ("SSECustomerAlgorithm" in head) == mode.startswith("sse-c")
    if mode.startswith("sse-c"):       # only its own key opens it
        wrong = sse_c(OTHER if mode == "sse-c" else KEY)
        with pytest.raises(botocore.exceptions.ClientError) as e:
            c.get_object(Bucket=bucket, Key=key, **wrong)
        assert e.value.response["Error"]["Code"] == "AccessDenied"


@pytest.mark.parametrize("dst", MODES)
@pytest.mark.parametrize("src", MODES)
def test_copy_object_between_modes(c, sources, src, dst):
    put, get = MODES[dst]
    key = f"copy-{src}-{dst}"
    resp = c.copy_object(Bucket=sources, Key=key, CopySource=f"{sources}/{src}",
                         **put, **_source_key(src))
    etag = resp["CopyObjectResult"]["ETag"]
    assert (etag == f'"{hashlib.md5(BODY).hexdigest()}"') == (dst in ("plain", "sse-s3"))
    got = c.get_object(Bucket=sources, Key=key, **get)
    assert got["Body"].read() == BODY and got["ETag"] == etag
    _check_mode(c, sources, key, dst)


@pytest.mark.parametrize("dst", MODES)
@pytest.mark.parametrize("src", MODES)
def test_upload_part_copy_between_modes(c, sources, src, dst):
    put, get = MODES[dst]
    key = f"part-{src}-{dst}"
    uid = c.create_multipart_upload(Bucket=sources, Key=key, **put)["UploadId"]
    first, last = PACKAGE - 100, 2 * PACKAGE + 100
    resp = c.upload_part_copy(Bucket=sources, Key=key, UploadId=uid, PartNumber=1,
                              CopySource=f"{sources}/{src}",
                              CopySourceRange=f"bytes={first}-{last}",
                              **(get if dst.startswith("sse-c") else {}), **_source_key(src))
    etag = resp["CopyPartResult"]["ETag"]
    c.complete_multipart_upload(Bucket=sources, Key=key, UploadId=uid,
                                MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": etag}]},
                                **(get if dst.startswith("sse-c") else {}))
    assert c.get_object(Bucket=sources, Key=key, **get)["Body"].read() == \
        BODY[first:last + 1]
    _check_mode(c, sources, key, dst)


def _err(call, **kw) -> tuple[int, str]:
    with pytest.raises(botocore.exceptions.ClientError) as e:
        call(**kw)
    return e.value.response["ResponseMetadata"]["HTTPStatusCode"], \
        e.value.response["Error"]["Code"]


def test_copy_source_key_checks(c, sources):
    args = {"Bucket": sources, "Key": "never", "CopySource": f"{sources}/sse-c"}
    assert _err(c.copy_object, **args) == (400, "InvalidRequest")
    assert _err(c.copy_object, **args, **_source_key("sse-c-other")) == (403, "AccessDenied")
    assert _err(c.copy_object, Bucket=sources, Key="never", CopySource=f"{sources}/plain",
                **_source_key("sse-c")) == (400, "InvalidRequest")
    uid = c.create_multipart_upload(Bucket=sources, Key="never", **sse_c(KEY))["UploadId"]
    part = {"Bucket": sources, "Key": "never", "UploadId": uid, "PartNumber": 1,
            "CopySource": f"{sources}/plain"}
    assert _err(c.upload_part_copy, **part) == (400, "InvalidRequest")    # the upload's key
    assert _err(c.upload_part_copy, **part, **sse_c(OTHER)) == (400, "InvalidArgument")
    c.abort_multipart_upload(Bucket=sources, Key="never", UploadId=uid)
    with pytest.raises(botocore.exceptions.ClientError):
        c.head_object(Bucket=sources, Key="never")


def test_in_place_copy_that_changes_the_encryption(c):
    bucket = unique_bucket("inplace")
    c.create_bucket(Bucket=bucket)
    c.put_object(Bucket=bucket, Key="k", Body=BODY)
    # Changing nothing is still refused.
    assert _err(c.copy_object, Bucket=bucket, Key="k", CopySource=f"{bucket}/k") == \
        (400, "InvalidRequest")
    steps = [("sse-s3", "plain"), ("sse-kms", "sse-s3"), ("sse-c", "sse-kms"),
             ("sse-c-other", "sse-c"), ("sse-s3", "sse-c-other")]
    for dst, src in steps:
        c.copy_object(Bucket=bucket, Key="k", CopySource=f"{bucket}/k", **MODES[dst][0],
                      **_source_key(src))
        assert c.get_object(Bucket=bucket, Key="k", **MODES[dst][1])["Body"].read() == BODY
        _check_mode(c, bucket, "k", dst)
