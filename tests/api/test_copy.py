"""CopyObject and UploadPartCopy."""
import hashlib
import os
import uuid

import botocore.exceptions
import pytest

MiB = 1024 * 1024


def _code(e) -> str:
    return e.value.response["Error"]["Code"]


def test_copy_same_and_cross_bucket(s3, bucket):
    other = f"dst-{uuid.uuid4().hex[:10]}"
    s3.create_bucket(Bucket=other)
    body = os.urandom(300 * 1024)
    s3.put_object(Bucket=bucket, Key="src key/é", Body=body, ContentType="text/x-src",
                  Metadata={"a": "1"}, Tagging="t=1")
    r = s3.copy_object(Bucket=bucket, Key="copy", CopySource={"Bucket": bucket,
                                                             "Key": "src key/é"})
    assert r["CopyObjectResult"]["ETag"] == f'"{hashlib.md5(body).hexdigest()}"'
    g = s3.get_object(Bucket=bucket, Key="copy")
    assert g["Body"].read() == body and g["ContentType"] == "text/x-src"
    assert g["Metadata"] == {"a": "1"} and g["TagCount"] == 1
    s3.copy_object(Bucket=other, Key="x", CopySource=f"{bucket}/src key/é")
    assert s3.get_object(Bucket=other, Key="x")["Body"].read() == body
    s3.delete_object(Bucket=other, Key="x")
    s3.delete_bucket(Bucket=other)


def test_copy_replace_metadata_and_tags(s3, bucket):
    s3.put_object(Bucket=bucket, Key="s", Body=b"data", Metadata={"old": "1"}, Tagging="a=1")
    s3.copy_object(Bucket=bucket, Key="d", CopySource=f"{bucket}/s",
                   MetadataDirective="REPLACE", Metadata={"new": "2"}, ContentType="text/new",
                   TaggingDirective="REPLACE", Tagging="b=2&c=3")
    h = s3.head_object(Bucket=bucket, Key="d")
    assert h["Metadata"] == {"new": "2"} and h["ContentType"] == "text/new"
    tags = s3.get_object_tagging(Bucket=bucket, Key="d")["TagSet"]
    assert sorted((t["Key"], t["Value"]) for t in tags) == [("b", "2"), ("c", "3")]


def test_copy_onto_itself(s3, bucket):
    s3.put_object(Bucket=bucket, Key="self", Body=b"same", Metadata={"v": "1"})
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.copy_object(Bucket=bucket, Key="self", CopySource=f"{bucket}/self")
    assert _code(e) == "InvalidRequest"
    s3.copy_object(Bucket=bucket, Key="self", CopySource=f"{bucket}/self",
                   MetadataDirective="REPLACE", Metadata={"v": "2"})
    h = s3.head_object(Bucket=bucket, Key="self")
    assert h["Metadata"] == {"v": "2"}
    assert s3.get_object(Bucket=bucket, Key="self")["Body"].read() == b"same"


def test_copy_source_conditionals(s3, bucket):
    etag = s3.put_object(Bucket=bucket, Key="c", Body=b"cond")["ETag"]
    s3.copy_object(Bucket=bucket, Key="ok", CopySource=f"{bucket}/c", CopySourceIfMatch=etag)
    for kw in ({"CopySourceIfMatch": '"nope"'}, {"CopySourceIfNoneMatch": etag}):
        with pytest.raises(botocore.exceptions.ClientError) as e:
            s3.copy_object(Bucket=bucket, Key="no", CopySource=f"{bucket}/c", **kw)
        assert _code(e) == "PreconditionFailed"
    with pytest.raises(botocore.exceptions.ClientError):
        s3.head_object(Bucket=bucket, Key="no")


def test_copy_errors(s3, bucket):
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.copy_object(Bucket=bucket, Key="d", CopySource=f"{bucket}/missing")
    assert _code(e) == "NoSuchKey"
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.copy_object(Bucket=bucket, Key="d", CopySource="nobucket-xyz/k")
    assert _code(e) == "NoSuchBucket"
    s3.put_object(Bucket=bucket, Key="v", Body=b"x")
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.copy_object(Bucket=bucket, Key="d", CopySource={"Bucket": bucket, "Key": "v",
                                                          "VersionId": "abc"})
    assert _code(e) == "InvalidArgument"
    s3.copy_object(Bucket=bucket, Key="d", CopySource={"Bucket": bucket, "Key": "v",
                                                      "VersionId": "null"})


def test_copy_from_other_users_bucket_denied(server, s3, bucket):
    from tests.support import ALT_PASSWORD, ALT_USER
    s3.put_object(Bucket=bucket, Key="secret", Body=b"s")
    alt = server.client(ALT_USER, ALT_PASSWORD)
    own = f"alt-{uuid.uuid4().hex[:10]}"
    alt.create_bucket(Bucket=own)
    with pytest.raises(botocore.exceptions.ClientError) as e:
        alt.copy_object(Bucket=own, Key="stolen", CopySource=f"{bucket}/secret")
    assert _code(e) == "AccessDenied"
    alt.delete_bucket(Bucket=own)


def test_copy_multipart_source(s3, bucket):
    parts = [os.urandom(5 * MiB), os.urandom(MiB)]
    up = s3.create_multipart_upload(Bucket=bucket, Key="mp")
    done = [{"PartNumber": i, "ETag": s3.upload_part(Bucket=bucket, Key="mp",
                                                     UploadId=up["UploadId"], PartNumber=i,
                                                     Body=p)["ETag"]}
            for i, p in enumerate(parts, 1)]
    s3.complete_multipart_upload(Bucket=bucket, Key="mp", UploadId=up["UploadId"],
                                 MultipartUpload={"Parts": done})
    r = s3.copy_object(Bucket=bucket, Key="flat", CopySource=f"{bucket}/mp")
    whole = b"".join(parts)
    assert r["CopyObjectResult"]["ETag"] == f'"{hashlib.md5(whole).hexdigest()}"'
    assert s3.get_object(Bucket=bucket, Key="flat")["Body"].read() == whole


def test_upload_part_copy(s3, bucket):
    src = os.urandom(7 * MiB)
    s3.put_object(Bucket=bucket, Key="big", Body=src)
    up = s3.create_multipart_upload(Bucket=bucket, Key="assembled")
    uid = up["UploadId"]
    p1 = s3.upload_part_copy(Bucket=bucket, Key="assembled", UploadId=uid, PartNumber=1,
                             CopySource=f"{bucket}/big", CopySourceRange=f"bytes=0-{5 * MiB - 1}")
    p2 = s3.upload_part_copy(Bucket=bucket, Key="assembled", UploadId=uid, PartNumber=2,
                             CopySource=f"{bucket}/big")
    p3 = s3.upload_part(Bucket=bucket, Key="assembled", UploadId=uid, PartNumber=3,
                        Body=b"tail")
    assert p1["CopyPartResult"]["ETag"] == f'"{hashlib.md5(src[:5 * MiB]).hexdigest()}"'
    s3.complete_multipart_upload(Bucket=bucket, Key="assembled", UploadId=uid,
                                 MultipartUpload={"Parts": [
                                     {"PartNumber": 1, "ETag": p1["CopyPartResult"]["ETag"]},
                                     {"PartNumber": 2, "ETag": p2["CopyPartResult"]["ETag"]},
                                     {"PartNumber": 3, "ETag": p3["ETag"]}]})
    got = s3.get_object(Bucket=bucket, Key="assembled")["Body"].read()
    assert got == src[:5 * MiB] + src + b"tail"
    part2 = s3.get_object(Bucket=bucket, Key="assembled", PartNumber=2)
    assert part2["PartsCount"] == 3 and part2["Body"].read() == src
    for bad in ("bytes=5-1", "items=0-1", f"bytes=0-{7 * MiB}"):
        with pytest.raises(botocore.exceptions.ClientError) as e:
            s3.upload_part_copy(Bucket=bucket, Key="assembled", UploadId="x", PartNumber=1,
                                CopySource=f"{bucket}/big", CopySourceRange=bad)
        assert _code(e) in ("InvalidArgument", "InvalidRange", "NoSuchUpload")
    up2 = s3.create_multipart_upload(Bucket=bucket, Key="z")
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.upload_part_copy(Bucket=bucket, Key="z", UploadId=up2["UploadId"], PartNumber=1,
                            CopySource=f"{bucket}/big", CopySourceRange=f"bytes=0-{7 * MiB}")
    assert _code(e) == "InvalidRange"
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.upload_part_copy(Bucket=bucket, Key="z", UploadId=up2["UploadId"], PartNumber=1,
                            CopySource=f"{bucket}/big", CopySourceRange="bytes=9-1")
    assert _code(e) == "InvalidArgument"
    s3.abort_multipart_upload(Bucket=bucket, Key="z", UploadId=up2["UploadId"])
