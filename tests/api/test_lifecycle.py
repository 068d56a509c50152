"""Bucket lifecycle through boto3: the configuration's round trip and S3's refusals, the
x-amz-expiration header, and rules carried out by the background worker (a lifecycle day
is 1 second here: --lifecycle-day-seconds 1)."""
import base64
import datetime
import hashlib
import os
import re
import subprocess
import sys
import time

import pytest
from botocore.exceptions import ClientError

from tests.support import (ROOT_PASSWORD, ROOT_USER, ServerProcess, send, signed_request,
                           unique_bucket)

DAY = 1.0


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("lifecycle")
    s = ServerProcess(str(tmp / "data"), str(tmp),
                      extra_args=["--lifecycle-day-seconds", str(DAY)]).start()
    yield s
    s.stop()


@pytest.fixture(scope="module")
def c(srv):
    return srv.client()


@pytest.fixture
def b(c):
    name = unique_bucket("lc")
    c.create_bucket(Bucket=name)
    return name


def put_rules(c, bucket, rules):
    return c.put_bucket_lifecycle_configuration(Bucket=bucket,
                                                LifecycleConfiguration={"Rules": rules})


def code_of(call, *args, **kw) -> tuple[int, str]:
    with pytest.raises(ClientError) as e:
        call(*args, **kw)
    return e.value.response["ResponseMetadata"]["HTTPStatusCode"], \
        e.value.response["Error"]["Code"]


def keys(c, bucket) -> list[str]:
    return [o["Key"] for o in c.list_objects_v2(Bucket=bucket).get("Contents", [])]


def wait_for(predicate, seconds: float = 5.0):
    deadline = time.time() + seconds
    while time.time() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return predicate()


# ---- configuration ----

def test_get_without_configuration_and_delete(c, b):
    assert code_of(c.get_bucket_lifecycle_configuration, Bucket=b) == \
        (404, "NoSuchLifecycleConfiguration")
    assert c.delete_bucket_lifecycle(Bucket=b)["ResponseMetadata"]["HTTPStatusCode"] == 204
    put_rules(c, b, [{"ID": "r", "Expiration": {"Days": 3}, "Prefix": "x/",
                      "Status": "Enabled"}])
    c.delete_bucket_lifecycle(Bucket=b)
    assert code_of(c.get_bucket_lifecycle_configuration, Bucket=b)[1] == \
        "NoSuchLifecycleConfiguration"


def test_configuration_reads_back_as_written(c, b):
    rules = [
        {"ID": "legacy", "Expiration": {"Days": 31}, "Prefix": "test1/", "Status": "Enabled"},
        {"ID": "and", "Filter": {"And": {"Prefix": "p/", "Tags": [{"Key": "k", "Value": "v"}],
                                         "ObjectSizeGreaterThan": 10}},
         "Status": "Disabled", "NoncurrentVersionExpiration": {"NoncurrentDays": 4,
                                                               "NewerNoncurrentVersions": 2}},
        {"ID": "tag", "Filter": {"Tag": {"Key": "a", "Value": "b"}}, "Status": "Enabled",
         "Expiration": {"Date": datetime.datetime(2030, 1, 1,
                                                  tzinfo=datetime.timezone.utc)},
         "Transitions": [{"Date": datetime.datetime(2029, 1, 1,
                                                    tzinfo=datetime.timezone.utc),
                          "StorageClass": "GLACIER"}]},
        {"ID": "mpu", "Filter": {"Prefix": ""}, "Status": "Enabled",
         "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 2},
         "Expiration": {"ExpiredObjectDeleteMarker": True},
         "NoncurrentVersionTransitions": [{"NoncurrentDays": 1, "StorageClass": "GLACIER"}],
         "NoncurrentVersionExpiration": {"NoncurrentDays": 5}},
    ]
    put = put_rules(c, b, rules)
    assert put["TransitionDefaultMinimumObjectSize"] == "all_storage_classes_128K"
    got = c.get_bucket_lifecycle_configuration(Bucket=b)["Rules"]
    assert got == rules


def test_rules_without_id_get_one(c, b):
    put_rules(c, b, [{"Expiration": {"Days": 31}, "Prefix": "a/", "Status": "Enabled"},
                     {"Expiration": {"Days": 9}, "Prefix": "b/", "Status": "Enabled"}])
    got = c.get_bucket_lifecycle_configuration(Bucket=b)["Rules"]
    assert len({r["ID"] for r in got}) == 2


@pytest.mark.parametrize("rules, expected", [
    ([{"ID": "a" * 256, "Expiration": {"Days": 2}, "Prefix": "", "Status": "Enabled"}],
     "InvalidArgument"),
    ([{"ID": "r", "Expiration": {"Days": 1}, "Prefix": "a", "Status": "Enabled"},
      {"ID": "r", "Expiration": {"Days": 2}, "Prefix": "b", "Status": "Enabled"}],
     "InvalidArgument"),
    ([{"ID": "r", "Expiration": {"Days": 2}, "Prefix": "", "Status": "enabled"}],
     "MalformedXML"),
    ([{"ID": "r", "Expiration": {"Days": 0}, "Prefix": "", "Status": "Enabled"}],
     "InvalidArgument"),
    ([{"ID": "r", "Expiration": {"Date": "2017-09-27T12:00:00Z"}, "Prefix": "",
       "Status": "Enabled"}], "InvalidArgument"),
    ([{"ID": "r", "Expiration": {"Days": 1, "ExpiredObjectDeleteMarker": True}, "Prefix": "",
       "Status": "Enabled"}], "MalformedXML"),
    ([{"ID": "r", "Expiration": {"Days": 1}, "Status": "Enabled"}], "MalformedXML"),
    ([{"ID": "r", "Expiration": {"Days": 1}, "Prefix": "", "Filter": {"Prefix": ""},
       "Status": "Enabled"}], "MalformedXML"),
    ([{"ID": "r", "Expiration": {"Days": 1}, "Status": "Enabled",
       "Filter": {"Prefix": "a", "Tag": {"Key": "k", "Value": "v"}}}], "MalformedXML"),
    ([{"ID": "r", "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1},
       "Status": "Enabled", "Filter": {"Tag": {"Key": "k", "Value": "v"}}}],
     "InvalidRequest"),
    ([{"ID": "r", "Status": "Enabled", "Filter": {"And": {"Prefix": "a", "Tags": [
        {"Key": "k", "Value": "1"}, {"Key": "k", "Value": "2"}]}},
       "Expiration": {"Days": 1}}], "InvalidRequest"),
    ([{"ID": "r", "Status": "Enabled", "Prefix": ""}], "InvalidRequest"),
    ([{"ID": "r", "Status": "Enabled", "Prefix": "",
       "Transitions": [{"Days": 1, "StorageClass": "STANDARD"}]}], "MalformedXML"),
])
def test_refused_configurations(c, b, rules, expected):
    assert code_of(put_rules, c, b, rules) == (400, expected)
    assert code_of(c.get_bucket_lifecycle_configuration, Bucket=b)[0] == 404


def test_legacy_put_bucket_lifecycle_status_is_checked(c, b):
    rules = [{"ID": "r", "Expiration": {"Days": 2}, "Prefix": "x", "Status": "disabled"}]
    assert code_of(c.put_bucket_lifecycle, Bucket=b,
                   LifecycleConfiguration={"Rules": rules}) == (400, "MalformedXML")


def test_a_digest_is_required(srv, b):
    body = (b'<LifecycleConfiguration><Rule><ID>r</ID><Prefix></Prefix><Status>Enabled'
            b'</Status><Expiration><Days>1</Days></Expiration></Rule></LifecycleConfiguration>')
    url, headers = signed_request(srv, "PUT", f"/{b}?lifecycle", body)
    r = send("PUT", url, headers, body)
    assert r.status_code == 400 and b"Content-MD5" in r.content
    md5 = base64.b64encode(hashlib.md5(body).digest()).decode()
    url, headers = signed_request(srv, "PUT", f"/{b}?lifecycle", body, {"Content-MD5": md5})
    assert send("PUT", url, headers, body).status_code == 200


# ---- x-amz-expiration ----

def _expiry(headers) -> tuple[datetime.datetime, str] | None:
    value = headers.get("x-amz-expiration")
    if value is None:
        return None
    m = re.fullmatch(r'expiry-date="(.+)", rule-id="(.+)"', value)
    when = datetime.datetime.strptime(m.group(1), "%a, %d %b %Y %H:%M:%S GMT")
    return when, m.group(2)


def test_expiration_header_on_put_get_head_copy(c, b):
    put_rules(c, b, [{"ID": "far", "Expiration": {"Days": 1000}, "Prefix": "d/",
                      "Status": "Enabled"},
                     {"ID": "tagged", "Filter": {"Tag": {"Key": "t", "Value": "1"}},
                      "Expiration": {"Days": 900}, "Status": "Enabled"}])
    now = datetime.datetime.utcnow()
    up = c.create_multipart_upload(Bucket=b, Key="d/mpu")["UploadId"]
    etag = c.upload_part(Bucket=b, Key="d/mpu", UploadId=up, PartNumber=1, Body=b"p")["ETag"]
    done = c.complete_multipart_upload(Bucket=b, Key="d/mpu", UploadId=up, MultipartUpload={
        "Parts": [{"PartNumber": 1, "ETag": etag}]})
    assert done["Expiration"].endswith('rule-id="far"')
    for resp in (c.put_object(Bucket=b, Key="d/k", Body=b"x"),
                 c.head_object(Bucket=b, Key="d/k"), c.get_object(Bucket=b, Key="d/k"),
                 c.copy_object(Bucket=b, Key="d/copy", CopySource={"Bucket": b,
                                                                   "Key": "d/k"})):
        when, rule_id = _expiry(resp["ResponseMetadata"]["HTTPHeaders"])
        assert rule_id == "far" and (when - now).days == 1000
        assert when.time() == datetime.time(0)
    c.put_object(Bucket=b, Key="other", Body=b"x")
    assert _expiry(c.head_object(Bucket=b, Key="other")["ResponseMetadata"]
                   ["HTTPHeaders"]) is None
    c.put_object_tagging(Bucket=b, Key="other", Tagging={"TagSet": [{"Key": "t",
                                                                     "Value": "1"}]})
    _, rule_id = _expiry(c.head_object(Bucket=b, Key="other")["ResponseMetadata"]
                         ["HTTPHeaders"])
    assert rule_id == "tagged"


# ---- the worker ----

def _metric(srv, name: str) -> float:
    url, headers = signed_request(srv, "GET", "/_metrics")
    text = send("GET", url, headers).text
    return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
               if line.startswith(name))


def test_objects_expire_by_prefix(srv, c, b):
    before = _metric(srv, 's3ish_lifecycle_expired_total{kind="current"}')
    for k in ("expire/a", "expire/b", "keep/a"):
        c.put_object(Bucket=b, Key=k, Body=b"data")
    put_rules(c, b, [{"ID": "r", "Expiration": {"Days": 1}, "Prefix": "expire/",
                      "Status": "Enabled"}])
    assert wait_for(lambda: keys(c, b) == ["keep/a"])
    assert _metric(srv, 's3ish_lifecycle_expired_total{kind="current"}') == before + 2
    assert wait_for(lambda: _metric(srv, "s3ish_lifecycle_due") == 0)


def test_size_filter_selects_objects(c, b):
    c.put_object(Bucket=b, Key="small", Body=b"s" * 100)
    c.put_object(Bucket=b, Key="big", Body=b"b" * 3000)
    put_rules(c, b, [{"ID": "r", "Expiration": {"Days": 1}, "Status": "Enabled",
                      "Filter": {"ObjectSizeGreaterThan": 2000}}])
    assert wait_for(lambda: keys(c, b) == ["small"])


def test_abort_date_headers(c, b):
    put_rules(c, b, [{"ID": "mpu", "Prefix": "tmp/", "Status": "Enabled",
                      "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 7}}])
    now = datetime.datetime.now(datetime.timezone.utc)
    up = c.create_multipart_upload(Bucket=b, Key="tmp/x")
    assert up["AbortRuleId"] == "mpu" and (up["AbortDate"] - now).days == 7
    parts = c.list_parts(Bucket=b, Key="tmp/x", UploadId=up["UploadId"])
    assert parts["AbortRuleId"] == "mpu" and parts["AbortDate"] == up["AbortDate"]
    other = c.create_multipart_upload(Bucket=b, Key="keep/x")
    assert "AbortDate" not in other and "AbortRuleId" not in other
    for u in (up, other):
        c.abort_multipart_upload(Bucket=b, Key=u["Key"], UploadId=u["UploadId"])


def test_incomplete_uploads_are_aborted(c, b):
    doomed = c.create_multipart_upload(Bucket=b, Key="tmp/x")["UploadId"]
    kept = c.create_multipart_upload(Bucket=b, Key="keep/x")["UploadId"]
    put_rules(c, b, [{"ID": "r", "Prefix": "tmp/", "Status": "Enabled",
                      "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1}}])

    def uploads():
        return [u["UploadId"] for u in c.list_multipart_uploads(Bucket=b).get("Uploads", [])]
    assert wait_for(lambda: uploads() == [kept])
    assert doomed not in uploads()
    c.abort_multipart_upload(Bucket=b, Key="keep/x", UploadId=kept)


def test_disabled_rules_do_nothing_and_admin_runs_a_pass(srv, c, b):
    c.put_object(Bucket=b, Key="k", Body=b"x")
    put_rules(c, b, [{"ID": "r", "Expiration": {"Days": 1}, "Prefix": "",
                      "Status": "Disabled"}])
    time.sleep(1.5)
    url, headers = signed_request(srv, "POST", "/_admin/lifecycle")
    r = send("POST", url, headers)
    assert r.status_code == 200, r.text
    assert r.json()["lifecycle"]["expired"] == 0
    assert keys(c, b) == ["k"]
    env = {**os.environ, "S3ISH_ROOT_USER": ROOT_USER, "S3ISH_ROOT_PASSWORD": ROOT_PASSWORD}
    run = subprocess.run([sys.executable, "-m", "s3ish", "admin", "--endpoint", srv.endpoint,
                          "lifecycle", "run"], env=env, capture_output=True, text=True,
                         timeout=60)
    assert run.returncode == 0, run.stderr
    assert re.search(r"^expired +0$", run.stdout, re.M), run.stdout


def versions(c, bucket) -> tuple[list[str], list[str]]:
    r = c.list_object_versions(Bucket=bucket)
    return ([v["VersionId"] for v in r.get("Versions", [])],
            [m["VersionId"] for m in r.get("DeleteMarkers", [])])


def test_noncurrent_versions_expire_keeping_the_newest(c, b):
    c.put_bucket_versioning(Bucket=b, VersioningConfiguration={"Status": "Enabled"})
    ids = [c.put_object(Bucket=b, Key="k", Body=b"v%d" % i)["VersionId"] for i in range(6)]
    put_rules(c, b, [{"ID": "r", "Filter": {"Prefix": ""}, "Status": "Enabled",
                      "NoncurrentVersionExpiration": {"NoncurrentDays": 1,
                                                      "NewerNoncurrentVersions": 2}}])
    # The current one and the two newest noncurrent ones stay.
    assert wait_for(lambda: versions(c, b)[0] == ids[:2:-1])


def test_expiration_in_versioned_bucket_then_lone_marker_removed(c, b):
    c.put_bucket_versioning(Bucket=b, VersioningConfiguration={"Status": "Enabled"})
    c.put_object(Bucket=b, Key="k", Body=b"x")
    put_rules(c, b, [{"ID": "cur", "Prefix": "", "Status": "Enabled",
                      "Expiration": {"Days": 1}},
                     {"ID": "old", "Prefix": "", "Status": "Enabled",
                      "NoncurrentVersionExpiration": {"NoncurrentDays": 2}},
                     {"ID": "dm", "Prefix": "", "Status": "Enabled",
                      "Expiration": {"ExpiredObjectDeleteMarker": True}}])
    # Day 1: a delete marker hides the object; day 3: the old version goes, then the marker.
    assert wait_for(lambda: len(versions(c, b)[1]) == 1)
    assert len(versions(c, b)[0]) == 1
    assert wait_for(lambda: versions(c, b) == ([], []), 6)


def test_a_locked_version_is_not_expired(c):
    name = unique_bucket("lock")
    c.create_bucket(Bucket=name, ObjectLockEnabledForBucket=True)
    until = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=1)
    locked = c.put_object(Bucket=name, Key="k", Body=b"old", ObjectLockMode="GOVERNANCE",
                          ObjectLockRetainUntilDate=until)["VersionId"]
    free = c.put_object(Bucket=name, Key="k", Body=b"older")["VersionId"]
    c.put_object(Bucket=name, Key="k", Body=b"new")
    put_rules(c, name, [{"ID": "r", "Prefix": "", "Status": "Enabled",
                         "NoncurrentVersionExpiration": {"NoncurrentDays": 1}}])
    assert wait_for(lambda: free not in versions(c, name)[0])
    time.sleep(1.5)
    assert locked in versions(c, name)[0]
    c.delete_object(Bucket=name, Key="k", VersionId=locked, BypassGovernanceRetention=True)
