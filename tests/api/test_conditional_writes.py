"""Conditional writes: If-None-Match: * and If-Match on PUT, Complete and Copy; atomic."""
import concurrent.futures

import botocore.exceptions
import pytest


def _code(e) -> str:
    return e.value.response["Error"]["Code"]


def test_put_if_none_match(s3, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"first", IfNoneMatch="*")
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.put_object(Bucket=bucket, Key="k", Body=b"second", IfNoneMatch="*")
    assert _code(e) == "PreconditionFailed"
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"first"


def test_put_if_match(s3, bucket):
    etag = s3.put_object(Bucket=bucket, Key="k", Body=b"v1")["ETag"]
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.put_object(Bucket=bucket, Key="k", Body=b"v2", IfMatch='"00000000000000000000000000000000"')
    assert _code(e) == "PreconditionFailed"
    s3.put_object(Bucket=bucket, Key="k", Body=b"v2", IfMatch=etag)
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"v2"
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.put_object(Bucket=bucket, Key="missing", Body=b"x", IfMatch=etag)
    assert _code(e) == "NoSuchKey"


def test_racing_creators_exactly_one_wins(server, bucket):
    def create(i):
        c = server.client()
        try:
            c.put_object(Bucket=bucket, Key="race", Body=f"writer {i}".encode() * 1000,
                         IfNoneMatch="*")
            return i
        except botocore.exceptions.ClientError as e:
            assert _code_of(e) == "PreconditionFailed"
            return None
    with concurrent.futures.ThreadPoolExecutor(16) as pool:
        winners = [w for w in pool.map(create, range(16)) if w is not None]
    assert len(winners) == 1
    body = server.client().get_object(Bucket=bucket, Key="race")["Body"].read()
    assert body == f"writer {winners[0]}".encode() * 1000


def _code_of(e):
    return e.response["Error"]["Code"]


def test_complete_multipart_if_none_match(s3, bucket):
    s3.put_object(Bucket=bucket, Key="exists", Body=b"x")
    up = s3.create_multipart_upload(Bucket=bucket, Key="exists")
    etag = s3.upload_part(Bucket=bucket, Key="exists", UploadId=up["UploadId"], PartNumber=1,
                          Body=b"part")["ETag"]
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.complete_multipart_upload(Bucket=bucket, Key="exists", UploadId=up["UploadId"],
                                     MultipartUpload={"Parts": [{"PartNumber": 1,
                                                                 "ETag": etag}]},
                                     IfNoneMatch="*")
    assert _code(e) == "PreconditionFailed"
    assert s3.get_object(Bucket=bucket, Key="exists")["Body"].read() == b"x"
    # the upload is still there and completable without the condition
    s3.complete_multipart_upload(Bucket=bucket, Key="exists", UploadId=up["UploadId"],
                                 MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": etag}]})
    assert s3.get_object(Bucket=bucket, Key="exists")["Body"].read() == b"part"


def test_copy_destination_conditions(s3, bucket):
    s3.put_object(Bucket=bucket, Key="src", Body=b"src")
    s3.put_object(Bucket=bucket, Key="dst", Body=b"dst")
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.copy_object(Bucket=bucket, Key="dst", CopySource=f"{bucket}/src", IfNoneMatch="*")
    assert _code(e) == "PreconditionFailed"
    assert s3.get_object(Bucket=bucket, Key="dst")["Body"].read() == b"dst"
    s3.copy_object(Bucket=bucket, Key="new", CopySource=f"{bucket}/src", IfNoneMatch="*")


def test_if_none_match_other_than_star(server, bucket):
    from tests.support import error_code, send, signed_request
    url, headers = signed_request(server, "PUT", f"/{bucket}/x", b"x",
                                  headers={"If-None-Match": '"abc"'})
    r = send("PUT", url, headers, b"x")
    assert r.status_code == 501 and error_code(r) == "NotImplemented"
