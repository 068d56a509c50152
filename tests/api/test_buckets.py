"""Bucket operations: naming rules, ownership, location, emptiness."""
import uuid

import botocore.exceptions
import pytest

from tests.support import ALT_PASSWORD, ALT_USER, error_code, send, signed_request, unique_bucket


def _code(e) -> str:
    return e.value.response["Error"]["Code"]


def test_create_head_list_delete(s3):
    name = f"bkt-{uuid.uuid4().hex[:10]}"
    s3.create_bucket(Bucket=name)
    assert s3.head_bucket(Bucket=name)["ResponseMetadata"]["HTTPHeaders"][
        "x-amz-bucket-region"] == "us-east-1"
    listing = s3.list_buckets()
    assert name in [b["Name"] for b in listing["Buckets"]]
    assert listing["Owner"]["ID"]
    assert s3.get_bucket_location(Bucket=name)["LocationConstraint"] is None
    s3.delete_bucket(Bucket=name)
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.head_bucket(Bucket=name)
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404


def test_location_constraint(s3):
    name = f"loc-{uuid.uuid4().hex[:10]}"
    s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    assert s3.get_bucket_location(Bucket=name)["LocationConstraint"] == "eu-west-1"
    s3.delete_bucket(Bucket=name)
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.create_bucket(Bucket=name,
                         CreateBucketConfiguration={"LocationConstraint": "us-east-1"})
    assert _code(e) == "InvalidLocationConstraint"


def test_malformed_create_body(server):
    name = f"mx-{uuid.uuid4().hex[:10]}"
    url, headers = signed_request(server, "PUT", f"/{name}", b"<CreateBucketConfiguration>")
    r = send("PUT", url, headers, b"<CreateBucketConfiguration>")
    assert r.status_code == 400 and error_code(r) == "MalformedXML"


@pytest.mark.parametrize("name,why", [
    ("ab", "between 3 and 63 characters"), ("a" * 64, "between 3 and 63 characters"),
    ("UPPER", "'U' is not allowed"), ("under_score", "'_' is not allowed"),
    ("-dash", "begin and end with a letter or a number"),
    ("dash-", "begin and end with a letter or a number"),
    ("192.168.1.1", "IP address"), ("a..b", "two adjacent periods"),
    ("a.-b", "period next to a hyphen"), ("xn--punycode", "prefix xn--"),
    ("sthree-x", "prefix sthree-"), ("bad-s3alias", "suffix -s3alias"),
    ("x--ol-s3", "suffix --ol-s3")])
def test_invalid_bucket_names(s3, name, why):
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.create_bucket(Bucket=name)
    assert _code(e) == "InvalidBucketName"
    assert why in e.value.response["Error"]["Message"]      # it says which rule is broken
    assert e.value.response["Error"]["BucketName"] == name


def test_already_owned_vs_exists(server, s3, bucket):
    # us-east-1 (the default region) answers success to the owner, as S3 does there.
    s3.put_object(Bucket=bucket, Key="kept", Body=b"x")
    assert s3.create_bucket(Bucket=bucket)["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert s3.get_object(Bucket=bucket, Key="kept")["Body"].read() == b"x"
    s3.delete_object(Bucket=bucket, Key="kept")
    other = unique_bucket()
    conf = {"LocationConstraint": "eu-west-1"}
    s3.create_bucket(Bucket=other, CreateBucketConfiguration=conf)
    try:
        with pytest.raises(botocore.exceptions.ClientError) as e:
            s3.create_bucket(Bucket=other, CreateBucketConfiguration=conf)
        assert _code(e) == "BucketAlreadyOwnedByYou"   # elsewhere: 409
    finally:
        s3.delete_bucket(Bucket=other)
    alt = server.client(ALT_USER, ALT_PASSWORD)
    with pytest.raises(botocore.exceptions.ClientError) as e:
        alt.create_bucket(Bucket=bucket)
    assert _code(e) == "BucketAlreadyExists"


def test_delete_non_empty_and_missing(s3, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.delete_bucket(Bucket=bucket)
    assert _code(e) == "BucketNotEmpty"
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.delete_bucket(Bucket=f"missing-{uuid.uuid4().hex[:8]}")
    assert _code(e) == "NoSuchBucket"


def test_no_such_bucket_on_object_ops(s3):
    missing = f"missing-{uuid.uuid4().hex[:8]}"
    for call in (lambda: s3.put_object(Bucket=missing, Key="k", Body=b"x"),
                 lambda: s3.get_object(Bucket=missing, Key="k"),
                 lambda: s3.list_objects_v2(Bucket=missing)):
        with pytest.raises(botocore.exceptions.ClientError) as e:
            call()
        assert _code(e) == "NoSuchBucket"


def test_error_xml_shape(server):
    missing = f"missing-{uuid.uuid4().hex[:8]}"
    url, headers = signed_request(server, "GET", f"/{missing}/some/key")
    r = send("GET", url, headers)
    assert r.status_code == 404
    import xml.etree.ElementTree as ET
    root = ET.fromstring(r.content)
    assert root.tag == "Error"
    assert root.findtext("Code") == "NoSuchBucket"
    assert root.findtext("Message") and root.findtext("Resource") == f"/{missing}/some/key"
    assert root.findtext("RequestId") == r.headers["x-amz-request-id"]


def test_get_bucket_versioning_is_unversioned(s3, bucket):
    assert "Status" not in s3.get_bucket_versioning(Bucket=bucket)


def test_health_and_ready(server):
    import requests
    assert requests.get(server.endpoint + "/_health").status_code == 200
    r = requests.get(server.endpoint + "/_ready")
    assert r.status_code == 200 and r.text.strip() == "ready"


def test_expected_bucket_owner(s3, bucket):
    owner = s3.list_buckets()["Owner"]["ID"]
    s3.put_object(Bucket=bucket, Key="k", Body=b"x", ExpectedBucketOwner=owner)
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.put_object(Bucket=bucket, Key="k2", Body=b"x", ExpectedBucketOwner="1" * 64)
    assert _code(e) == "AccessDenied"


def test_list_buckets_pagination_and_filters(server):
    from tests.support import ALT_PASSWORD, ALT_USER
    alt = server.client(ALT_USER, ALT_PASSWORD)
    tag = uuid.uuid4().hex[:6]
    names = [f"pg-{tag}-{i}" for i in range(5)]
    for n in names:
        alt.create_bucket(Bucket=n)
    alt.create_bucket(Bucket=f"other-{tag}",
                      CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    try:
        seen = []
        for page in alt.get_paginator("list_buckets").paginate(
                Prefix=f"pg-{tag}", PaginationConfig={"PageSize": 2}):
            seen += [b["Name"] for b in page["Buckets"]]
            assert len(page["Buckets"]) <= 2
        assert seen == names
        r = alt.list_buckets(BucketRegion="eu-west-1")
        assert [b["Name"] for b in r["Buckets"]] == [f"other-{tag}"]
        url, headers = signed_request(server, "GET", "/?max-buckets=0")
        r = send("GET", url, headers)
        assert r.status_code == 400 and error_code(r) == "InvalidArgument"
    finally:
        for n in names + [f"other-{tag}"]:
            alt.delete_bucket(Bucket=n)
