"""Object tagging."""
import botocore.exceptions
import pytest


def test_tagging_roundtrip(s3, bucket):
    s3.put_object(Bucket=bucket, Key="t", Body=b"x", Tagging="a=1&b=two%20words")
    tags = s3.get_object_tagging(Bucket=bucket, Key="t")["TagSet"]
    assert sorted((t["Key"], t["Value"]) for t in tags) == [("a", "1"), ("b", "two words")]
    assert s3.head_object(Bucket=bucket, Key="t")["ResponseMetadata"]["HTTPHeaders"][
        "x-amz-tagging-count"] == "2"
    s3.put_object_tagging(Bucket=bucket, Key="t", Tagging={"TagSet": [{"Key": "z",
                                                                       "Value": "9"}]})
    assert s3.get_object_tagging(Bucket=bucket, Key="t")["TagSet"] == [{"Key": "z",
                                                                        "Value": "9"}]
    s3.delete_object_tagging(Bucket=bucket, Key="t")
    assert s3.get_object_tagging(Bucket=bucket, Key="t")["TagSet"] == []


def test_invalid_tags(s3, bucket):
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.put_object(Bucket=bucket, Key="t", Body=b"x",
                      Tagging="&".join(f"k{i}=v" for i in range(11)))
    assert e.value.response["Error"]["Code"] == "InvalidTag"
    s3.put_object(Bucket=bucket, Key="t", Body=b"x")
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.put_object_tagging(Bucket=bucket, Key="t", Tagging={"TagSet": [
            {"Key": "k" * 129, "Value": "v"}]})
    assert e.value.response["Error"]["Code"] == "InvalidTag"
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.get_object_tagging(Bucket=bucket, Key="missing")
    assert e.value.response["Error"]["Code"] == "NoSuchKey"


def test_tagging_without_tagset_is_malformed(server, s3, bucket):
    """<Tagging/> lacks the required TagSet: MalformedXML, tags kept; <TagSet/> clears."""
    import base64
    import hashlib

    from tests.support import error_code, send, signed_request
    s3.put_object(Bucket=bucket, Key="t", Body=b"x", Tagging="a=1")
    for doc, status in [(b"<Tagging></Tagging>", 400),
                        (b'<Tagging xmlns="http://s3.amazonaws.com/doc/2006-03-01/"/>', 400),
                        (b"<Tagging><TagSet/></Tagging>", 200)]:
        md5 = base64.b64encode(hashlib.md5(doc).digest()).decode()
        url, headers = signed_request(server, "PUT", f"/{bucket}/t?tagging", doc,
                                      headers={"Content-MD5": md5})
        r = send("PUT", url, headers, doc)
        assert r.status_code == status, (doc, r.text)
        if status == 400:
            assert error_code(r) == "MalformedXML"
            assert s3.get_object_tagging(Bucket=bucket, Key="t")["TagSet"] == [
                {"Key": "a", "Value": "1"}]
    assert s3.get_object_tagging(Bucket=bucket, Key="t")["TagSet"] == []
