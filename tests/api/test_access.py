"""Authorization through the real server: two users and anonymous requests for every operation
class, bucket policies (API round trip, errors, status), the public access block."""
import json
import uuid

import boto3
import botocore
import pytest
import requests
from botocore.config import Config as BotoConfig

from tests.conftest import empty_bucket
from tests.support import ALT_PASSWORD, ALT_USER, error_code, unique_bucket


@pytest.fixture(scope="module")
def alt(server):
    return server.client(ALT_USER, ALT_PASSWORD)


@pytest.fixture(scope="module")
def anon(server):
    return boto3.client("s3", endpoint_url=server.endpoint, region_name="us-east-1",
                        config=BotoConfig(signature_version=botocore.UNSIGNED,
                                          s3={"addressing_style": "path"},
                                          retries={"max_attempts": 1}))


def _code(call, *args, **kwargs) -> str:
    with pytest.raises(botocore.exceptions.ClientError) as e:
        call(*args, **kwargs)
    return e.value.response["Error"]["Code"]


def _policy(bucket, *statements):
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def _allow(actions, resource, principal="*", **extra):
    return {"Effect": "Allow", "Principal": principal, "Action": actions,
            "Resource": resource, **extra}


def _deny(actions, resource, principal="*", **extra):
    return {"Effect": "Deny", "Principal": principal, "Action": actions,
            "Resource": resource, **extra}


def _alt_arn(alt) -> str:
    return f"arn:aws:iam::{alt.list_buckets()['Owner']['ID']}:root"


# ---- without a policy: the owner only ----

def test_other_user_and_anonymous_are_denied_every_operation_class(s3, alt, anon, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    calls = {
        "list": lambda c: c.list_objects_v2(Bucket=bucket),
        "read": lambda c: c.get_object(Bucket=bucket, Key="k"),
        "write": lambda c: c.put_object(Bucket=bucket, Key="new", Body=b"y"),
        "delete": lambda c: c.delete_object(Bucket=bucket, Key="k"),
        "bucket config": lambda c: c.get_bucket_versioning(Bucket=bucket),
        "tags": lambda c: c.get_object_tagging(Bucket=bucket, Key="k"),
        "multipart": lambda c: c.create_multipart_upload(Bucket=bucket, Key="mp"),
        "policy": lambda c: c.get_bucket_policy(Bucket=bucket),
        "delete bucket": lambda c: c.delete_bucket(Bucket=bucket),
    }
    for name, call in calls.items():
        for client in (alt, anon):
            assert _code(call, client) == "AccessDenied", name
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"x"
    assert "Contents" not in s3.list_objects_v2(Bucket=bucket, Prefix="new")


def test_anonymous_may_not_list_or_create_buckets(anon):
    assert _code(anon.list_buckets) == "AccessDenied"
    assert _code(anon.create_bucket, Bucket=unique_bucket()) == "AccessDenied"


def test_missing_bucket_is_404_for_everyone(alt, anon):
    missing = f"missing-{uuid.uuid4().hex[:8]}"
    for client in (alt, anon):
        assert _code(client.list_objects_v2, Bucket=missing) == "NoSuchBucket"


def test_root_administers_other_users_buckets(s3, alt):
    name = unique_bucket("alt")
    alt.create_bucket(Bucket=name)
    try:
        alt.put_object(Bucket=name, Key="k", Body=b"alt's")
        assert s3.get_object(Bucket=name, Key="k")["Body"].read() == b"alt's"
        s3.put_object(Bucket=name, Key="k2", Body=b"root's")
        # ListBuckets lists the caller's own buckets, root's too.
        assert name not in [b["Name"] for b in s3.list_buckets()["Buckets"]]
        assert name in [b["Name"] for b in alt.list_buckets()["Buckets"]]
    finally:
        empty_bucket(alt, name)
        alt.delete_bucket(Bucket=name)


def test_expected_bucket_owner(s3, alt, bucket):
    owner = s3.list_buckets()["Owner"]["ID"]
    s3.put_object(Bucket=bucket, Key="k", Body=b"x", ExpectedBucketOwner=owner)
    assert _code(s3.get_object, Bucket=bucket, Key="k",
                 ExpectedBucketOwner="1" * 64) == "AccessDenied"
    other = unique_bucket("alt")
    alt.create_bucket(Bucket=other)
    try:
        assert _code(s3.copy_object, Bucket=bucket, Key="c",
                     CopySource={"Bucket": other, "Key": "nothing"},
                     ExpectedSourceBucketOwner=owner) == "AccessDenied"
    finally:
        alt.delete_bucket(Bucket=other)


# ---- bucket policies ----

def test_policy_round_trip_and_errors(s3, bucket):
    assert _code(s3.get_bucket_policy, Bucket=bucket) == "NoSuchBucketPolicy"
    doc = _policy(bucket, _allow("s3:GetObject", f"arn:aws:s3:::{bucket}/*"))
    s3.put_bucket_policy(Bucket=bucket, Policy=doc)
    assert s3.get_bucket_policy(Bucket=bucket)["Policy"] == doc
    for bad, message in [
            ("not json", "Policies must be valid JSON and the first byte must be '{'"),
            ('{"Statement": []}', "Could not parse the policy: Statement is not well "
                                  "formatted."),
            (_policy(bucket, _allow("s3:GetObject", "arn:aws:s3:::other-bucket/*")),
             "Policy has invalid resource"),
            (_policy(bucket, _allow("s3:Fly", f"arn:aws:s3:::{bucket}/*")),
             "Policy has invalid action")]:
        with pytest.raises(botocore.exceptions.ClientError) as e:
            s3.put_bucket_policy(Bucket=bucket, Policy=bad)
        err = e.value.response["Error"]
        assert (e.value.response["ResponseMetadata"]["HTTPStatusCode"], err["Code"],
                err["Message"]) == (400, "MalformedPolicy", message)
    assert s3.get_bucket_policy(Bucket=bucket)["Policy"] == doc      # left as it was
    s3.delete_bucket_policy(Bucket=bucket)
    assert _code(s3.get_bucket_policy, Bucket=bucket) == "NoSuchBucketPolicy"


def test_policy_status(s3, bucket):
    assert s3.get_bucket_policy_status(Bucket=bucket)["PolicyStatus"]["IsPublic"] is False
    s3.put_bucket_policy(Bucket=bucket, Policy=_policy(
        bucket, _allow("s3:GetObject", f"arn:aws:s3:::{bucket}/*")))
    assert s3.get_bucket_policy_status(Bucket=bucket)["PolicyStatus"]["IsPublic"] is True
    s3.put_bucket_policy(Bucket=bucket, Policy=_policy(
        bucket, _allow("s3:GetObject", f"arn:aws:s3:::{bucket}/*",
                       Condition={"IpAddress": {"aws:SourceIp": "127.0.0.1/32"}})))
    assert s3.get_bucket_policy_status(Bucket=bucket)["PolicyStatus"]["IsPublic"] is False


def test_public_read_policy_opens_reads_only(s3, alt, anon, bucket):
    s3.put_object(Bucket=bucket, Key="pub/k", Body=b"hello")
    s3.put_object(Bucket=bucket, Key="priv/k", Body=b"secret")
    s3.put_bucket_policy(Bucket=bucket, Policy=_policy(
        bucket, _allow("s3:GetObject", f"arn:aws:s3:::{bucket}/pub/*")))
    for client in (alt, anon):
        assert client.get_object(Bucket=bucket, Key="pub/k")["Body"].read() == b"hello"
        assert client.head_object(Bucket=bucket, Key="pub/k")["ContentLength"] == 5
        assert _code(client.get_object, Bucket=bucket, Key="priv/k") == "AccessDenied"
        assert _code(client.list_objects_v2, Bucket=bucket) == "AccessDenied"
        assert _code(client.put_object, Bucket=bucket, Key="pub/x", Body=b"") == \
            "AccessDenied"
        assert _code(client.delete_object, Bucket=bucket, Key="pub/k") == "AccessDenied"
        assert _code(client.get_bucket_policy, Bucket=bucket) == "AccessDenied"
    # A plain HTTP GET, as a browser or curl would send it.
    r = requests.get(f"{s3.meta.endpoint_url}/{bucket}/pub/k", timeout=10)
    assert r.status_code == 200 and r.content == b"hello"


def test_policy_for_one_user_with_conditions(s3, alt, anon, bucket):
    s3.put_object(Bucket=bucket, Key="home/a", Body=b"a")
    s3.put_bucket_policy(Bucket=bucket, Policy=_policy(
        bucket,
        _allow("s3:ListBucket", f"arn:aws:s3:::{bucket}", {"AWS": _alt_arn(alt)},
               Condition={"StringLike": {"s3:prefix": "home/*"}}),
        _allow(["s3:PutObject", "s3:DeleteObject"], f"arn:aws:s3:::{bucket}/home/*",
               {"AWS": _alt_arn(alt)})))
    assert [o["Key"] for o in alt.list_objects_v2(Bucket=bucket, Prefix="home/")
            ["Contents"]] == ["home/a"]
    assert _code(alt.list_objects_v2, Bucket=bucket) == "AccessDenied"
    assert _code(anon.list_objects_v2, Bucket=bucket, Prefix="home/") == "AccessDenied"
    alt.put_object(Bucket=bucket, Key="home/b", Body=b"b")
    assert _code(alt.put_object, Bucket=bucket, Key="other", Body=b"") == "AccessDenied"
    alt.delete_object(Bucket=bucket, Key="home/b")


def test_explicit_deny_binds_the_owner_but_not_roots_policy_access(s3, bucket):
    s3.put_bucket_policy(Bucket=bucket, Policy=_policy(
        bucket, _deny(["s3:PutObject", "s3:GetBucketPolicy"], [
            f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/locked/*"])))
    assert _code(s3.put_object, Bucket=bucket, Key="locked/k", Body=b"") == "AccessDenied"
    s3.put_object(Bucket=bucket, Key="open/k", Body=b"")
    # Root keeps access to the policy itself, so it can never lock itself out.
    assert "Deny" in s3.get_bucket_policy(Bucket=bucket)["Policy"]
    s3.delete_bucket_policy(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="locked/k", Body=b"")


def test_existing_object_tag_condition(s3, alt, bucket):
    s3.put_object(Bucket=bucket, Key="pub", Body=b"p", Tagging="security=public")
    s3.put_object(Bucket=bucket, Key="priv", Body=b"s", Tagging="security=private")
    s3.put_bucket_policy(Bucket=bucket, Policy=_policy(
        bucket, _allow("s3:GetObject", f"arn:aws:s3:::{bucket}/*",
                       Condition={"StringEquals": {"s3:ExistingObjectTag/security":
                                                   "public"}})))
    assert alt.get_object(Bucket=bucket, Key="pub")["Body"].read() == b"p"
    assert _code(alt.get_object, Bucket=bucket, Key="priv") == "AccessDenied"
    assert _code(alt.get_object, Bucket=bucket, Key="missing") == "AccessDenied"


def test_copy_source_is_authorized(s3, alt, bucket):
    s3.put_object(Bucket=bucket, Key="pub/k", Body=b"shared")
    s3.put_object(Bucket=bucket, Key="priv/k", Body=b"secret")
    s3.put_bucket_policy(Bucket=bucket, Policy=_policy(
        bucket, _allow("s3:GetObject", f"arn:aws:s3:::{bucket}/pub/*")))
    own = unique_bucket("alt")
    alt.create_bucket(Bucket=own)
    try:
        alt.copy_object(Bucket=own, Key="c", CopySource={"Bucket": bucket, "Key": "pub/k"})
        assert alt.get_object(Bucket=own, Key="c")["Body"].read() == b"shared"
        assert _code(alt.copy_object, Bucket=own, Key="d",
                     CopySource={"Bucket": bucket, "Key": "priv/k"}) == "AccessDenied"
        up = alt.create_multipart_upload(Bucket=own, Key="mp")["UploadId"]
        assert _code(alt.upload_part_copy, Bucket=own, Key="mp", UploadId=up, PartNumber=1,
                     CopySource={"Bucket": bucket, "Key": "priv/k"}) == "AccessDenied"
        alt.upload_part_copy(Bucket=own, Key="mp", UploadId=up, PartNumber=1,
                             CopySource={"Bucket": bucket, "Key": "pub/k"})
        alt.abort_multipart_upload(Bucket=own, Key="mp", UploadId=up)
    finally:
        empty_bucket(alt, own)
        alt.delete_bucket(Bucket=own)


def test_delete_objects_authorizes_each_key(s3, alt, bucket):
    for k in ("tmp/a", "keep/b"):
        s3.put_object(Bucket=bucket, Key=k, Body=b"")
    s3.put_bucket_policy(Bucket=bucket, Policy=_policy(
        bucket, _allow("s3:DeleteObject", f"arn:aws:s3:::{bucket}/tmp/*",
                       {"AWS": _alt_arn(alt)})))
    r = alt.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "tmp/a"},
                                                              {"Key": "keep/b"}]})
    assert [d["Key"] for d in r["Deleted"]] == ["tmp/a"]
    assert [(e["Key"], e["Code"]) for e in r["Errors"]] == [("keep/b", "AccessDenied")]
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]] == ["keep/b"]


def test_post_object_is_authorized(server, s3, alt, bucket):
    form = alt.generate_presigned_post(bucket, "up/${filename}")
    r = requests.post(form["url"], data=form["fields"], files={"file": ("f.txt", b"hi")},
                      timeout=10)
    assert r.status_code == 403 and error_code(r) == "AccessDenied"
    s3.put_bucket_policy(Bucket=bucket, Policy=_policy(
        bucket, _allow("s3:PutObject", f"arn:aws:s3:::{bucket}/up/*",
                       {"AWS": _alt_arn(alt)})))
    r = requests.post(form["url"], data=form["fields"], files={"file": ("f.txt", b"hi")},
                      timeout=10)
    assert r.status_code == 204
    assert s3.get_object(Bucket=bucket, Key="up/f.txt")["Body"].read() == b"hi"
    # An anonymous form (no policy, no signature) needs the bucket to let everyone write.
    url = f"{server.endpoint}/{bucket}"
    r = requests.post(url, data={"key": "up/anon"}, files={"file": ("f", b"a")}, timeout=10)
    assert r.status_code == 403 and error_code(r) == "AccessDenied"
    s3.put_bucket_policy(Bucket=bucket, Policy=_policy(
        bucket, _allow("s3:PutObject", f"arn:aws:s3:::{bucket}/up/*")))
    r = requests.post(url, data={"key": "up/anon"}, files={"file": ("f", b"a")}, timeout=10)
    assert r.status_code == 204
    assert s3.get_object(Bucket=bucket, Key="up/anon")["Body"].read() == b"a"


def test_anonymous_write_by_policy_is_owned_by_the_bucket_owner(s3, anon, bucket):
    s3.put_bucket_policy(Bucket=bucket, Policy=_policy(
        bucket, _allow(["s3:PutObject", "s3:ListBucket"],
                       [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"])))
    anon.put_object(Bucket=bucket, Key="drop", Body=b"x")
    owner = s3.list_buckets()["Owner"]["ID"]
    listed = anon.list_objects_v2(Bucket=bucket, FetchOwner=True)["Contents"]
    assert [(o["Key"], o["Owner"]["ID"]) for o in listed] == [("drop", owner)]


# ---- public access block ----

def test_public_access_block_round_trip(s3, bucket):
    assert _code(s3.get_public_access_block, Bucket=bucket) == \
        "NoSuchPublicAccessBlockConfiguration"
    conf = {"BlockPublicAcls": True, "IgnorePublicAcls": False, "BlockPublicPolicy": True,
            "RestrictPublicBuckets": False}
    s3.put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration=conf)
    assert s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"] == conf
    s3.delete_public_access_block(Bucket=bucket)
    assert _code(s3.get_public_access_block, Bucket=bucket) == \
        "NoSuchPublicAccessBlockConfiguration"


def test_block_public_policy(s3, alt, bucket):
    s3.put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration={
        "BlockPublicPolicy": True})
    public = _policy(bucket, _allow("s3:GetObject", f"arn:aws:s3:::{bucket}/*"))
    assert _code(s3.put_bucket_policy, Bucket=bucket, Policy=public) == "AccessDenied"
    assert _code(s3.get_bucket_policy, Bucket=bucket) == "NoSuchBucketPolicy"
    s3.put_bucket_policy(Bucket=bucket, Policy=_policy(
        bucket, _allow("s3:GetObject", f"arn:aws:s3:::{bucket}/*", {"AWS": _alt_arn(alt)})))


def test_restrict_public_buckets(s3, alt, anon, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    s3.put_bucket_policy(Bucket=bucket, Policy=_policy(
        bucket, _allow("s3:GetObject", f"arn:aws:s3:::{bucket}/*")))
    assert anon.get_object(Bucket=bucket, Key="k")["Body"].read() == b"x"
    s3.put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration={
        "RestrictPublicBuckets": True})
    assert _code(anon.get_object, Bucket=bucket, Key="k") == "AccessDenied"
    assert _code(alt.get_object, Bucket=bucket, Key="k") == "AccessDenied"
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"x"
    s3.delete_public_access_block(Bucket=bucket)
    assert anon.get_object(Bucket=bucket, Key="k")["Body"].read() == b"x"


def test_missing_key_is_404_only_to_who_may_list(s3, alt, bucket):
    assert _code(alt.head_object, Bucket=bucket, Key="public/none") == "403"
    s3.put_bucket_policy(Bucket=bucket, Policy=_policy(
        bucket, _allow("s3:ListBucket", f"arn:aws:s3:::{bucket}",
                       Condition={"StringLike": {"s3:prefix": "public/*"}})))
    assert _code(alt.head_object, Bucket=bucket, Key="public/none") == "404"
    assert _code(alt.get_object, Bucket=bucket, Key="public/none") == "NoSuchKey"
    assert _code(alt.head_object, Bucket=bucket, Key="private/none") == "403"


def test_governance_bypass_needs_its_own_permission(s3, alt, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"")
    s3.put_bucket_policy(Bucket=bucket, Policy=_policy(
        bucket, _allow(["s3:DeleteObject", "s3:DeleteObjectVersion"],
                       f"arn:aws:s3:::{bucket}/*", {"AWS": _alt_arn(alt)})))
    assert _code(alt.delete_object, Bucket=bucket, Key="k",
                 BypassGovernanceRetention=True) == "AccessDenied"
    r = alt.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "k"}]},
                           BypassGovernanceRetention=True)
    assert [(e["Key"], e["Code"]) for e in r["Errors"]] == [("k", "AccessDenied")]
    s3.delete_object(Bucket=bucket, Key="k", BypassGovernanceRetention=True)   # the owner may


def test_version_requests_need_the_version_action(s3, alt, bucket):
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    vid = s3.put_object(Bucket=bucket, Key="k", Body=b"v1")["VersionId"]
    s3.put_bucket_policy(Bucket=bucket, Policy=_policy(
        bucket, _allow("s3:GetObject", f"arn:aws:s3:::{bucket}/*")))
    assert alt.get_object(Bucket=bucket, Key="k")["Body"].read() == b"v1"
    assert _code(alt.get_object, Bucket=bucket, Key="k", VersionId=vid) == "AccessDenied"
    s3.put_bucket_policy(Bucket=bucket, Policy=_policy(
        bucket, _allow("s3:GetObjectVersion", f"arn:aws:s3:::{bucket}/*",
                       Condition={"StringEquals": {"s3:VersionId": vid}})))
    assert alt.get_object(Bucket=bucket, Key="k", VersionId=vid)["Body"].read() == b"v1"
    assert _code(alt.get_object, Bucket=bucket, Key="k") == "AccessDenied"
