"""Objects through boto3 and raw requests: headers, metadata, ranges, conditionals, digests."""
import base64
import concurrent.futures
import datetime as dt
import hashlib
import os
import zlib

import botocore.exceptions
import pytest
import requests

from tests.support import error_code, send, signed_request


def _code(exc_info) -> str:
    return exc_info.value.response["Error"]["Code"]


def test_put_get_head_delete_roundtrip(s3, bucket):
    body = os.urandom(300 * 1024)
    r = s3.put_object(Bucket=bucket, Key="obj", Body=body)
    assert r["ETag"] == f'"{hashlib.md5(body).hexdigest()}"'
    g = s3.get_object(Bucket=bucket, Key="obj")
    assert g["Body"].read() == body
    assert g["ContentLength"] == len(body) and g["AcceptRanges"] == "bytes"
    assert g["ContentType"] == "binary/octet-stream"
    h = s3.head_object(Bucket=bucket, Key="obj")
    assert h["ContentLength"] == len(body) and h["ETag"] == r["ETag"]
    assert abs((h["LastModified"] - dt.datetime.now(dt.timezone.utc)).total_seconds()) < 60
    s3.delete_object(Bucket=bucket, Key="obj")
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.get_object(Bucket=bucket, Key="obj")
    assert _code(e) == "NoSuchKey"
    s3.delete_object(Bucket=bucket, Key="obj")   # deleting a missing key is not an error


def test_zero_byte_object(s3, bucket):
    s3.put_object(Bucket=bucket, Key="empty", Body=b"")
    g = s3.get_object(Bucket=bucket, Key="empty")
    assert g["Body"].read() == b"" and g["ETag"] == '"d41d8cd98f00b204e9800998ecf8427e"'


def test_standard_headers_metadata_storage_class(s3, bucket):
    s3.put_object(Bucket=bucket, Key="h", Body=b"x", ContentType="text/plain; charset=utf-8",
                  ContentEncoding="identity", ContentDisposition="inline",
                  ContentLanguage="de", CacheControl="max-age=60",
                  Expires=dt.datetime(2030, 1, 1, tzinfo=dt.timezone.utc),
                  Metadata={"Color": "blue", "n": "1"}, StorageClass="STANDARD_IA")
    h = s3.head_object(Bucket=bucket, Key="h")
    assert h["ContentType"] == "text/plain; charset=utf-8"
    assert h["ContentEncoding"] == "identity" and h["ContentDisposition"] == "inline"
    assert h["ContentLanguage"] == "de" and h["CacheControl"] == "max-age=60"
    assert h["Expires"].year == 2030
    assert h["Metadata"] == {"color": "blue", "n": "1"}
    assert h["StorageClass"] == "STANDARD_IA"
    listed = s3.list_objects_v2(Bucket=bucket)["Contents"][0]
    assert listed["StorageClass"] == "STANDARD_IA"


def test_invalid_storage_class(s3, bucket):
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.put_object(Bucket=bucket, Key="sc", Body=b"x", StorageClass="PLATINUM")
    assert _code(e) == "InvalidStorageClass"


def test_metadata_too_large(s3, bucket):
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.put_object(Bucket=bucket, Key="meta", Body=b"x", Metadata={"big": "v" * 2100})
    assert _code(e) == "MetadataTooLarge"
    with pytest.raises(botocore.exceptions.ClientError):
        s3.head_object(Bucket=bucket, Key="meta")
    s3.put_object(Bucket=bucket, Key="meta", Body=b"x", Metadata={"ok": "v" * 2000})


def test_oversized_header_block(server, bucket):
    url, headers = signed_request(server, "PUT", f"/{bucket}/hdr", b"x",
                                  headers={"x-amz-meta-a": "a" * 9000})
    r = send("PUT", url, headers, b"x")
    assert r.status_code == 400 and error_code(r) == "RequestHeaderSectionTooLarge"


def test_content_md5(server, s3, bucket):
    body = b"md5 checked body"
    good = base64.b64encode(hashlib.md5(body).digest()).decode()
    s3.put_object(Bucket=bucket, Key="md5", Body=body, ContentMD5=good)
    bad = base64.b64encode(hashlib.md5(b"other").digest()).decode()
    url, headers = signed_request(server, "PUT", f"/{bucket}/md5", body,
                                  headers={"Content-MD5": bad})
    r = send("PUT", url, headers, body)
    assert r.status_code == 400 and error_code(r) == "BadDigest"
    url, headers = signed_request(server, "PUT", f"/{bucket}/md5", body,
                                  headers={"Content-MD5": "not-base64!"})
    r = send("PUT", url, headers, body)
    assert r.status_code == 400 and error_code(r) == "InvalidDigest"
    assert s3.get_object(Bucket=bucket, Key="md5")["Body"].read() == body


@pytest.mark.parametrize("algorithm", ["CRC32", "CRC32C", "SHA1", "SHA256", "CRC64NVME"])
def test_additional_checksums(server, s3, bucket, algorithm):
    body = os.urandom(200 * 1024 + 7)
    r = s3.put_object(Bucket=bucket, Key=f"ck-{algorithm}", Body=body,
                      ChecksumAlgorithm=algorithm)
    sent = r[f"Checksum{algorithm}"]
    # boto3 asks for checksums by default; a client that does not ask gets none.
    quiet = server.client(response_checksum_validation="when_required")
    plain = quiet.get_object(Bucket=bucket, Key=f"ck-{algorithm}")
    assert f"Checksum{algorithm}" not in plain
    full = s3.get_object(Bucket=bucket, Key=f"ck-{algorithm}", ChecksumMode="ENABLED")
    assert full[f"Checksum{algorithm}"] == sent and full["Body"].read() == body
    ranged = s3.get_object(Bucket=bucket, Key=f"ck-{algorithm}", ChecksumMode="ENABLED",
                           Range="bytes=0-9")
    assert f"Checksum{algorithm}" not in ranged
    if algorithm == "CRC32":
        assert base64.b64decode(sent) == zlib.crc32(body).to_bytes(4, "big")
    if algorithm == "SHA256":
        assert base64.b64decode(sent) == hashlib.sha256(body).digest()


def test_checksum_mismatch_is_bad_digest(server, s3, bucket):
    body = b"checksummed"
    wrong = base64.b64encode(zlib.crc32(b"other").to_bytes(4, "big")).decode()
    url, headers = signed_request(server, "PUT", f"/{bucket}/ck", body,
                                  headers={"x-amz-checksum-crc32": wrong})
    r = send("PUT", url, headers, body)
    assert r.status_code == 400 and error_code(r) == "BadDigest"
    url, headers = signed_request(server, "PUT", f"/{bucket}/ck", body,
                                  headers={"x-amz-checksum-crc32": "AAAA"})
    r = send("PUT", url, headers, body)
    assert r.status_code == 400 and error_code(r) == "InvalidRequest"
    with pytest.raises(botocore.exceptions.ClientError):
        s3.head_object(Bucket=bucket, Key="ck")


def test_default_checksum_is_crc64nvme(server, s3, bucket):
    body = b"no checksum asked"
    url, headers = signed_request(server, "PUT", f"/{bucket}/dflt", body)
    assert send("PUT", url, headers, body).status_code == 200
    h = s3.head_object(Bucket=bucket, Key="dflt", ChecksumMode="ENABLED")
    assert "ChecksumCRC64NVME" in h and h["ChecksumType"] == "FULL_OBJECT"


RANGES = [("bytes=0-9", 0, 9), ("bytes=10-", 10, 999), ("bytes=-100", 900, 999),
          ("bytes=990-5000", 990, 999), ("bytes=-5000", 0, 999), ("bytes=999-999", 999, 999)]


@pytest.mark.parametrize("header,start,end", RANGES)
def test_ranges(s3, bucket, header, start, end):
    body = os.urandom(1000)
    s3.put_object(Bucket=bucket, Key="r", Body=body)
    g = s3.get_object(Bucket=bucket, Key="r", Range=header)
    assert g["ResponseMetadata"]["HTTPStatusCode"] == 206
    assert g["ContentRange"] == f"bytes {start}-{end}/1000"
    assert g["Body"].read() == body[start:end + 1]


def test_range_across_data_blocks(s3, bucket):
    body = os.urandom(3 * 1024 * 1024 + 5)
    s3.put_object(Bucket=bucket, Key="big", Body=body)
    g = s3.get_object(Bucket=bucket, Key="big", Range="bytes=1048570-2097160")
    assert g["Body"].read() == body[1048570:2097161]


@pytest.mark.parametrize("header", ["bytes=1000-", "bytes=5000-6000", "bytes=-0"])
def test_unsatisfiable_range(s3, bucket, header):
    s3.put_object(Bucket=bucket, Key="r", Body=b"x" * 1000)
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.get_object(Bucket=bucket, Key="r", Range=header)
    assert _code(e) == "InvalidRange"
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 416


@pytest.mark.parametrize("header", ["bytes=abc", "bytes=5-2", "items=0-1", "bytes=0-1,3-4"])
def test_malformed_range_is_ignored(s3, bucket, header):
    s3.put_object(Bucket=bucket, Key="r", Body=b"y" * 100)
    g = s3.get_object(Bucket=bucket, Key="r", Range=header)
    assert g["ResponseMetadata"]["HTTPStatusCode"] == 200 and len(g["Body"].read()) == 100


def test_conditional_get(s3, bucket):
    r = s3.put_object(Bucket=bucket, Key="c", Body=b"cond")
    etag = r["ETag"]
    lm = s3.head_object(Bucket=bucket, Key="c")["LastModified"]
    before, after = lm - dt.timedelta(hours=1), lm + dt.timedelta(hours=1)

    def status(**kw):
        try:
            return s3.get_object(Bucket=bucket, Key="c", **kw)["ResponseMetadata"][
                "HTTPStatusCode"]
        except botocore.exceptions.ClientError as e:
            return int(e.response["Error"]["Code"]) if e.response["Error"]["Code"].isdigit() \
                else e.response["ResponseMetadata"]["HTTPStatusCode"]

    assert status(IfMatch=etag) == 200
    assert status(IfMatch='"nope"') == 412
    assert status(IfNoneMatch=etag) == 304
    assert status(IfNoneMatch='"nope"') == 200
    assert status(IfModifiedSince=after) == 304
    assert status(IfModifiedSince=before) == 200
    assert status(IfUnmodifiedSince=before) == 412
    assert status(IfUnmodifiedSince=after) == 200
    # S3's precedence: If-Match true + If-Unmodified-Since false -> 200
    assert status(IfMatch=etag, IfUnmodifiedSince=before) == 200
    # If-None-Match false + If-Modified-Since true -> 304
    assert status(IfNoneMatch=etag, IfModifiedSince=before) == 304
    # If-None-Match true (no match) + If-Modified-Since false -> 200
    assert status(IfNoneMatch='"nope"', IfModifiedSince=after) == 200
    # If-Match failure wins over If-None-Match
    assert status(IfMatch='"nope"', IfNoneMatch=etag) == 412


def test_conditional_head(s3, bucket):
    r = s3.put_object(Bucket=bucket, Key="c", Body=b"cond")
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.head_object(Bucket=bucket, Key="c", IfNoneMatch=r["ETag"])
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 304
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.head_object(Bucket=bucket, Key="c", IfMatch='"zzz"')
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 412


@pytest.mark.parametrize("key", ["a", "a/b", "a/b/", "../x", "x/../../y", "sp ace+plus",
                                 "ünïcødé/ファイル", "q?x=1&y", "%2F%20", "tab\there",
                                 "k" * 1024, "emoji 🎉", "a//b", "~tilde!*'()"])
def test_odd_keys(s3, bucket, key):
    s3.put_object(Bucket=bucket, Key=key, Body=key.encode())
    assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == key.encode()
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]]
    assert key in keys


def test_key_too_long(s3, bucket):
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.put_object(Bucket=bucket, Key="k" * 1025, Body=b"x")
    assert _code(e) == "KeyTooLongError"


def test_key_and_prefix_key_coexist(s3, bucket):
    s3.put_object(Bucket=bucket, Key="a", Body=b"file a")
    s3.put_object(Bucket=bucket, Key="a/b", Body=b"file a/b")
    assert s3.get_object(Bucket=bucket, Key="a")["Body"].read() == b"file a"
    assert s3.get_object(Bucket=bucket, Key="a/b")["Body"].read() == b"file a/b"


def test_missing_content_length(server, bucket):
    url, headers = signed_request(server, "PUT", f"/{bucket}/nolen", b"",
                                  headers={"x-amz-content-sha256": "UNSIGNED-PAYLOAD"})
    headers.pop("Content-Length", None)

    def gen():
        yield b"streamed without length"
    r = requests.put(url, headers=headers, data=gen())
    assert r.status_code == 411 and error_code(r) == "MissingContentLength"


def test_unimplemented_subresource_is_refused(s3, bucket):
    s3.put_object(Bucket=bucket, Key="t", Body=b"x")
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.get_object_torrent(Bucket=bucket, Key="t")
    assert _code(e) == "NotImplemented"


def test_overwrite_storm_never_tears(s3, bucket, server):
    """Concurrent overwrites of one key: every read sees exactly one writer's whole body."""
    bodies = {bytes([i]) * (256 * 1024 + i): hashlib.md5(bytes([i]) * (256 * 1024 + i))
              .hexdigest() for i in range(8)}
    valid = set(bodies.values())
    stop = False

    def writer(body):
        c = server.client()
        for _ in range(6):
            c.put_object(Bucket=bucket, Key="storm", Body=body)

    def reader():
        c = server.client()
        seen = 0
        while not stop:
            try:
                data = c.get_object(Bucket=bucket, Key="storm")["Body"].read()
            except botocore.exceptions.ClientError:
                continue
            assert hashlib.md5(data).hexdigest() in valid
            seen += 1
        return seen

    with concurrent.futures.ThreadPoolExecutor(12) as pool:
        readers = [pool.submit(reader) for _ in range(3)]
        writers = [pool.submit(writer, b) for b in bodies]
        for w in writers:
            w.result()
        stop = True
        assert sum(r.result() for r in readers) > 0
    final = s3.get_object(Bucket=bucket, Key="storm")["Body"].read()
    assert hashlib.md5(final).hexdigest() in valid


@pytest.mark.parametrize("param,value", [
    ("response-content-type", "text/plain\r\nX-Injected: 1"),
    ("response-content-disposition", "attachment\n"),
    ("response-cache-control", "no-cache\x00"),
    ("response-content-language", "en\x1b"),
    ("response-expires", "Thu, 01 Dec 1994 16:00:00 GMT\x7f"),
    ("response-content-encoding", "gzip\r"),
])
def test_response_override_with_control_characters(server, s3, bucket, param, value):
    """A response-* value that cannot be a header is refused (the connection used to drop)."""
    from urllib.parse import quote
    s3.put_object(Bucket=bucket, Key="ov", Body=b"x")
    for method in ("GET", "HEAD"):
        url, headers = signed_request(server, method,
                                      f"/{bucket}/ov?{param}={quote(value, safe='')}")
        r = send(method, url, headers)
        assert r.status_code == 400, (method, r.status_code)
        if method == "GET":
            assert error_code(r) == "InvalidArgument"


def test_response_override_utf8_is_sent_as_its_bytes(server, s3, bucket):
    from urllib.parse import quote
    s3.put_object(Bucket=bucket, Key="ov8", Body=b"x")
    disposition = 'attachment;\tfilename="\u65e5\u672c.txt"'
    url, headers = signed_request(server, "GET", f"/{bucket}/ov8?response-content-disposition="
                                  f"{quote(disposition, safe='')}")
    r = send("GET", url, headers)
    assert r.status_code == 200
    assert r.raw.headers["Content-Disposition"].encode("latin-1") == disposition.encode()


_SSE_C = {"SSECustomerAlgorithm": "AES256", "SSECustomerKey": "k" * 32}
_COPY_SSE_C = {"CopySourceSSECustomerAlgorithm": "AES256", "CopySourceSSECustomerKey": "k" * 32}


def test_sse_c_over_plain_http_is_refused_on_every_operation(s3, bucket):
    """Customer keys travel only over TLS (as AWS): over HTTP every operation that takes
    them refuses them (400 InvalidRequest), nothing is stored."""
    s3.put_object(Bucket=bucket, Key="plain", Body=b"plain")
    up = s3.create_multipart_upload(Bucket=bucket, Key="mp")["UploadId"]
    calls = {
        "PutObject": lambda: s3.put_object(Bucket=bucket, Key="enc", Body=b"x", **_SSE_C),
        "GetObject": lambda: s3.get_object(Bucket=bucket, Key="plain", **_SSE_C),
        "HeadObject": lambda: s3.head_object(Bucket=bucket, Key="plain", **_SSE_C),
        "CopyObject": lambda: s3.copy_object(Bucket=bucket, Key="enc",
                                             CopySource=f"{bucket}/plain", **_SSE_C),
        "CopyObject source": lambda: s3.copy_object(Bucket=bucket, Key="enc",
                                                    CopySource=f"{bucket}/plain",
                                                    **_COPY_SSE_C),
        "CreateMultipartUpload": lambda: s3.create_multipart_upload(Bucket=bucket, Key="enc",
                                                                    **_SSE_C),
        "UploadPart": lambda: s3.upload_part(Bucket=bucket, Key="mp", UploadId=up,
                                             PartNumber=1, Body=b"x", **_SSE_C),
        "UploadPartCopy": lambda: s3.upload_part_copy(Bucket=bucket, Key="mp", UploadId=up,
                                                      PartNumber=1,
                                                      CopySource=f"{bucket}/plain",
                                                      **_COPY_SSE_C),
        "CompleteMultipartUpload": lambda: s3.complete_multipart_upload(
            Bucket=bucket, Key="mp", UploadId=up, MultipartUpload={"Parts": []}, **_SSE_C),
        "ListParts": lambda: s3.list_parts(Bucket=bucket, Key="mp", UploadId=up, **_SSE_C),
    }
    for name, call in calls.items():
        with pytest.raises(botocore.exceptions.ClientError) as e:
            call()
        assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400, name
        assert _code(e) == ("400" if name == "HeadObject" else "InvalidRequest"), name
        if name != "HeadObject":
            assert "secure connection" in e.value.response["Error"]["Message"], name
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]] == ["plain"]
    assert s3.list_parts(Bucket=bucket, Key="mp", UploadId=up).get("Parts", []) == []
    s3.abort_multipart_upload(Bucket=bucket, Key="mp", UploadId=up)


@pytest.mark.parametrize("header,value", [
    ("If-Match", '"0123"'),
    ("x-amz-if-match-size", "4"),
    ("x-amz-if-match-last-modified-time", "Wed, 21 Oct 2015 07:28:00 GMT"),
])
def test_conditional_delete_headers(server, s3, bucket, header, value):
    """A conditional delete whose condition fails keeps the object (412)."""
    s3.put_object(Bucket=bucket, Key="kept", Body=b"kept!")
    url, headers = signed_request(server, "DELETE", f"/{bucket}/kept", b"",
                                  headers={header: value})
    r = send("DELETE", url, headers, b"")
    assert r.status_code == 412 and error_code(r) == "PreconditionFailed", r.text
    assert s3.get_object(Bucket=bucket, Key="kept")["Body"].read() == b"kept!"
    etag = s3.head_object(Bucket=bucket, Key="kept")["ETag"]
    s3.delete_object(Bucket=bucket, Key="kept", IfMatch=etag)
    assert "Contents" not in s3.list_objects_v2(Bucket=bucket)
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.delete_object(Bucket=bucket, Key="kept", IfMatch=etag)
    assert _code(e) == "NoSuchKey"


@pytest.mark.parametrize("method,query,header,value", [
    ("PUT", "", "x-amz-write-offset-bytes", "5"),
    ("PUT", "", "x-amz-checksum-xxhash3", "AAAAAAAAAAA="),
    ("PUT", "", "x-amz-object-lock-event-hold", "ON"),
])
def test_headers_without_their_effect_are_refused(server, s3, bucket, method, query, header,
                                                  value):
    """A header s3ish cannot honour is refused, never accepted without its effect (a
    conditional delete must not delete unconditionally; an append must not overwrite)."""
    s3.put_object(Bucket=bucket, Key="kept", Body=b"kept!")
    body = b"new" if method == "PUT" else b""
    url, headers = signed_request(server, method, f"/{bucket}/kept{query}", body,
                                  headers={header: value})
    r = send(method, url, headers, body)
    assert r.status_code == 501 and error_code(r) == "NotImplemented", r.text
    assert s3.get_object(Bucket=bucket, Key="kept")["Body"].read() == b"kept!"


def test_copy_source_expected_bucket_owner(s3, bucket):
    s3.put_object(Bucket=bucket, Key="src", Body=b"src")
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.copy_object(Bucket=bucket, Key="dst", CopySource=f"{bucket}/src",
                       ExpectedSourceBucketOwner="999999999999")
    assert _code(e) == "AccessDenied"
    with pytest.raises(botocore.exceptions.ClientError):
        s3.head_object(Bucket=bucket, Key="dst")
