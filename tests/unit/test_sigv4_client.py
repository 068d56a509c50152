"""The client-side SigV4 signer (bench, cold tier) must produce exactly botocore's Authorization header."""
import datetime
import hashlib
import types
from unittest import mock

import pytest
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from s3ish.util.sigv4_client import (EMPTY_SHA256, UNSIGNED_PAYLOAD, Signer, derive_key,
                                     encode_path, encode_query)

WHEN = datetime.datetime(2026, 3, 14, 15, 9, 26)
AK, SK = "AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"


def botocore_auth(method, url, body=b"", headers=None, unsigned=False, region="us-east-1"):
    req = AWSRequest(method=method, url=url, data=body, headers=dict(headers or {}))
    if unsigned:  # what an S3 client configured with payload_signing_enabled=False sends
        req.context["client_config"] = types.SimpleNamespace(
            s3={"payload_signing_enabled": False})
    auth = S3SigV4Auth(Credentials(AK, SK), "s3", region)
    with mock.patch("botocore.auth.get_current_datetime", return_value=WHEN):
        auth.add_auth(req)
    return req.headers["Authorization"], req.headers["X-Amz-Date"]


def ours(method, host, path, query="", payload_hash=UNSIGNED_PAYLOAD, extra=(),
         region="us-east-1"):
    signer = Signer(AK, SK, region, host)
    amz_date, auth = signer.sign(method, path, query, payload_hash, extra,
                                 now=WHEN.replace(tzinfo=datetime.timezone.utc).timestamp())
    return auth, amz_date


@pytest.mark.parametrize("key", ["obj", "dir/sub/file.bin", "sp ace+plus=eq&amp;~tilde",
                                 "ünï/cødé", "bench-1234abcd/w3-17"])
def test_unsigned_put_matches_botocore(key):
    path = encode_path(f"/bucket/{key}")
    expected = botocore_auth("PUT", f"http://127.0.0.1:9000{path}", b"x" * 100, unsigned=True)
    assert ours("PUT", "127.0.0.1:9000", path) == expected


def test_get_with_empty_payload_hash_and_port():
    path = encode_path("/bucket/some/key")
    expected = botocore_auth("GET", f"http://127.0.0.1:9000{path}")
    assert ours("GET", "127.0.0.1:9000", path, payload_hash=EMPTY_SHA256) == expected


def test_signed_body_hash_and_other_region():
    body = b"<CompleteMultipartUpload></CompleteMultipartUpload>"
    path = encode_path("/bucket/k")
    url = f"http://localhost:9000{path}?uploadId=abc%2Fdef%3D%3D"
    expected = botocore_auth("POST", url, body, region="eu-west-3")
    got = ours("POST", "localhost:9000", path, encode_query({"uploadId": "abc/def=="}),
               payload_hash=hashlib.sha256(body).hexdigest(), region="eu-west-3")
    assert got == expected


@pytest.mark.parametrize("params", [
    {"uploads": ""},
    {"partNumber": "3", "uploadId": "Xy_-z.~"},
    {"list-type": "2", "prefix": "bench-1/", "max-keys": "1000",
     "continuation-token": "a+b/c=="},
])
def test_queries_match_botocore(params):
    query = encode_query(params)
    expected = botocore_auth("GET", f"https://s3.example.com/bucket?{query}", unsigned=True)
    assert ours("GET", "s3.example.com", "/bucket", query) == expected


def test_extra_signed_header():
    body = b"<Delete><Object><Key>a</Key></Object></Delete>"
    md5 = "q1w2e3r4t5y6u7i8o9p0aa=="
    expected = botocore_auth("POST", "https://s3.example.com/bucket?delete=", body,
                             headers={"Content-MD5": md5}, unsigned=True)
    assert ours("POST", "s3.example.com", "/bucket", "delete=",
                extra=(("content-md5", md5),)) == expected


def test_signing_key_is_derived_once_per_day():
    signer = Signer(AK, SK, "us-east-1", "h")
    t = WHEN.replace(tzinfo=datetime.timezone.utc).timestamp()
    with mock.patch("s3ish.util.sigv4_client.derive_key", wraps=derive_key) as derive:
        for i in range(100):
            signer.sign("GET", "/b/k", now=t + i)
        assert derive.call_count == 1
        signer.sign("GET", "/b/k", now=t + 86400)
        assert derive.call_count == 2
