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
