"""Browser-based POST uploads with a signed policy, as boto3's generate_presigned_post makes."""
import io

import pytest
import requests

from tests.support import error_code


def _post(url, fields, body=b"file body", filename="f.txt"):
    return requests.post(url, data=fields, files={"file": (filename, io.BytesIO(body))})


@pytest.mark.parametrize("sigver", ["s3v4", "s3"])
def test_presigned_post(server, bucket, sigver):
    c = server.client(signature_version=sigver)
    post = c.generate_presigned_post(bucket, "uploads/${filename}",
                                     Fields={"Content-Type": "text/plain",
                                             "x-amz-meta-origin": "browser"},
                                     Conditions=[{"Content-Type": "text/plain"},
                                                 {"x-amz-meta-origin": "browser"},
                                                 ["starts-with", "$key", "uploads/"],
                                                 ["content-length-range", 1, 1000]],
                                     ExpiresIn=60)
    r = _post(post["url"], post["fields"], b"hello from a form", "hello.txt")
    assert r.status_code == 204, r.text
    g = c.get_object(Bucket=bucket, Key="uploads/hello.txt")
    assert g["Body"].read() == b"hello from a form"
    assert g["ContentType"] == "text/plain" and g["Metadata"] == {"origin": "browser"}


def test_post_status_and_redirect(server, bucket):
    c = server.client(signature_version="s3v4")
    post = c.generate_presigned_post(bucket, "k201", Fields={"success_action_status": "201"},
                                     Conditions=[{"success_action_status": "201"}])
    r = _post(post["url"], post["fields"])
    assert r.status_code == 201 and "<Key>k201</Key>" in r.text
    post = c.generate_presigned_post(
        bucket, "kr", Fields={"success_action_redirect": "http://example.invalid/done"},
        Conditions=[{"success_action_redirect": "http://example.invalid/done"}])
    r = requests.post(post["url"], data=post["fields"], files={"file": ("a", b"x")},
                      allow_redirects=False)
    assert r.status_code == 303
    assert r.headers["Location"].startswith("http://example.invalid/done?bucket=")


def test_post_policy_violations(server, s3, bucket):
    c = server.client(signature_version="s3v4")
    post = c.generate_presigned_post(bucket, "small", Conditions=[
        ["content-length-range", 1, 10]])
    r = _post(post["url"], post["fields"], b"x" * 11)
    assert r.status_code == 400 and error_code(r) == "EntityTooLarge"
    fields = dict(post["fields"], key="other")
    r = _post(post["url"], fields)
    assert r.status_code == 403 and error_code(r) == "AccessDenied"
    fields = dict(post["fields"], extra="field")
    r = _post(post["url"], fields)
    assert r.status_code == 403 and "Extra input fields" in r.text
    fields = dict(post["fields"])
    fields["x-amz-signature"] = "0" * 64
    r = _post(post["url"], fields)
    assert r.status_code == 403 and error_code(r) == "SignatureDoesNotMatch"
    expired = c.generate_presigned_post(bucket, "late", ExpiresIn=-10)
    r = _post(expired["url"], expired["fields"])
    assert r.status_code == 403 and "expired" in r.text
    r = requests.post(post["url"], data={"key": "anon"}, files={"file": ("a", b"x")})
    assert r.status_code == 403
    listed = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])]
    assert listed == []


def test_post_big_file_streams(server, bucket):
    c = server.client(signature_version="s3v4")
    post = c.generate_presigned_post(bucket, "big")
    import os
    body = os.urandom(5 * 1024 * 1024 + 3)
    r = _post(post["url"], post["fields"], body)
    assert r.status_code == 204
    assert c.get_object(Bucket=bucket, Key="big")["Body"].read() == body


_BAD_FIELDS = [
    ("Content-Type", "text/plain\r\nX-Injected: 1"),
    ("Content-Type", "text/plain\x01"),
    ("x-amz-meta-note", "line one\nline two"),
    ("x-amz-meta-note", "nul\x00byte"),
    ("x-amz-meta-note", "del\x7f"),
    ("Cache-Control", "no-cache\r"),
    ("success_action_redirect", "http://example.invalid/\r\nSet-Cookie: a=b"),
    ("x-amz-meta-my field", "space in the name"),
    ("x-amz-meta-na\u00efve\u65e5", "non-Latin-1 name"),
    ("x-amz-meta-a:b", "colon in the name"),
]


@pytest.mark.parametrize("name,value", _BAD_FIELDS)
def test_post_refuses_fields_that_cannot_be_headers(server, s3, bucket, name, value):
    """Stored, such a value would break every later GET/HEAD: refused at upload with S3's
    InvalidArgument, by the same rules as PutObject's headers."""
    c = server.client(signature_version="s3v4")
    post = c.generate_presigned_post(bucket, "bad-field", Fields={name: value},
                                     Conditions=[{name: value}])
    r = _post(post["url"], post["fields"])
    assert r.status_code == 400 and error_code(r) == "InvalidArgument", r.text
    assert "Contents" not in s3.list_objects_v2(Bucket=bucket)


def test_post_field_values_round_trip_as_bytes(server, s3, bucket):
    """A tab is legal in a header; a UTF-8 value comes back as the bytes the form sent."""
    c = server.client(signature_version="s3v4")
    fields = {"x-amz-meta-tabbed": "a\tb", "x-amz-meta-city": "K\u00f8benhavn \u65e5"}
    post = c.generate_presigned_post(bucket, "good-field", Fields=fields,
                                     Conditions=[{k: v} for k, v in fields.items()])
    r = _post(post["url"], post["fields"])
    assert r.status_code == 204, r.text
    h = requests.head(c.generate_presigned_url(
        "head_object", Params={"Bucket": bucket, "Key": "good-field"}, ExpiresIn=60))
    assert h.status_code == 200
    assert h.raw.headers["x-amz-meta-tabbed"] == "a\tb"
    city = h.raw.headers["x-amz-meta-city"].encode("latin-1").decode("utf-8")
    assert city == "K\u00f8benhavn \u65e5"


def test_post_encryption_fields_that_cannot_be_honoured_are_refused(server, s3, bucket):
    """Encryption fields are refused as the same headers on PutObject are, never silently
    ignored: SSE-C over plain HTTP (400), SSE-S3 on a server without a KMS (501)."""
    c = server.client(signature_version="s3v4")
    for name, value, status, code in [
            ("x-amz-server-side-encryption-customer-algorithm", "AES256", 400,
             "InvalidRequest"),
            ("x-amz-server-side-encryption-customer-key", "a" * 44, 400, "InvalidRequest"),
            ("x-amz-server-side-encryption", "AES256", 501, "NotImplemented")]:
        post = c.generate_presigned_post(bucket, "unsupported", Fields={name: value},
                                         Conditions=[{name: value}])
        r = _post(post["url"], post["fields"])
        assert r.status_code == status and error_code(r) == code, (name, r.text)
    assert "Contents" not in s3.list_objects_v2(Bucket=bucket)


def test_post_checksum_and_tagging_fields_take_effect(server, s3, bucket):
    import base64
    import hashlib
    c = server.client(signature_version="s3v4")
    body = b"checked form body"
    good = base64.b64encode(hashlib.sha256(body).digest()).decode()
    tagging = "<Tagging><TagSet><Tag><Key>k</Key><Value>v</Value></Tag></TagSet></Tagging>"
    for value, status in [(base64.b64encode(b"\0" * 32).decode(), 400), (good, 204)]:
        fields = {"x-amz-checksum-algorithm": "SHA256", "x-amz-checksum-sha256": value,
                  "tagging": tagging}
        post = c.generate_presigned_post(bucket, "ck", Fields=fields,
                                         Conditions=[{k: v} for k, v in fields.items()])
        r = _post(post["url"], post["fields"], body)
        assert r.status_code == status, r.text
        if status == 400:
            assert error_code(r) == "BadDigest"
            assert "Contents" not in s3.list_objects_v2(Bucket=bucket)
    h = s3.head_object(Bucket=bucket, Key="ck", ChecksumMode="ENABLED")
    assert h["ChecksumSHA256"] == good
    assert s3.get_object_tagging(Bucket=bucket, Key="ck")["TagSet"] == [
        {"Key": "k", "Value": "v"}]
