"""Inputs the fuzz targets (tests/fuzz/) found crashing a parser, sent to a real server: each
once answered 500 InternalError; S3 answers them as below."""
import base64
import hashlib
import hmac

import requests

from s3ish.util.sigv4_client import Signer
from tests.support import ROOT_PASSWORD, ROOT_USER, error_code, send, signed_request

HUGE = "1" * 5000          # more digits than Python's int() accepts
BAD_DATE = "Mon, 07 Dec 2026202620262026 01:40:44 GMT"


def test_range_with_huge_numbers(server, s3, bucket):
    s3.put_object(Bucket=bucket, Key="r", Body=b"0123456789")
    url, headers = signed_request(server, "GET", f"/{bucket}/r",
                                  headers={"Range": "bytes=2-" + HUGE})
    r = send("GET", url, headers)
    assert r.status_code == 206 and r.content == b"23456789"
    assert r.headers["Content-Range"] == "bytes 2-9/10"
    url, headers = signed_request(server, "GET", f"/{bucket}/r",
                                  headers={"Range": "bytes=" + HUGE + "-"})
    r = send("GET", url, headers)
    assert r.status_code == 416 and error_code(r) == "InvalidRange"


def test_copy_source_range_with_huge_numbers(server, s3, bucket):
    s3.put_object(Bucket=bucket, Key="src", Body=b"0123456789")
    up = s3.create_multipart_upload(Bucket=bucket, Key="dst")["UploadId"]
    try:
        url, headers = signed_request(
            server, "PUT", f"/{bucket}/dst?partNumber=1&uploadId={up}",
            headers={"x-amz-copy-source": f"{bucket}/src",
                     "x-amz-copy-source-range": "bytes=0-" + HUGE})
        r = send("PUT", url, headers)
        assert r.status_code == 416 and error_code(r) == "InvalidRange"
    finally:
        s3.abort_multipart_upload(Bucket=bucket, Key="dst", UploadId=up)


def test_conditional_get_with_an_overflowing_date_is_ignored(server, s3, bucket):
    s3.put_object(Bucket=bucket, Key="c", Body=b"x")
    url, headers = signed_request(server, "GET", f"/{bucket}/c",
                                  headers={"If-Modified-Since": BAD_DATE,
                                           "If-Unmodified-Since": BAD_DATE})
    r = send("GET", url, headers)
    assert r.status_code == 200 and r.content == b"x"


def test_sigv2_with_an_overflowing_date(server, bucket):
    r = requests.get(f"{server.endpoint}/{bucket}",
                     headers={"Authorization": f"AWS {ROOT_USER}:c2lnbmF0dXJl",
                              "Date": BAD_DATE}, timeout=30)
    assert r.status_code == 403 and error_code(r) == "AccessDenied"


def test_part_number_and_max_buckets_with_non_ascii_digits(server, s3, bucket):
    # '²' passes str.isdigit() but not int(); %C2%B2 is how a client sends it.
    s3.put_object(Bucket=bucket, Key="p", Body=b"x")
    for method, path in (("GET", f"/{bucket}/p?partNumber=%C2%B2"),
                         ("HEAD", f"/{bucket}/p?partNumber=1%C2%B2"),
                         ("PUT", f"/{bucket}/p?partNumber=%C2%B2&uploadId=nope"),
                         ("GET", "/?max-buckets=%C2%B2")):
        url, headers = signed_request(server, method, path)
        r = send(method, url, headers)
        assert r.status_code == 400, (path, r.status_code)
        if method != "HEAD":
            assert error_code(r) == "InvalidArgument", path


def test_streaming_put_with_a_huge_decoded_length(server, bucket):
    signer = Signer(ROOT_USER, ROOT_PASSWORD, "us-east-1", f"127.0.0.1:{server.port}")
    payload = "STREAMING-UNSIGNED-PAYLOAD-TRAILER"
    for length in (HUGE, "\u00b2"):
        amz_date, auth = signer.sign("PUT", f"/{bucket}/s", "", payload,
                                     (("x-amz-decoded-content-length", length),))
        r = requests.put(f"{server.endpoint}/{bucket}/s", data=b"0\r\n\r\n", timeout=30,
                         headers={"Authorization": auth, "x-amz-date": amz_date,
                                  "x-amz-content-sha256": payload,
                                  "x-amz-decoded-content-length": length.encode("latin-1")})
        assert r.status_code == 411 and error_code(r) == "MissingContentLength"


def _post_with_policy(server, bucket, policy: bytes):
    policy_b64 = base64.b64encode(policy).decode()
    sig = base64.b64encode(hmac.new(ROOT_PASSWORD.encode(), policy_b64.encode(),
                                    hashlib.sha1).digest()).decode()
    return requests.post(f"{server.endpoint}/{bucket}", timeout=30,
                         data={"key": "k", "AWSAccessKeyId": ROOT_USER, "policy": policy_b64,
                               "signature": sig}, files={"file": ("f", b"x")})


def test_post_policy_with_infinite_length_or_deep_nesting(server, bucket):
    for policy in (b'{"expiration": "2100-01-01T00:00:00Z", "conditions": [["starts-with", '
                   b'"$key", ""], ["content-length-range", Infinity, 10]]}',
                   b'{"expiration": "2100-01-01T00:00:00Z", "conditions": '
                   + b"[" * 20000 + b"]" * 20000 + b"}"):
        r = _post_with_policy(server, bucket, policy)
        assert r.status_code == 400 and error_code(r) == "InvalidPolicyDocument", r.text


def test_streaming_put_with_a_flood_of_trailers(server, bucket):
    signer = Signer(ROOT_USER, ROOT_PASSWORD, "us-east-1", f"127.0.0.1:{server.port}")
    payload = "STREAMING-UNSIGNED-PAYLOAD-TRAILER"
    amz_date, auth = signer.sign("PUT", f"/{bucket}/t", "", payload,
                                 (("x-amz-decoded-content-length", "1"),))
    trailers = b"".join(f"x-amz-meta-t{i}:{'v' * 20}\r\n".encode() for i in range(2000))
    r = requests.put(f"{server.endpoint}/{bucket}/t", timeout=30,
                     data=b"1\r\na\r\n0\r\n" + trailers + b"\r\n",
                     headers={"Authorization": auth, "x-amz-date": amz_date,
                              "x-amz-content-sha256": payload,
                              "x-amz-decoded-content-length": "1"})
    assert r.status_code == 400 and error_code(r) == "MalformedTrailerError", r.text


def test_list_parts_with_a_huge_part_number_marker(server, s3, bucket):
    up = s3.create_multipart_upload(Bucket=bucket, Key="m")["UploadId"]
    try:
        url, headers = signed_request(
            server, "GET", f"/{bucket}/m?uploadId={up}&part-number-marker={'9' * 30}")
        r = send("GET", url, headers)
        assert r.status_code == 400 and error_code(r) == "InvalidArgument"
    finally:
        s3.abort_multipart_upload(Bucket=bucket, Key="m", UploadId=up)
