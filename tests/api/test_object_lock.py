"""Object lock through boto3: bucket configuration, object retention and legal hold, the
lock headers on writes and reads, deletes of locked versions (one by one, in batches, after a
restart). Status codes, error codes and messages as AWS answers them.

Locked versions cannot be removed, so these tests leave their buckets behind (the session
server's folder is temporary)."""
import base64
import datetime
import hashlib
import io

import botocore.exceptions
import pytest
import requests

from tests.support import ServerProcess, error_code, send, signed_request, unique_bucket

UTC = datetime.timezone.utc
FAR = datetime.datetime(2140, 1, 1, tzinfo=UTC)
FAR2 = datetime.datetime(2140, 1, 3, tzinfo=UTC)
GOV_1_DAY = {"ObjectLockEnabled": "Enabled",
             "Rule": {"DefaultRetention": {"Mode": "GOVERNANCE", "Days": 1}}}


def _err(e) -> tuple[int, str, str]:
    r = e.value.response
    return r["ResponseMetadata"]["HTTPStatusCode"], r["Error"]["Code"], r["Error"]["Message"]


@pytest.fixture
def locked(s3):
    name = unique_bucket("lock")
    s3.create_bucket(Bucket=name, ObjectLockEnabledForBucket=True)
    return name


def test_create_bucket_with_lock(s3, locked):
    assert s3.get_object_lock_configuration(Bucket=locked)["ObjectLockConfiguration"] == {
        "ObjectLockEnabled": "Enabled"}
    assert s3.put_object(Bucket=locked, Key="k", Body=b"x")["VersionId"] != "null"


def test_lock_configuration_roundtrip(s3, locked):
    s3.put_object_lock_configuration(Bucket=locked, ObjectLockConfiguration=GOV_1_DAY)
    assert s3.get_object_lock_configuration(Bucket=locked)[
        "ObjectLockConfiguration"] == GOV_1_DAY
    conf = {"ObjectLockEnabled": "Enabled",
            "Rule": {"DefaultRetention": {"Mode": "COMPLIANCE", "Years": 1}}}
    s3.put_object_lock_configuration(Bucket=locked, ObjectLockConfiguration=conf)
    assert s3.get_object_lock_configuration(Bucket=locked)["ObjectLockConfiguration"] == conf
    # Without a rule: object lock stays on, with no default retention.
    s3.put_object_lock_configuration(Bucket=locked,
                                     ObjectLockConfiguration={"ObjectLockEnabled": "Enabled"})
    assert s3.get_object_lock_configuration(Bucket=locked)["ObjectLockConfiguration"] == {
        "ObjectLockEnabled": "Enabled"}


@pytest.mark.parametrize("retention,expected", [
    ({"Mode": "GOVERNANCE", "Days": 1, "Years": 1}, "MalformedXML"),
    ({"Mode": "abc", "Years": 1}, "MalformedXML"),
    ({"Mode": "governance", "Years": 1}, "MalformedXML"),
    ({"Days": 1}, "MalformedXML"),
    ({"Mode": "GOVERNANCE"}, "MalformedXML"),
    ({"Mode": "GOVERNANCE", "Days": 0}, "Default retention period must be a positive"),
    ({"Mode": "GOVERNANCE", "Years": -1}, "Default retention period must be a positive"),
    ({"Mode": "GOVERNANCE", "Days": 36501}, "Default retention period too large."),
    ({"Mode": "COMPLIANCE", "Years": 101}, "Default retention period too large."),
])
def test_lock_configuration_errors(s3, locked, retention, expected):
    conf = {"ObjectLockEnabled": "Enabled", "Rule": {"DefaultRetention": retention}}
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.put_object_lock_configuration(Bucket=locked, ObjectLockConfiguration=conf)
    status, code, message = _err(e)
    if expected == "MalformedXML":
        assert (status, code) == (400, "MalformedXML")
    else:
        # AWS: InvalidArgument naming the field (Ceph's RGW says InvalidRetentionPeriod).
        assert (status, code) == (400, "InvalidArgument") and message.startswith(expected)
        assert e.value.response["Error"]["ArgumentName"] in ("Days", "Years")
    assert s3.get_object_lock_configuration(Bucket=locked)["ObjectLockConfiguration"] == {
        "ObjectLockEnabled": "Enabled"}


def test_lock_cannot_be_disabled(s3, locked):
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.put_object_lock_configuration(Bucket=locked, ObjectLockConfiguration={
            "ObjectLockEnabled": "Disabled", "Rule": GOV_1_DAY["Rule"]})
    assert _err(e)[:2] == (400, "MalformedXML")


def test_lock_configuration_on_unversioned_bucket(s3, bucket):
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.get_object_lock_configuration(Bucket=bucket)
    assert _err(e)[:2] == (404, "ObjectLockConfigurationNotFoundError")
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.put_object_lock_configuration(Bucket=bucket, ObjectLockConfiguration=GOV_1_DAY)
    assert _err(e)[:2] == (409, "InvalidBucketState")


def test_lock_configuration_needs_a_digest(server, locked):
    body = (b'<ObjectLockConfiguration><ObjectLockEnabled>Enabled</ObjectLockEnabled>'
            b'</ObjectLockConfiguration>')
    url, h = signed_request(server, "PUT", f"/{locked}?object-lock", body)
    r = send("PUT", url, h, body)
    assert r.status_code == 400 and error_code(r) == "InvalidRequest"


def test_retention_roundtrip_and_changes(s3, locked):
    vid = s3.put_object(Bucket=locked, Key="k", Body=b"abc")["VersionId"]
    retention = {"Mode": "GOVERNANCE", "RetainUntilDate": FAR}
    s3.put_object_retention(Bucket=locked, Key="k", Retention=retention)
    assert s3.get_object_retention(Bucket=locked, Key="k")["Retention"] == retention
    assert s3.get_object_retention(Bucket=locked, Key="k", VersionId=vid)[
        "Retention"] == retention
    longer = {"Mode": "GOVERNANCE", "RetainUntilDate": FAR2}
    s3.put_object_retention(Bucket=locked, Key="k", Retention=longer)
    for change in [retention, {"Mode": "COMPLIANCE", "RetainUntilDate": FAR2}]:
        with pytest.raises(botocore.exceptions.ClientError) as e:
            s3.put_object_retention(Bucket=locked, Key="k", Retention=change)
        assert _err(e) == (403, "AccessDenied",
                           "Access Denied because object protected by object lock.")
    s3.put_object_retention(Bucket=locked, Key="k", Retention=retention,
                            BypassGovernanceRetention=True)
    assert s3.get_object_retention(Bucket=locked, Key="k")["Retention"] == retention
    # An empty retention removes a GOVERNANCE one, with the bypass.
    s3.put_object_retention(Bucket=locked, Key="k", Retention={},
                            BypassGovernanceRetention=True)
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.get_object_retention(Bucket=locked, Key="k")
    assert _err(e)[:2] == (404, "NoSuchObjectLockConfiguration")


def test_compliance_cannot_be_weakened(s3, locked):
    until = datetime.datetime.now(UTC) + datetime.timedelta(seconds=30)
    s3.put_object(Bucket=locked, Key="k", Body=b"abc", ObjectLockMode="COMPLIANCE",
                  ObjectLockRetainUntilDate=until)
    for change in [{"Mode": "GOVERNANCE", "RetainUntilDate": until},
                   {"Mode": "COMPLIANCE", "RetainUntilDate": until - datetime.timedelta(
                       seconds=10)}, {}]:
        with pytest.raises(botocore.exceptions.ClientError) as e:
            s3.put_object_retention(Bucket=locked, Key="k", Retention=change,
                                    BypassGovernanceRetention=True)
        assert _err(e)[:2] == (403, "AccessDenied")
    s3.put_object_retention(Bucket=locked, Key="k",
                            Retention={"Mode": "COMPLIANCE", "RetainUntilDate": FAR})


def test_governance_to_compliance_needs_bypass(s3, locked):
    until = datetime.datetime.now(UTC) + datetime.timedelta(seconds=30)
    s3.put_object(Bucket=locked, Key="k", Body=b"abc", ObjectLockMode="GOVERNANCE",
                  ObjectLockRetainUntilDate=until)
    retention = {"Mode": "COMPLIANCE", "RetainUntilDate": until}
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.put_object_retention(Bucket=locked, Key="k", Retention=retention)
    assert _err(e)[:2] == (403, "AccessDenied")
    s3.put_object_retention(Bucket=locked, Key="k", Retention=retention,
                            BypassGovernanceRetention=True)


def test_retention_errors(s3, locked):
    s3.put_object(Bucket=locked, Key="k", Body=b"abc")
    for mode in ("governance", "abc"):
        with pytest.raises(botocore.exceptions.ClientError) as e:
            s3.put_object_retention(Bucket=locked, Key="k", Retention={
                "Mode": mode, "RetainUntilDate": FAR})
        assert _err(e)[:2] == (400, "MalformedXML")
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.put_object_retention(Bucket=locked, Key="k", Retention={
            "Mode": "GOVERNANCE", "RetainUntilDate": datetime.datetime(2020, 1, 1, tzinfo=UTC)})
    assert _err(e) == (400, "InvalidArgument", "The retain until date must be in the future!")
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.put_object_retention(Bucket=locked, Key="k", Retention={"Mode": "GOVERNANCE"})
    assert _err(e)[:2] == (400, "MalformedXML")
    for call in (s3.get_object_retention, s3.get_object_legal_hold):
        with pytest.raises(botocore.exceptions.ClientError) as e:
            call(Bucket=locked, Key="k")
        assert _err(e) == (404, "NoSuchObjectLockConfiguration",
                           "The specified object does not have a ObjectLock configuration")
        with pytest.raises(botocore.exceptions.ClientError) as e:
            call(Bucket=locked, Key="missing")
        assert _err(e)[:2] == (404, "NoSuchKey")


def test_lock_operations_on_bucket_without_lock(s3, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"abc")
    calls = [(s3.put_object_retention, {"Retention": {"Mode": "GOVERNANCE",
                                                      "RetainUntilDate": FAR}}),
             (s3.get_object_retention, {}),
             (s3.put_object_legal_hold, {"LegalHold": {"Status": "ON"}}),
             (s3.get_object_legal_hold, {})]
    for call, args in calls:
        with pytest.raises(botocore.exceptions.ClientError) as e:
            call(Bucket=bucket, Key="k", **args)
        assert _err(e) == (400, "InvalidRequest", "Bucket is missing Object Lock Configuration")


def test_legal_hold(s3, locked):
    vid = s3.put_object(Bucket=locked, Key="k", Body=b"abc")["VersionId"]
    s3.put_object_legal_hold(Bucket=locked, Key="k", LegalHold={"Status": "ON"})
    assert s3.get_object_legal_hold(Bucket=locked, Key="k")["LegalHold"] == {"Status": "ON"}
    for bypass in (False, True):
        with pytest.raises(botocore.exceptions.ClientError) as e:
            s3.delete_object(Bucket=locked, Key="k", VersionId=vid,
                             BypassGovernanceRetention=bypass)
        assert _err(e)[:2] == (403, "AccessDenied")
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.put_object_legal_hold(Bucket=locked, Key="k", LegalHold={"Status": "abc"})
    assert _err(e)[:2] == (400, "MalformedXML")
    s3.put_object_legal_hold(Bucket=locked, Key="k", VersionId=vid,
                             LegalHold={"Status": "OFF"})
    assert s3.get_object_legal_hold(Bucket=locked, Key="k")["LegalHold"] == {"Status": "OFF"}
    assert s3.head_object(Bucket=locked, Key="k")["ObjectLockLegalHoldStatus"] == "OFF"
    r = s3.delete_object(Bucket=locked, Key="k", VersionId=vid)
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 204 and r["VersionId"] == vid


def test_delete_with_retention(s3, locked):
    vid = s3.put_object(Bucket=locked, Key="k", Body=b"abc")["VersionId"]
    s3.put_object_retention(Bucket=locked, Key="k",
                            Retention={"Mode": "GOVERNANCE", "RetainUntilDate": FAR})
    marker = s3.delete_object(Bucket=locked, Key="k")    # a delete marker: allowed
    assert marker["DeleteMarker"] is True
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.delete_object(Bucket=locked, Key="k", VersionId=vid)
    assert _err(e) == (403, "AccessDenied",
                       "Access Denied because object protected by object lock.")
    s3.delete_object(Bucket=locked, Key="k", VersionId=marker["VersionId"])
    assert s3.get_object(Bucket=locked, Key="k")["Body"].read() == b"abc"
    r = s3.delete_object(Bucket=locked, Key="k", VersionId=vid, BypassGovernanceRetention=True)
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 204
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.head_object(Bucket=locked, Key="k")
    assert _err(e)[0] == 404


def test_delete_objects_respects_locks(s3, locked):
    v1 = s3.put_object(Bucket=locked, Key="k1", Body=b"abc")["VersionId"]
    v2 = s3.put_object(Bucket=locked, Key="k2", Body=b"abc")["VersionId"]
    v3 = s3.put_object(Bucket=locked, Key="k3", Body=b"abc", ObjectLockMode="COMPLIANCE",
                       ObjectLockRetainUntilDate=FAR)["VersionId"]
    s3.put_object_retention(Bucket=locked, Key="k1",
                            Retention={"Mode": "GOVERNANCE", "RetainUntilDate": FAR})
    entries = [{"Key": "k1", "VersionId": v1}, {"Key": "k2", "VersionId": v2},
               {"Key": "k3", "VersionId": v3}]
    r = s3.delete_objects(Bucket=locked, Delete={"Objects": entries})
    assert r["Deleted"] == [{"Key": "k2", "VersionId": v2}]
    assert [(e["Key"], e["VersionId"], e["Code"]) for e in r["Errors"]] == [
        ("k1", v1, "AccessDenied"), ("k3", v3, "AccessDenied")]
    r = s3.delete_objects(Bucket=locked, Delete={"Objects": [entries[0], entries[2]]},
                          BypassGovernanceRetention=True)
    assert r["Deleted"] == [{"Key": "k1", "VersionId": v1}]
    assert [(e["Key"], e["Code"]) for e in r["Errors"]] == [("k3", "AccessDenied")]
    assert s3.head_object(Bucket=locked, Key="k3", VersionId=v3)["ObjectLockMode"] == \
        "COMPLIANCE"


def test_put_with_lock_headers(s3, locked):
    r = s3.put_object(Bucket=locked, Key="k", Body=b"abc", ObjectLockMode="GOVERNANCE",
                      ObjectLockRetainUntilDate=FAR, ObjectLockLegalHoldStatus="ON")
    for h in (s3.head_object(Bucket=locked, Key="k"),
              s3.get_object(Bucket=locked, Key="k", VersionId=r["VersionId"])):
        assert (h["ObjectLockMode"], h["ObjectLockRetainUntilDate"],
                h["ObjectLockLegalHoldStatus"]) == ("GOVERNANCE", FAR, "ON")
        assert h["ResponseMetadata"]["HTTPHeaders"][
            "x-amz-object-lock-retain-until-date"] == "2140-01-01T00:00:00.000Z"
    plain = s3.head_object(Bucket=locked, Key="k", VersionId=s3.put_object(
        Bucket=locked, Key="k", Body=b"x")["VersionId"])
    assert "ObjectLockMode" not in plain and "ObjectLockLegalHoldStatus" not in plain


def _raw_put(server, bucket, key, headers, body=b"abc", md5=True):
    if md5:
        headers = {**headers, "Content-MD5": base64.b64encode(hashlib.md5(body).digest())
                   .decode()}
    url, h = signed_request(server, "PUT", f"/{bucket}/{key}", body, headers=headers)
    return send("PUT", url, h, body)


@pytest.mark.parametrize("headers,message", [
    ({"x-amz-object-lock-mode": "GOVERNANCE"},
     "x-amz-object-lock-retain-until-date and x-amz-object-lock-mode must both be supplied."),
    ({"x-amz-object-lock-retain-until-date": "2140-01-01T00:00:00Z"},
     "x-amz-object-lock-retain-until-date and x-amz-object-lock-mode must both be supplied."),
    ({"x-amz-object-lock-mode": "governance",
      "x-amz-object-lock-retain-until-date": "2140-01-01T00:00:00Z"},
     "Unknown wormMode directive."),
    ({"x-amz-object-lock-mode": "GOVERNANCE",
      "x-amz-object-lock-retain-until-date": "tomorrow"},
     "The retain until date must be provided in ISO 8601 format"),
    ({"x-amz-object-lock-mode": "GOVERNANCE",
      "x-amz-object-lock-retain-until-date": "2020-01-01T00:00:00Z"},
     "The retain until date must be in the future!"),
    ({"x-amz-object-lock-legal-hold": "on"}, "Legal Hold must be either of 'ON' or 'OFF'"),
])
def test_bad_lock_headers(server, s3, locked, headers, message):
    r = _raw_put(server, locked, "bad", headers)
    assert r.status_code == 400 and error_code(r) == "InvalidArgument", r.text
    assert f"<Message>{message}</Message>" in r.text
    with pytest.raises(botocore.exceptions.ClientError):
        s3.head_object(Bucket=locked, Key="bad")


def test_lock_headers_need_a_locked_bucket(server, s3, bucket):
    lock = {"x-amz-object-lock-mode": "GOVERNANCE",
            "x-amz-object-lock-retain-until-date": "2140-01-01T00:00:00Z"}
    for headers in (lock, {"x-amz-object-lock-legal-hold": "OFF"}):
        r = _raw_put(server, bucket, "k", headers)
        assert r.status_code == 400 and error_code(r) == "InvalidRequest", r.text
        assert "<Message>Bucket is missing ObjectLockConfiguration</Message>" in r.text
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.create_multipart_upload(Bucket=bucket, Key="k", ObjectLockLegalHoldStatus="ON")
    assert _err(e)[:2] == (400, "InvalidRequest")
    s3.put_object(Bucket=bucket, Key="src", Body=b"x")
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.copy_object(Bucket=bucket, Key="k", CopySource=f"{bucket}/src",
                       ObjectLockLegalHoldStatus="ON")
    assert _err(e)[:2] == (400, "InvalidRequest")
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]] == ["src"]


def test_locked_put_needs_a_digest(server, s3, locked):
    lock = {"x-amz-object-lock-mode": "GOVERNANCE",
            "x-amz-object-lock-retain-until-date": "2140-01-01T00:00:00Z"}
    r = _raw_put(server, locked, "k", lock, md5=False)
    assert r.status_code == 400 and error_code(r) == "InvalidRequest", r.text
    assert ("Content-MD5 OR x-amz-checksum- HTTP header is required for Put Object requests "
            "with Object Lock parameters") in r.text
    assert _raw_put(server, locked, "k", lock).status_code == 200
    # A bucket's default retention makes every PUT one with lock parameters.
    s3.put_object_lock_configuration(Bucket=locked, ObjectLockConfiguration=GOV_1_DAY)
    assert _raw_put(server, locked, "k2", {}, md5=False).status_code == 400
    assert _raw_put(server, locked, "k2", {}).status_code == 200
    assert s3.head_object(Bucket=locked, Key="k2")["ObjectLockMode"] == "GOVERNANCE"


def test_default_retention_on_new_versions(s3, locked):
    s3.put_object_lock_configuration(Bucket=locked, ObjectLockConfiguration=GOV_1_DAY)
    vid = s3.put_object(Bucket=locked, Key="k", Body=b"abc")["VersionId"]
    h = s3.head_object(Bucket=locked, Key="k")
    expected = h["LastModified"] + datetime.timedelta(days=1)
    assert h["ObjectLockMode"] == "GOVERNANCE"
    assert abs((h["ObjectLockRetainUntilDate"] - expected).total_seconds()) < 2
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.delete_object(Bucket=locked, Key="k", VersionId=vid)
    assert _err(e)[:2] == (403, "AccessDenied")
    # An explicit retention replaces the default one.
    retention = {"Mode": "GOVERNANCE", "RetainUntilDate": FAR}
    s3.put_object_retention(Bucket=locked, Key="k", Retention=retention)
    assert s3.get_object_retention(Bucket=locked, Key="k")["Retention"] == retention


def test_multipart_with_lock(s3, locked):
    mp = s3.create_multipart_upload(Bucket=locked, Key="m", ObjectLockMode="GOVERNANCE",
                                    ObjectLockRetainUntilDate=FAR,
                                    ObjectLockLegalHoldStatus="ON")
    part = s3.upload_part(Bucket=locked, Key="m", UploadId=mp["UploadId"], PartNumber=1,
                          Body=b"abc")
    done = s3.complete_multipart_upload(
        Bucket=locked, Key="m", UploadId=mp["UploadId"],
        MultipartUpload={"Parts": [{"ETag": part["ETag"], "PartNumber": 1}]})
    h = s3.head_object(Bucket=locked, Key="m", VersionId=done["VersionId"])
    assert (h["ObjectLockMode"], h["ObjectLockLegalHoldStatus"]) == ("GOVERNANCE", "ON")
    s3.put_object_legal_hold(Bucket=locked, Key="m", LegalHold={"Status": "OFF"})
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.delete_object(Bucket=locked, Key="m", VersionId=done["VersionId"])
    assert _err(e)[:2] == (403, "AccessDenied")
    s3.delete_object(Bucket=locked, Key="m", VersionId=done["VersionId"],
                     BypassGovernanceRetention=True)


def test_copy_takes_the_request_lock_not_the_source(s3, locked):
    s3.put_object(Bucket=locked, Key="src", Body=b"abc", ObjectLockMode="COMPLIANCE",
                  ObjectLockRetainUntilDate=FAR, ObjectLockLegalHoldStatus="ON")
    s3.copy_object(Bucket=locked, Key="plain", CopySource=f"{locked}/src")
    h = s3.head_object(Bucket=locked, Key="plain")
    assert "ObjectLockMode" not in h and "ObjectLockLegalHoldStatus" not in h
    s3.copy_object(Bucket=locked, Key="held", CopySource=f"{locked}/src",
                   ObjectLockMode="GOVERNANCE", ObjectLockRetainUntilDate=FAR2)
    h = s3.head_object(Bucket=locked, Key="held")
    assert (h["ObjectLockMode"], h["ObjectLockRetainUntilDate"]) == ("GOVERNANCE", FAR2)


def test_lock_holds_after_restart(tmp_path):
    srv = ServerProcess(str(tmp_path / "data"), str(tmp_path)).start()
    try:
        s3 = srv.client()
        name = unique_bucket("lock")
        s3.create_bucket(Bucket=name, ObjectLockEnabledForBucket=True)
        s3.put_object_lock_configuration(Bucket=name, ObjectLockConfiguration=GOV_1_DAY)
        gov = s3.put_object(Bucket=name, Key="gov", Body=b"abc")["VersionId"]
        comp = s3.put_object(Bucket=name, Key="comp", Body=b"abc", ObjectLockMode="COMPLIANCE",
                             ObjectLockRetainUntilDate=FAR)["VersionId"]
        srv.stop()
        srv.start()
        s3 = srv.client()
        assert s3.get_object_lock_configuration(Bucket=name)[
            "ObjectLockConfiguration"] == GOV_1_DAY
        for key, vid in (("gov", gov), ("comp", comp)):
            with pytest.raises(botocore.exceptions.ClientError) as e:
                s3.delete_object(Bucket=name, Key=key, VersionId=vid)
            assert _err(e)[:2] == (403, "AccessDenied")
        with pytest.raises(botocore.exceptions.ClientError) as e:
            s3.delete_object(Bucket=name, Key="comp", VersionId=comp,
                             BypassGovernanceRetention=True)
        assert _err(e)[:2] == (403, "AccessDenied")
        assert s3.get_object(Bucket=name, Key="comp", VersionId=comp)["Body"].read() == b"abc"
    finally:
        srv.stop()


def test_post_object_with_lock_fields(server, s3, locked, bucket):
    c = server.client(signature_version="s3v4")
    fields = {"x-amz-object-lock-mode": "GOVERNANCE",
              "x-amz-object-lock-retain-until-date": "2140-01-01T00:00:00Z",
              "x-amz-object-lock-legal-hold": "ON"}

    def post(name):
        p = c.generate_presigned_post(name, "posted", Fields=fields,
                                      Conditions=[{k: v} for k, v in fields.items()])
        return requests.post(p["url"], data=p["fields"],
                             files={"file": ("f", io.BytesIO(b"body"))})
    assert post(locked).status_code == 204
    h = s3.head_object(Bucket=locked, Key="posted")
    assert (h["ObjectLockMode"], h["ObjectLockRetainUntilDate"],
            h["ObjectLockLegalHoldStatus"]) == ("GOVERNANCE", FAR, "ON")
    r = post(bucket)
    assert r.status_code == 400 and error_code(r) == "InvalidRequest", r.text
