"""GetObjectAttributes (GET /bucket/key?attributes) as AWS answers it."""
import base64
import hashlib

import botocore.exceptions
import pytest

from tests.support import error_code, send, signed_request

ALL = ["ETag", "Checksum", "ObjectParts", "StorageClass", "ObjectSize"]
MIB = 1024 * 1024


def _multipart(s3, bucket, key, sizes, **create):
    up = s3.create_multipart_upload(Bucket=bucket, Key=key, **create)["UploadId"]
    algorithm = create.get("ChecksumAlgorithm")
    done = []
    for n, size in enumerate(sizes, 1):
        kw = {"ChecksumAlgorithm": algorithm} if algorithm else {}
        r = s3.upload_part(Bucket=bucket, Key=key, UploadId=up, PartNumber=n,
                           Body=bytes([n]) * size, **kw)
        part = {"PartNumber": n, "ETag": r["ETag"]}
        if algorithm:
            part[f"Checksum{algorithm}"] = r[f"Checksum{algorithm}"]
        done.append(part)
    return s3.complete_multipart_upload(Bucket=bucket, Key=key, UploadId=up,
                                        MultipartUpload={"Parts": done}), done


def test_simple_object(s3, bucket):
    body = b"A" * 1024
    sha = base64.b64encode(hashlib.sha256(body).digest()).decode()
    put = s3.put_object(Bucket=bucket, Key="o", Body=body, ChecksumAlgorithm="SHA256")
    r = s3.get_object_attributes(Bucket=bucket, Key="o", ObjectAttributes=ALL)
    assert r["ETag"] == put["ETag"].strip('"')
    assert r["ObjectSize"] == 1024 and r["StorageClass"] == "STANDARD"
    assert r["Checksum"] == {"ChecksumSHA256": sha, "ChecksumType": "FULL_OBJECT"}
    assert "ObjectParts" not in r and "VersionId" not in r and "DeleteMarker" not in r
    head = s3.head_object(Bucket=bucket, Key="o")
    assert r["LastModified"] == head["LastModified"]
    only = s3.get_object_attributes(Bucket=bucket, Key="o", ObjectAttributes=["ObjectSize"])
    assert only["ObjectSize"] == 1024
    assert not {"ETag", "Checksum", "StorageClass", "ObjectParts"} & set(only)
    nulled = s3.get_object_attributes(Bucket=bucket, Key="o", ObjectAttributes=["ETag"],
                                      VersionId="null")
    assert nulled["ETag"] == r["ETag"]


def test_composite_multipart_lists_parts_and_pages(s3, bucket):
    done, parts = _multipart(s3, bucket, "mp", [5 * MIB, 5 * MIB, 5 * MIB, 7],
                             ChecksumAlgorithm="SHA256")
    assert done["ChecksumSHA256"].endswith("-4")
    r = s3.get_object_attributes(Bucket=bucket, Key="mp", ObjectAttributes=ALL)
    # The composite checksum without its -N part count, as AWS answers here.
    assert r["Checksum"] == {"ChecksumSHA256": done["ChecksumSHA256"][:-2],
                             "ChecksumType": "COMPOSITE"}
    assert r["ETag"] == done["ETag"].strip('"') and r["ObjectSize"] == 15 * MIB + 7
    op = r["ObjectParts"]
    assert op["TotalPartsCount"] == 4 and op["IsTruncated"] is False
    assert op["MaxParts"] == 1000 and op["PartNumberMarker"] == 0
    assert [(p["PartNumber"], p["Size"], p["ChecksumSHA256"]) for p in op["Parts"]] == [
        (p["PartNumber"], 5 * MIB if p["PartNumber"] < 4 else 7, p["ChecksumSHA256"])
        for p in parts]
    page = s3.get_object_attributes(Bucket=bucket, Key="mp", ObjectAttributes=["ObjectParts"],
                                    MaxParts=1, PartNumberMarker=2)["ObjectParts"]
    assert page["IsTruncated"] is True and page["NextPartNumberMarker"] == 3
    assert page["MaxParts"] == 1 and page["PartNumberMarker"] == 2
    assert [p["PartNumber"] for p in page["Parts"]] == [3]
    last = s3.get_object_attributes(Bucket=bucket, Key="mp", ObjectAttributes=["ObjectParts"],
                                    MaxParts=10, PartNumberMarker=3)["ObjectParts"]
    assert last["IsTruncated"] is False and [p["PartNumber"] for p in last["Parts"]] == [4]


@pytest.mark.parametrize("create", [{}, {"ChecksumAlgorithm": "CRC32",
                                         "ChecksumType": "FULL_OBJECT"}])
def test_full_object_or_unchecksummed_multipart_counts_parts_only(s3, bucket, create):
    done, _ = _multipart(s3, bucket, "mp", [5 * MIB, 3], **create)
    r = s3.get_object_attributes(Bucket=bucket, Key="mp", ObjectAttributes=ALL)
    assert r["ObjectParts"] == {"TotalPartsCount": 2}
    if create:
        assert r["Checksum"] == {"ChecksumCRC32": done["ChecksumCRC32"],
                                 "ChecksumType": "FULL_OBJECT"}


def test_errors(server, s3, bucket):
    s3.put_object(Bucket=bucket, Key="o", Body=b"x")
    raw = server.client(parameter_validation=False)
    for attrs in (["Nope"], ["ETag", "etag"], []):
        with pytest.raises(botocore.exceptions.ClientError) as e:
            raw.get_object_attributes(Bucket=bucket, Key="o", ObjectAttributes=attrs)
        assert e.value.response["Error"]["Code"] == "InvalidArgument", attrs
    url, headers = signed_request(server, "GET", f"/{bucket}/o?attributes")
    r = send("GET", url, headers)
    assert r.status_code == 400 and error_code(r) == "InvalidArgument"
    url, headers = signed_request(server, "GET", f"/{bucket}/o?attributes",
                                  headers={"x-amz-object-attributes": "ETag",
                                           "x-amz-max-parts": "ten"})
    r = send("GET", url, headers)
    assert r.status_code == 400 and error_code(r) == "InvalidArgument"
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.get_object_attributes(Bucket=bucket, Key="missing", ObjectAttributes=["ETag"])
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    assert e.value.response["Error"]["Code"] == "NoSuchKey"
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.get_object_attributes(Bucket=bucket, Key="o", ObjectAttributes=["ETag"],
                                 VersionId="not-a-version")
    assert e.value.response["Error"]["Code"] == "InvalidArgument"
    url, headers = signed_request(server, "GET", f"/{bucket}/o?attributes&versionId=",
                                  headers={"x-amz-object-attributes": "ETag"})
    r = send("GET", url, headers)
    assert r.status_code == 400 and error_code(r) == "InvalidArgument"


def test_versions_and_delete_markers(s3, bucket):
    """versionId picks a version; x-amz-version-id names it; a delete marker answers as on
    HEAD (404 current, 405 by id, with x-amz-delete-marker)."""
    pytest.importorskip("s3ish.s3.handlers.versioning", reason="needs bucket versioning")
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    v1 = s3.put_object(Bucket=bucket, Key="v", Body=b"one")["VersionId"]
    v2 = s3.put_object(Bucket=bucket, Key="v", Body=b"second")["VersionId"]
    cur = s3.get_object_attributes(Bucket=bucket, Key="v", ObjectAttributes=["ObjectSize"])
    assert (cur["VersionId"], cur["ObjectSize"]) == (v2, 6) and "DeleteMarker" not in cur
    old = s3.get_object_attributes(Bucket=bucket, Key="v", VersionId=v1,
                                   ObjectAttributes=["ObjectSize", "ETag"])
    assert (old["VersionId"], old["ObjectSize"]) == (v1, 3)
    assert old["ETag"] == hashlib.md5(b"one").hexdigest()
    marker = s3.delete_object(Bucket=bucket, Key="v")["VersionId"]
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.get_object_attributes(Bucket=bucket, Key="v", ObjectAttributes=["ETag"])
    meta = e.value.response["ResponseMetadata"]
    assert meta["HTTPStatusCode"] == 404 and meta["HTTPHeaders"]["x-amz-delete-marker"] == "true"
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.get_object_attributes(Bucket=bucket, Key="v", VersionId=marker,
                                 ObjectAttributes=["ETag"])
    meta = e.value.response["ResponseMetadata"]
    assert meta["HTTPStatusCode"] == 405 and meta["HTTPHeaders"]["x-amz-delete-marker"] == "true"
    assert s3.get_object_attributes(Bucket=bucket, Key="v", VersionId=v2,
                                    ObjectAttributes=["ObjectSize"])["ObjectSize"] == 6
    for v in (v1, v2, marker):
        s3.delete_object(Bucket=bucket, Key="v", VersionId=v)
