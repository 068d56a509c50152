"""Bucket tagging: Put/Get/DeleteBucketTagging with AWS's validation."""
import base64
import hashlib

import botocore.exceptions
import pytest

from tests.support import error_code, send, signed_request, unique_bucket


def _code(call, **kw) -> tuple[int, str]:
    with pytest.raises(botocore.exceptions.ClientError) as e:
        call(**kw)
    return e.value.response["ResponseMetadata"]["HTTPStatusCode"], \
        e.value.response["Error"]["Code"]


def test_bucket_tagging_roundtrip(s3, bucket):
    assert _code(s3.get_bucket_tagging, Bucket=bucket) == (404, "NoSuchTagSet")
    tags = [{"Key": "Hello", "Value": "World"}, {"Key": "empty", "Value": ""},
            {"Key": "ünï cødé 1+2=3 a@b.c/d:e_f-g", "Value": "välue"}]
    r = s3.put_bucket_tagging(Bucket=bucket, Tagging={"TagSet": tags})
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert s3.get_bucket_tagging(Bucket=bucket)["TagSet"] == tags
    # A put replaces the whole set.
    s3.put_bucket_tagging(Bucket=bucket, Tagging={"TagSet": [{"Key": "k", "Value": "v"}]})
    assert s3.get_bucket_tagging(Bucket=bucket)["TagSet"] == [{"Key": "k", "Value": "v"}]
    r = s3.delete_bucket_tagging(Bucket=bucket)
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert _code(s3.get_bucket_tagging, Bucket=bucket) == (404, "NoSuchTagSet")
    # Deleting what is not there is not an error.
    s3.delete_bucket_tagging(Bucket=bucket)


@pytest.mark.parametrize("tags", [
    [{"Key": f"k{i}", "Value": "v"} for i in range(51)],
    [{"Key": "", "Value": "v"}],
    [{"Key": "k" * 129, "Value": "v"}],
    [{"Key": "k", "Value": "v" * 257}],
    [{"Key": "aws:cloudformation:stack-name", "Value": "v"}],
    [{"Key": "dup", "Value": "1"}, {"Key": "dup", "Value": "2"}],
    [{"Key": "k", "Value": "inv&alid"}],
    [{"Key": "semi;colon", "Value": "v"}],
])
def test_invalid_bucket_tags_refused_and_nothing_changes(server, s3, bucket, tags):
    raw = server.client(parameter_validation=False)    # botocore refuses an empty key itself
    s3.put_bucket_tagging(Bucket=bucket, Tagging={"TagSet": [{"Key": "keep", "Value": "1"}]})
    assert _code(raw.put_bucket_tagging, Bucket=bucket,
                 Tagging={"TagSet": tags}) == (400, "InvalidTag")
    assert s3.get_bucket_tagging(Bucket=bucket)["TagSet"] == [{"Key": "keep", "Value": "1"}]


def test_fifty_tags_and_longest_key_value_are_accepted(s3, bucket):
    tags = [{"Key": f"{i:03d}" + "k" * 125, "Value": "v" * 256} for i in range(50)]
    s3.put_bucket_tagging(Bucket=bucket, Tagging={"TagSet": tags})
    assert s3.get_bucket_tagging(Bucket=bucket)["TagSet"] == tags


def test_bucket_tagging_needs_a_digest_and_a_tagset(server, s3, bucket):
    doc = b"<Tagging><TagSet><Tag><Key>a</Key><Value>b</Value></Tag></TagSet></Tagging>"
    url, headers = signed_request(server, "PUT", f"/{bucket}?tagging", doc)
    r = send("PUT", url, headers, doc)
    assert r.status_code == 400 and error_code(r) == "InvalidRequest"
    for bad, code in [(b"<Tagging></Tagging>", "MalformedXML"), (b"<Tagging>", "MalformedXML")]:
        md5 = base64.b64encode(hashlib.md5(bad).digest()).decode()
        url, headers = signed_request(server, "PUT", f"/{bucket}?tagging", bad,
                                      headers={"Content-MD5": md5})
        r = send("PUT", url, headers, bad)
        assert r.status_code == 400 and error_code(r) == code
    assert _code(s3.get_bucket_tagging, Bucket=bucket) == (404, "NoSuchTagSet")


def test_bucket_tagging_of_missing_bucket(s3):
    assert _code(s3.get_bucket_tagging, Bucket="no-such-bucket-tagging")[1] == "NoSuchBucket"
    assert _code(s3.put_bucket_tagging, Bucket="no-such-bucket-tagging",
                 Tagging={"TagSet": []})[1] == "NoSuchBucket"


def test_bucket_tags_survive_a_restart(tmp_path):
    from tests.support import ServerProcess, unique_bucket
    srv = ServerProcess(str(tmp_path / "data"), str(tmp_path)).start()
    try:
        c = srv.client()
        name = unique_bucket()
        c.create_bucket(Bucket=name)
        c.put_bucket_tagging(Bucket=name, Tagging={"TagSet": [{"Key": "a", "Value": "1"}]})
        srv.stop()
        srv.start()
        assert srv.client().get_bucket_tagging(Bucket=name)["TagSet"] == [
            {"Key": "a", "Value": "1"}]
    finally:
        srv.stop()


def test_tags_given_at_creation(s3):
    name = unique_bucket()
    s3.create_bucket(Bucket=name, CreateBucketConfiguration={
        "Tags": [{"Key": "team", "Value": "storage"}]})
    try:
        assert s3.get_bucket_tagging(Bucket=name)["TagSet"] == [
            {"Key": "team", "Value": "storage"}]
    finally:
        s3.delete_bucket(Bucket=name)
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.create_bucket(Bucket=name, CreateBucketConfiguration={
            "Tags": [{"Key": "aws:reserved", "Value": "x"}]})
    assert e.value.response["Error"]["Code"] == "InvalidTag"
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.head_bucket(Bucket=name)          # the refused bucket was not created
