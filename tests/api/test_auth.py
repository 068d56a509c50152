"""Authentication as S3 answers it: raw signed requests that SDKs never send."""
import datetime as dt
import hashlib
import time
import uuid

import botocore.exceptions
import pytest
import requests

from tests.support import (ALT_PASSWORD, ALT_USER, ROOT_PASSWORD, ROOT_USER, error_code,
                           send, signed_request)


def test_valid_signed_request_succeeds(server, bucket):
    url, headers = signed_request(server, "PUT", f"/{bucket}/ok", b"data")
    r = send("PUT", url, headers, b"data")
    assert r.status_code == 200, r.text
    assert r.headers["ETag"] == f'"{hashlib.md5(b"data").hexdigest()}"'
    assert r.headers["x-amz-request-id"] and r.headers["x-amz-id-2"]


def test_tampered_signature(server, bucket):
    url, headers = signed_request(server, "PUT", f"/{bucket}/t", b"data")
    auth = headers["Authorization"]
    sig = auth[-64:]
    headers["Authorization"] = auth[:-64] + ("0" if sig[0] != "0" else "1") + sig[1:]
    r = send("PUT", url, headers, b"data")
    assert r.status_code == 403 and error_code(r) == "SignatureDoesNotMatch"
    assert _absent(server, bucket, "t")


def test_signed_header_changed_after_signing(server, bucket):
    url, headers = signed_request(server, "PUT", f"/{bucket}/t2", b"data",
                                  headers={"Content-Type": "text/plain"})
    headers["Content-Type"] = "text/html"
    r = send("PUT", url, headers, b"data")
    assert r.status_code == 403 and error_code(r) == "SignatureDoesNotMatch"


def test_wrong_payload_hash(server, bucket):
    url, headers = signed_request(server, "PUT", f"/{bucket}/p", b"good")
    r = send("PUT", url, headers, b"evil")
    assert r.status_code == 400 and error_code(r) == "XAmzContentSHA256Mismatch"
    assert _absent(server, bucket, "p")


def test_unknown_access_key(server, bucket):
    url, headers = signed_request(server, "GET", f"/{bucket}", user="nobody",
                                  password="x" * 20)
    r = send("GET", url, headers)
    assert r.status_code == 403 and error_code(r) == "InvalidAccessKeyId"


def test_skewed_clock(server, bucket):
    when = dt.datetime.now(dt.timezone.utc) - dt.timedelta(minutes=20)
    url, headers = signed_request(server, "GET", f"/{bucket}", when=when)
    r = send("GET", url, headers)
    assert r.status_code == 403 and error_code(r) == "RequestTimeTooSkewed"


def test_anonymous_is_denied(server, bucket):
    r = requests.get(f"{server.endpoint}/{bucket}")
    assert r.status_code == 403 and error_code(r) == "AccessDenied"
    r = requests.put(f"{server.endpoint}/{bucket}/anon", data=b"x")
    assert r.status_code == 403
    assert _absent(server, bucket, "anon")


def test_malformed_authorization(server, bucket):
    url, headers = signed_request(server, "GET", f"/{bucket}")
    headers["Authorization"] = "AWS4-HMAC-SHA256 Credential=garbage"
    r = send("GET", url, headers)
    assert r.status_code == 400 and error_code(r) == "AuthorizationHeaderMalformed"


def test_missing_content_sha256(server, bucket):
    url, headers = signed_request(server, "GET", f"/{bucket}")
    del headers["X-Amz-Content-SHA256"]
    r = send("GET", url, headers)
    assert r.status_code == 400 and error_code(r) == "InvalidRequest"


def test_sigv2_header_bad_signature(server, bucket):
    from email.utils import formatdate
    r = requests.get(f"{server.endpoint}/{bucket}",
                     headers={"Authorization": f"AWS {ROOT_USER}:c2lnbmF0dXJl",
                              "Date": formatdate(usegmt=True)})
    assert r.status_code == 403 and error_code(r) == "SignatureDoesNotMatch"


def test_sigv2_client(server, bucket):
    v2 = server.client(signature_version="s3")
    v2.put_object(Bucket=bucket, Key="v2 key/é", Body=b"v2", ContentType="text/plain",
                  Metadata={"m": "1"})
    r = v2.get_object(Bucket=bucket, Key="v2 key/é")
    assert r["Body"].read() == b"v2" and r["Metadata"] == {"m": "1"}
    assert [o["Key"] for o in v2.list_objects(Bucket=bucket)["Contents"]] == ["v2 key/é"]


def test_presigned_sigv2_default(server, s3, bucket):
    """botocore (and `aws s3 presign`) presign S3 URLs with SigV2 by default."""
    s3.put_object(Bucket=bucket, Key="v2pre", Body=b"old style")
    url = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "v2pre"},
                                    ExpiresIn=60)
    assert "AWSAccessKeyId=" in url
    r = requests.get(url)
    assert r.status_code == 200 and r.content == b"old style"
    r = requests.get(url.replace("v2pre", "v2other"))
    assert r.status_code == 403 and error_code(r) == "SignatureDoesNotMatch"


def test_presigned_get_and_put(server, bucket):
    s3 = server.client(signature_version="s3v4")
    s3.put_object(Bucket=bucket, Key="pre", Body=b"presigned body")
    url = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "pre"},
                                    ExpiresIn=60)
    r = requests.get(url)
    assert r.status_code == 200 and r.content == b"presigned body"
    put = s3.generate_presigned_url("put_object", Params={"Bucket": bucket, "Key": "up"},
                                    ExpiresIn=60)
    assert requests.put(put, data=b"uploaded").status_code == 200
    assert s3.get_object(Bucket=bucket, Key="up")["Body"].read() == b"uploaded"


def test_presigned_response_overrides(server, bucket):
    s3 = server.client(signature_version="s3v4")
    s3.put_object(Bucket=bucket, Key="ov", Body=b"x", ContentType="text/plain")
    url = s3.generate_presigned_url("get_object", Params={
        "Bucket": bucket, "Key": "ov", "ResponseContentType": "application/json",
        "ResponseContentDisposition": "attachment; filename=\"a.json\"",
        "ResponseCacheControl": "no-cache"}, ExpiresIn=60)
    r = requests.get(url)
    assert r.headers["Content-Type"] == "application/json"
    assert r.headers["Content-Disposition"] == 'attachment; filename="a.json"'
    assert r.headers["Cache-Control"] == "no-cache"


def test_presigned_expired(server, bucket):
    s3 = server.client(signature_version="s3v4")
    s3.put_object(Bucket=bucket, Key="exp", Body=b"x")
    url = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "exp"},
                                    ExpiresIn=1)
    time.sleep(2.1)
    r = requests.get(url)
    assert r.status_code == 403 and error_code(r) == "AccessDenied"
    assert b"expired" in r.content


def test_presigned_tampered_and_too_long(server, bucket):
    s3 = server.client(signature_version="s3v4")
    url = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "k"},
                                    ExpiresIn=60)
    r = requests.get(url.replace(f"/{bucket}/k", f"/{bucket}/other"))
    assert r.status_code == 403 and error_code(r) == "SignatureDoesNotMatch"
    r = requests.get(url.replace("X-Amz-Expires=60", "X-Amz-Expires=604801"))
    assert r.status_code == 400 and error_code(r) == "AuthorizationQueryParametersError"
    r = requests.get(url.split("X-Amz-Signature")[0].rstrip("&"))
    assert r.status_code == 400 and error_code(r) == "AuthorizationQueryParametersError"


def test_other_users_bucket_is_denied(server, s3, bucket):
    alt = server.client(ALT_USER, ALT_PASSWORD)
    with pytest.raises(botocore.exceptions.ClientError) as e:
        alt.list_objects_v2(Bucket=bucket)
    assert e.value.response["Error"]["Code"] == "AccessDenied"
    with pytest.raises(botocore.exceptions.ClientError) as e:
        alt.put_object(Bucket=bucket, Key="intruder", Body=b"x")
    assert e.value.response["Error"]["Code"] == "AccessDenied"
    assert bucket not in [b["Name"] for b in alt.list_buckets()["Buckets"]]
    own = f"alt-{uuid.uuid4().hex[:10]}"
    alt.create_bucket(Bucket=own)
    assert own in [b["Name"] for b in alt.list_buckets()["Buckets"]]
    assert own not in [b["Name"] for b in s3.list_buckets()["Buckets"]]
    listing = alt.list_objects(Bucket=own)
    assert "Contents" not in listing
    alt.delete_bucket(Bucket=own)


def test_refused_upload_transfers_nothing(server, bucket):
    """With Expect: 100-continue, a request refused by auth must be answered before the
    body is sent: the server never says 100 Continue."""
    import socket
    url, headers = signed_request(server, "PUT", f"/{bucket}/expect", b"x" * 1000)
    headers["Authorization"] = headers["Authorization"][:-4] + "0000"
    headers["Expect"] = "100-continue"
    headers["Content-Length"] = "1000"
    head = f"PUT /{bucket}/expect HTTP/1.1\r\n" + "".join(
        f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(head.encode())
        first = sock.recv(65536).decode(errors="replace")
    assert first.startswith("HTTP/1.1 403"), first
    assert "100 Continue" not in first


def _absent(server, bucket, key) -> bool:
    s3 = server.client()
    try:
        s3.head_object(Bucket=bucket, Key=key)
    except botocore.exceptions.ClientError as e:
        return e.response["Error"]["Code"] == "404"
    return False


def test_unsigned_amz_headers_are_refused(server, s3, bucket):
    """A presigned PUT URL cannot be turned into a copy of another object (or given other
    x-amz-* headers) by whoever holds it."""
    s3.put_object(Bucket=bucket, Key="private/secret", Body=b"TOP SECRET")
    c = server.client(signature_version="s3v4")
    url = c.generate_presigned_url("put_object", Params={"Bucket": bucket, "Key": "up"},
                                   ExpiresIn=60)
    r = requests.put(url, data=b"", headers={"x-amz-copy-source": f"{bucket}/private/secret"})
    assert r.status_code == 403 and error_code(r) == "AccessDenied"
    assert b"HeadersNotSigned" in r.content
    r = requests.put(url, data=b"mine", headers={"x-amz-meta-injected": "1"})
    assert r.status_code == 403
    url2, headers = signed_request(server, "PUT", f"/{bucket}/hdr", b"x")
    headers["x-amz-storage-class"] = "GLACIER"           # added after signing
    r = send("PUT", url2, headers, b"x")
    assert r.status_code == 403 and error_code(r) == "AccessDenied"
    assert requests.put(url, data=b"mine").status_code == 200
    assert s3.get_object(Bucket=bucket, Key="up")["Body"].read() == b"mine"


def _region_client(server, region):
    import boto3
    from botocore.config import Config
    return boto3.client("s3", endpoint_url=server.endpoint, aws_access_key_id=ROOT_USER,
                        aws_secret_access_key=ROOT_PASSWORD, region_name=region,
                        config=Config(signature_version="s3v4",
                                      s3={"addressing_style": "path"}))


@pytest.mark.parametrize("region", ["eu-west-1", "mars-north-7"])
def test_header_auth_for_another_region_is_refused(server, bucket, region):
    import xml.etree.ElementTree as ET
    url, headers = signed_request(server, "PUT", f"/{bucket}/reg", b"data", region=region)
    r = send("PUT", url, headers, b"data")
    assert r.status_code == 400 and error_code(r) == "AuthorizationHeaderMalformed"
    doc = ET.fromstring(r.content)
    assert doc.findtext("Message") == ("The authorization header is malformed; the region "
                                       f"'{region}' is wrong; expecting 'us-east-1'")
    assert doc.findtext("Region") == "us-east-1"
    assert _absent(server, bucket, "reg")


def test_header_auth_for_another_service_is_refused(server, bucket):
    url, headers = signed_request(server, "GET", f"/{bucket}", service="ec2")
    r = send("GET", url, headers)
    assert r.status_code == 400 and error_code(r) == "AuthorizationHeaderMalformed"
    assert b'incorrect service "ec2"' in r.content


def test_presigned_url_for_another_region_is_refused(server, s3, bucket):
    import xml.etree.ElementTree as ET
    s3.put_object(Bucket=bucket, Key="pre-reg", Body=b"secret")
    for region in ("eu-west-1", "made-up-1"):
        c = _region_client(server, region)
        url = c.generate_presigned_url("get_object", Params={"Bucket": bucket,
                                                             "Key": "pre-reg"}, ExpiresIn=60)
        assert f"%2F{region}%2Fs3%2F" in url
        r = requests.get(url)
        assert r.status_code == 400 and error_code(r) == "AuthorizationQueryParametersError"
        doc = ET.fromstring(r.content)
        assert doc.findtext("Message") == ("Error parsing the X-Amz-Credential parameter; the "
                                           f"region '{region}' is wrong; expecting "
                                           "'us-east-1'")
        assert doc.findtext("Region") == "us-east-1"
        put = c.generate_presigned_url("put_object", Params={"Bucket": bucket,
                                                             "Key": "pre-reg"}, ExpiresIn=60)
        assert requests.put(put, data=b"replaced").status_code == 400
    assert s3.get_object(Bucket=bucket, Key="pre-reg")["Body"].read() == b"secret"
    # The server's own region still works.
    url = _region_client(server, "us-east-1").generate_presigned_url(
        "get_object", Params={"Bucket": bucket, "Key": "pre-reg"}, ExpiresIn=60)
    assert requests.get(url).content == b"secret"


def test_post_policy_for_another_region_is_refused(server, s3, bucket):
    import io
    import xml.etree.ElementTree as ET
    post = _region_client(server, "eu-west-1").generate_presigned_post(bucket, "form-reg")
    assert "/eu-west-1/s3/" in post["fields"]["x-amz-credential"]
    r = requests.post(post["url"], data=post["fields"],
                      files={"file": ("f", io.BytesIO(b"form body"))})
    assert r.status_code == 400 and error_code(r) == "InvalidArgument", r.text
    doc = ET.fromstring(r.content)
    assert doc.findtext("Message") == "the region 'eu-west-1' is wrong; expecting 'us-east-1'"
    assert doc.findtext("Region") == "us-east-1"
    assert _absent(server, bucket, "form-reg")


def test_header_and_query_auth_together_are_refused(server, s3, bucket):
    s3.put_object(Bucket=bucket, Key="both", Body=b"x")
    presigned = server.client(signature_version="s3v4").generate_presigned_url(
        "get_object", Params={"Bucket": bucket, "Key": "both"}, ExpiresIn=60)
    query = presigned.split("?", 1)[1]
    # A valid header signature over a URL that also carries a (valid) presigned query.
    url, headers = signed_request(server, "GET", f"/{bucket}/both?{query}")
    r = send("GET", url, headers)
    assert r.status_code == 400 and error_code(r) == "InvalidArgument"
    assert b"Only one auth mechanism allowed" in r.content
    url, headers = signed_request(server, "PUT", f"/{bucket}/both?Signature=abc&Expires=1",
                                  b"y")
    r = send("PUT", url, headers, b"y")
    assert r.status_code == 400 and error_code(r) == "InvalidArgument"
    r = requests.get(presigned + "&Signature=abc&AWSAccessKeyId=" + ROOT_USER)
    assert r.status_code == 400 and error_code(r) == "InvalidArgument"
    assert s3.get_object(Bucket=bucket, Key="both")["Body"].read() == b"x"
