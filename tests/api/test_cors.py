"""Bucket CORS: Put/Get/DeleteBucketCors with AWS's validation, the unauthenticated OPTIONS
preflight, and the CORS headers of actual (signed, presigned, failing) requests."""
import base64
import hashlib

import botocore.exceptions
import pytest
import requests

from tests.support import error_code, send, signed_request

VARY = "Origin, Access-Control-Request-Headers, Access-Control-Request-Method"


def _code(call, **kw) -> tuple[int, str]:
    with pytest.raises(botocore.exceptions.ClientError) as e:
        call(**kw)
    return e.value.response["ResponseMetadata"]["HTTPStatusCode"], \
        e.value.response["Error"]["Code"]


def _options(server, path, **headers):
    return requests.options(server.endpoint + path, headers=headers, timeout=30)


def test_cors_roundtrip(s3, bucket):
    assert _code(s3.get_bucket_cors, Bucket=bucket) == (404, "NoSuchCORSConfiguration")
    rules = [{"ID": "web", "AllowedHeaders": ["*"], "AllowedMethods": ["GET", "PUT"],
              "AllowedOrigins": ["https://*.example.com", "http://localhost:8080"],
              "ExposeHeaders": ["ETag", "x-amz-meta-a"], "MaxAgeSeconds": 3000},
             {"AllowedMethods": ["HEAD"], "AllowedOrigins": ["*"]}]
    s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": rules})
    assert s3.get_bucket_cors(Bucket=bucket)["CORSRules"] == rules
    r = s3.delete_bucket_cors(Bucket=bucket)
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert _code(s3.get_bucket_cors, Bucket=bucket) == (404, "NoSuchCORSConfiguration")
    s3.delete_bucket_cors(Bucket=bucket)   # deleting what is not there is not an error


@pytest.mark.parametrize("rules, code", [
    ([{"AllowedMethods": ["PATCH"], "AllowedOrigins": ["*"]}], "InvalidRequest"),
    ([{"AllowedMethods": ["get"], "AllowedOrigins": ["*"]}], "InvalidRequest"),
    ([{"AllowedMethods": ["GET"], "AllowedOrigins": ["*.a.*"]}], "InvalidRequest"),
    ([{"AllowedMethods": ["GET"], "AllowedOrigins": ["*"], "AllowedHeaders": ["x-*-*"]}],
     "InvalidRequest"),
    ([{"AllowedMethods": ["GET"], "AllowedOrigins": ["*"], "ExposeHeaders": ["*"]}],
     "InvalidRequest"),
    ([{"AllowedMethods": ["GET"], "AllowedOrigins": ["*"], "ID": "i" * 256}],
     "InvalidArgument"),
    ([{"AllowedMethods": ["GET"], "AllowedOrigins": [f"o{i}"]} for i in range(101)],
     "MalformedXML"),
])
def test_cors_validation(s3, bucket, rules, code):
    s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={
        "CORSRules": [{"AllowedMethods": ["GET"], "AllowedOrigins": ["keep"]}]})
    assert _code(s3.put_bucket_cors, Bucket=bucket,
                 CORSConfiguration={"CORSRules": rules}) == (400, code)
    # The stored configuration is untouched.
    assert s3.get_bucket_cors(Bucket=bucket)["CORSRules"][0]["AllowedOrigins"] == ["keep"]


@pytest.mark.parametrize("doc", [
    b"<CORSConfiguration/>",
    b"<CORSConfiguration><CORSRule><AllowedMethod>GET</AllowedMethod></CORSRule>"
    b"</CORSConfiguration>",
    b"<CORSConfiguration><CORSRule><AllowedOrigin>*</AllowedOrigin></CORSRule>"
    b"</CORSConfiguration>",
    b"<CORSConfiguration><CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET"
    b"</AllowedMethod><MaxAgeSeconds>x</MaxAgeSeconds></CORSRule></CORSConfiguration>",
])
def test_cors_malformed(server, bucket, doc):
    md5 = base64.b64encode(hashlib.md5(doc).digest()).decode()
    url, headers = signed_request(server, "PUT", f"/{bucket}?cors", doc, {"Content-MD5": md5})
    r = send("PUT", url, headers, doc)
    assert (r.status_code, error_code(r)) == (400, "MalformedXML")


def test_cors_put_needs_digest(server, bucket):
    doc = (b"<CORSConfiguration><CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET"
           b"</AllowedMethod></CORSRule></CORSConfiguration>")
    url, headers = signed_request(server, "PUT", f"/{bucket}?cors", doc)
    r = send("PUT", url, headers, doc)
    assert (r.status_code, error_code(r)) == (400, "InvalidRequest")


def test_preflight(server, s3, bucket):
    # Preflight requests are never signed: all of these go without credentials.
    r = _options(server, f"/{bucket}/k", Origin="https://app.example.com",
                 **{"Access-Control-Request-Method": "PUT"})
    assert (r.status_code, error_code(r)) == (403, "AccessForbidden")
    s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": [
        {"AllowedMethods": ["PUT", "POST"], "AllowedOrigins": ["https://*.example.com"],
         "AllowedHeaders": ["content-type", "x-amz-*"], "ExposeHeaders": ["ETag"],
         "MaxAgeSeconds": 600},
        {"AllowedMethods": ["GET"], "AllowedOrigins": ["*"]}]})
    r = _options(server, f"/{bucket}/k", Origin="https://app.example.com",
                 **{"Access-Control-Request-Method": "PUT",
                    "Access-Control-Request-Headers": "Content-Type, X-Amz-Date"})
    assert r.status_code == 200
    h = r.headers
    assert h["Access-Control-Allow-Origin"] == "https://app.example.com"
    assert h["Access-Control-Allow-Methods"] == "PUT, POST"
    assert h["Access-Control-Allow-Headers"] == "content-type, x-amz-date"
    assert h["Access-Control-Expose-Headers"] == "ETag"
    assert h["Access-Control-Max-Age"] == "600"
    assert h["Access-Control-Allow-Credentials"] == "true"
    assert h["Vary"] == VARY
    # The `*` origin answers `*` and allows no credentials.
    r = _options(server, f"/{bucket}", Origin="http://other",
                 **{"Access-Control-Request-Method": "GET"})
    assert r.status_code == 200
    assert r.headers["Access-Control-Allow-Origin"] == "*"
    assert "Access-Control-Allow-Credentials" not in r.headers
    # A header no rule allows, a method no rule allows for the origin.
    for headers in ({"Access-Control-Request-Method": "PUT",
                     "Access-Control-Request-Headers": "authorization"},
                    {"Access-Control-Request-Method": "DELETE"}):
        r = _options(server, f"/{bucket}/k", Origin="https://app.example.com", **headers)
        assert (r.status_code, error_code(r)) == (403, "AccessForbidden")
        assert "Access-Control-Allow-Origin" not in r.headers
    # Missing Origin or method: 400.
    r = _options(server, f"/{bucket}/k")
    assert (r.status_code, error_code(r)) == (400, "BadRequest")
    r = _options(server, f"/{bucket}/k", Origin="https://app.example.com")
    assert (r.status_code, error_code(r)) == (400, "BadRequest")
    r = _options(server, "/no-such-bucket-cors/k", Origin="x",
                 **{"Access-Control-Request-Method": "GET"})
    assert (r.status_code, error_code(r)) == (404, "NoSuchBucket")


def test_cors_headers_on_actual_requests(server, s3, bucket):
    s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": [
        {"AllowedMethods": ["GET"], "AllowedOrigins": ["*suffix"],
         "ExposeHeaders": ["x-amz-meta-a"]}]})
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    url = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "k"})
    r = requests.get(url, headers={"Origin": "a.suffix"}, timeout=30)
    assert r.status_code == 200
    assert r.headers["Access-Control-Allow-Origin"] == "a.suffix"
    assert r.headers["Access-Control-Allow-Methods"] == "GET"
    assert r.headers["Access-Control-Expose-Headers"] == "x-amz-meta-a"
    assert r.headers["Vary"] == VARY
    # No matching origin: no Access-Control headers; no Origin: none of it.
    r = requests.get(url, headers={"Origin": "a.suffix.com"}, timeout=30)
    assert r.status_code == 200 and "Access-Control-Allow-Origin" not in r.headers
    r = requests.get(url, timeout=30)
    assert "Access-Control-Allow-Origin" not in r.headers and "Vary" not in r.headers
    # Errors carry them too: a missing key, an unsigned request.
    missing = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "nokey"})
    r = requests.get(missing, headers={"Origin": "a.suffix"}, timeout=30)
    assert r.status_code == 404 and r.headers["Access-Control-Allow-Origin"] == "a.suffix"
    r = requests.get(f"{server.endpoint}/{bucket}/k", headers={"Origin": "a.suffix"},
                     timeout=30)
    assert r.status_code == 403 and r.headers["Access-Control-Allow-Origin"] == "a.suffix"


def test_browser_preflight_then_presigned_put(server, s3, bucket):
    """What a browser does for an upload: OPTIONS, then the PUT with Origin."""
    origin = "http://localhost:3000"
    s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": [
        {"AllowedMethods": ["PUT"], "AllowedOrigins": [origin],
         "AllowedHeaders": ["*"], "ExposeHeaders": ["ETag"]}]})
    url = s3.generate_presigned_url("put_object", Params={
        "Bucket": bucket, "Key": "up.txt", "ContentType": "text/plain"})
    pre = requests.options(url, headers={
        "Origin": origin, "Access-Control-Request-Method": "PUT",
        "Access-Control-Request-Headers": "content-type"}, timeout=30)
    assert pre.status_code == 200
    assert pre.headers["Access-Control-Allow-Origin"] == origin
    assert pre.headers["Access-Control-Allow-Headers"] == "content-type"
    r = requests.put(url, data=b"hello", headers={"Origin": origin,
                                                  "Content-Type": "text/plain"}, timeout=30)
    assert r.status_code == 200
    assert r.headers["Access-Control-Allow-Origin"] == origin
    assert r.headers["Access-Control-Expose-Headers"] == "ETag"
    assert s3.get_object(Bucket=bucket, Key="up.txt")["Body"].read() == b"hello"


def test_preflight_of_multipart_upload(server, s3, bucket):
    """A browser's multipart upload preflights URLs with sub-resources (?uploads,
    ?partNumber&uploadId): they are preflights like any other."""
    origin = "https://app.example"
    s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": [
        {"AllowedMethods": ["PUT", "POST"], "AllowedOrigins": [origin],
         "ExposeHeaders": ["ETag"]}]})
    upload = s3.create_multipart_upload(Bucket=bucket, Key="big")["UploadId"]
    url = s3.generate_presigned_url("upload_part", Params={
        "Bucket": bucket, "Key": "big", "UploadId": upload, "PartNumber": 1})
    for target, method in ((url, "PUT"), (f"{server.endpoint}/{bucket}/big?uploads", "POST")):
        r = requests.options(target, headers={"Origin": origin,
                                              "Access-Control-Request-Method": method},
                             timeout=30)
        assert r.status_code == 200, r.text
        assert r.headers["Access-Control-Allow-Origin"] == origin
    r = requests.put(url, data=b"part", headers={"Origin": origin}, timeout=30)
    assert r.status_code == 200
    assert r.headers["Access-Control-Expose-Headers"] == "ETag"
    s3.abort_multipart_upload(Bucket=bucket, Key="big", UploadId=upload)


def test_browser_form_post_gets_cors_headers(s3, bucket):
    origin = "https://form.example"
    s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": [
        {"AllowedMethods": ["POST"], "AllowedOrigins": [origin]}]})
    post = s3.generate_presigned_post(bucket, "form.txt")
    r = requests.post(post["url"], data=post["fields"], headers={"Origin": origin},
                      files={"file": ("form.txt", b"posted")}, timeout=30)
    assert r.status_code == 204, r.text
    assert r.headers["Access-Control-Allow-Origin"] == origin
    assert r.headers["Access-Control-Allow-Methods"] == "POST"
    assert s3.get_object(Bucket=bucket, Key="form.txt")["Body"].read() == b"posted"
