"""aws-chunked uploads over the wire, built by hand as SDKs in other languages send them:
signed chunks, signed chunks with a trailing checksum, and unsigned chunks with a trailer."""
import base64
import datetime as dt
import hashlib
import zlib

import requests

from s3ish.s3.auth import sigv4
from tests.support import ROOT_PASSWORD, ROOT_USER, error_code


def _signed_headers(server, path, payload_mode, extra, decoded_len):
    now = dt.datetime.now(dt.timezone.utc)
    amz_date, date = now.strftime("%Y%m%dT%H%M%SZ"), now.strftime("%Y%m%d")
    headers = {"host": f"127.0.0.1:{server.port}", "x-amz-date": amz_date,
               "x-amz-content-sha256": payload_mode, "content-encoding": "aws-chunked",
               "x-amz-decoded-content-length": str(decoded_len), **extra}
    signed = sorted(headers)
    canonical = sigv4.canonical_request("PUT", path, [], headers, signed, payload_mode)
    scope = sigv4.scope(date, "us-east-1")
    key = sigv4.signing_key(ROOT_PASSWORD, date, "us-east-1")
    seed = sigv4.sign(key, sigv4.string_to_sign(amz_date, scope, canonical))
    headers["Authorization"] = (f"AWS4-HMAC-SHA256 Credential={ROOT_USER}/{scope}, "
                                f"SignedHeaders={';'.join(signed)}, Signature={seed}")
    return headers, key, amz_date, scope, seed


def _signed_body(chunks, key, amz_date, scope, seed, trailer=None, tamper=False):
    out, prev = [], seed
    for c in chunks + [b""]:
        sig = sigv4.sign(key, sigv4.chunk_string_to_sign(amz_date, scope, prev,
                                                          hashlib.sha256(c).hexdigest()))
        if tamper and c:
            sig = "0" * 64
        out.append(f"{len(c):x};chunk-signature={sig}\r\n".encode() + c + b"\r\n")
        prev = sig
    if trailer is None:
        return b"".join(out)
    out[-1] = out[-1][:-2]   # the trailer follows the final chunk header directly
    name, value = trailer
    canon = f"{name}:{value}\n"
    tsig = sigv4.sign(key, sigv4.trailer_string_to_sign(
        amz_date, scope, prev, hashlib.sha256(canon.encode()).hexdigest()))
    out.append(f"{name}:{value}\r\nx-amz-trailer-signature:{tsig}\r\n\r\n".encode())
    return b"".join(out)


def _crc32(data: bytes) -> str:
    return base64.b64encode(zlib.crc32(data).to_bytes(4, "big")).decode()


CHUNKS = [b"a" * 65536, b"b" * 65536, b"c" * 1000]
DATA = b"".join(CHUNKS)


def test_streaming_signed(server, s3, bucket):
    path = f"/{bucket}/streamed"
    h, key, d, scope, seed = _signed_headers(server, path, sigv4.STREAMING, {}, len(DATA))
    body = _signed_body(CHUNKS, key, d, scope, seed)
    r = requests.put(server.endpoint + path, headers=h, data=body)
    assert r.status_code == 200, r.text
    g = s3.get_object(Bucket=bucket, Key="streamed")
    assert g["Body"].read() == DATA and "ContentEncoding" not in g


def test_streaming_bad_chunk_signature(server, s3, bucket):
    path = f"/{bucket}/badchunk"
    h, key, d, scope, seed = _signed_headers(server, path, sigv4.STREAMING, {}, len(DATA))
    body = _signed_body(CHUNKS, key, d, scope, seed, tamper=True)
    r = requests.put(server.endpoint + path, headers=h, data=body)
    assert r.status_code == 403 and error_code(r) == "SignatureDoesNotMatch"
    assert "badchunk" not in str(s3.list_objects_v2(Bucket=bucket).get("Contents"))


def test_streaming_truncated(server, s3, bucket):
    path = f"/{bucket}/short"
    h, key, d, scope, seed = _signed_headers(server, path, sigv4.STREAMING, {},
                                             len(DATA) + 10)
    body = _signed_body(CHUNKS, key, d, scope, seed)
    r = requests.put(server.endpoint + path, headers=h, data=body)
    assert r.status_code == 400 and error_code(r) == "IncompleteBody"


def test_streaming_signed_with_trailer(server, s3, bucket):
    path = f"/{bucket}/trailer"
    extra = {"x-amz-trailer": "x-amz-checksum-crc32"}
    h, key, d, scope, seed = _signed_headers(server, path, sigv4.STREAMING_TRAILER, extra,
                                             len(DATA))
    body = _signed_body(CHUNKS, key, d, scope, seed, ("x-amz-checksum-crc32", _crc32(DATA)))
    r = requests.put(server.endpoint + path, headers=h, data=body)
    assert r.status_code == 200, r.text
    g = s3.get_object(Bucket=bucket, Key="trailer", ChecksumMode="ENABLED")
    assert g["Body"].read() == DATA and g["ChecksumCRC32"] == _crc32(DATA)


def test_streaming_trailer_mismatch(server, s3, bucket):
    path = f"/{bucket}/trailerbad"
    extra = {"x-amz-trailer": "x-amz-checksum-crc32"}
    h, key, d, scope, seed = _signed_headers(server, path, sigv4.STREAMING_TRAILER, extra,
                                             len(DATA))
    body = _signed_body(CHUNKS, key, d, scope, seed, ("x-amz-checksum-crc32", _crc32(b"x")))
    r = requests.put(server.endpoint + path, headers=h, data=body)
    assert r.status_code == 400 and error_code(r) == "BadDigest"


def test_unsigned_payload_trailer(server, s3, bucket):
    path = f"/{bucket}/unsigned"
    extra = {"x-amz-trailer": "x-amz-checksum-crc32"}
    h, *_ = _signed_headers(server, path, sigv4.STREAMING_UNSIGNED_TRAILER, extra, len(DATA))
    body = b"".join(f"{len(c):x}\r\n".encode() + c + b"\r\n" for c in CHUNKS)
    body += f"0\r\nx-amz-checksum-crc32:{_crc32(DATA)}\r\n\r\n".encode()
    r = requests.put(server.endpoint + path, headers=h, data=body)
    assert r.status_code == 200, r.text
    assert s3.get_object(Bucket=bucket, Key="unsigned")["Body"].read() == DATA
    bad = body.replace(_crc32(DATA).encode(), _crc32(b"zz").encode())
    r = requests.put(server.endpoint + f"/{bucket}/unsigned2",
                     headers=_signed_headers(server, f"/{bucket}/unsigned2",
                                             sigv4.STREAMING_UNSIGNED_TRAILER, extra,
                                             len(DATA))[0], data=bad)
    assert r.status_code == 400 and error_code(r) == "BadDigest"
