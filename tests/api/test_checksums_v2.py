"""Checksums as AWS answers them now: BadDigest for a value that does not match the body;
multipart FULL_OBJECT and COMPOSITE checksums (create, parts, completion, ListParts, GET/HEAD
with partNumber); the SDK's default multipart upload round-tripping."""
import base64
import hashlib
import os
import zlib

import botocore.exceptions
import pytest
from boto3.s3.transfer import TransferConfig

from tests.support import error_code, send, signed_request

MIB = 1024 * 1024
ALGOS = ["CRC32", "CRC32C", "CRC64NVME", "SHA1", "SHA256"]
_SIZES = {"CRC32": 4, "CRC32C": 4, "CRC64NVME": 8, "SHA1": 20, "SHA256": 32}


def _err(call, **kw):
    with pytest.raises(botocore.exceptions.ClientError) as e:
        call(**kw)
    return e.value.response["Error"]


def _other(algorithm: str) -> str:
    """A well-formed value of `algorithm` that is not the checksum of anything used here."""
    return base64.b64encode(b"\x01" * _SIZES[algorithm]).decode()


@pytest.mark.parametrize("algorithm", ALGOS)
def test_mismatch_is_bad_digest_with_aws_message(server, bucket, algorithm):
    # A client that does not compute checksums itself sends exactly the header given.
    s3 = server.client(request_checksum_calculation="when_required")
    err = _err(s3.put_object, Bucket=bucket, Key="k", Body=b"body",
               **{f"Checksum{algorithm}": _other(algorithm)})
    assert err["Code"] == "BadDigest"
    assert err["Message"] == (f"The {algorithm} you specified did not match the calculated "
                              "checksum.")
    assert _err(s3.head_object, Bucket=bucket, Key="k")["Code"] == "404"
    up = s3.create_multipart_upload(Bucket=bucket, Key="k", ChecksumAlgorithm=algorithm)
    err = _err(s3.upload_part, Bucket=bucket, Key="k", UploadId=up["UploadId"], PartNumber=1,
               Body=b"part", **{f"Checksum{algorithm}": _other(algorithm)})
    assert err["Code"] == "BadDigest" and algorithm in err["Message"]
    assert "Parts" not in s3.list_parts(Bucket=bucket, Key="k", UploadId=up["UploadId"])
    s3.abort_multipart_upload(Bucket=bucket, Key="k", UploadId=up["UploadId"])


@pytest.mark.parametrize("extra,message", [
    ({"x-amz-sdk-checksum-algorithm": "CRC32"},
     "x-amz-sdk-checksum-algorithm specified, but no corresponding x-amz-checksum-* or "
     "x-amz-trailer headers were found."),
    ({"x-amz-sdk-checksum-algorithm": "CRC32",
      "x-amz-checksum-crc32c": base64.b64encode(b"\0" * 4).decode()},
     "Value for x-amz-sdk-checksum-algorithm header is invalid."),
])
def test_sdk_algorithm_header_must_name_the_checksum_sent(server, s3, bucket, extra, message):
    """x-amz-sdk-checksum-algorithm names the checksum the request carries: alone, or naming
    another algorithm than the x-amz-checksum-* header, it is refused (never ignored)."""
    url, headers = signed_request(server, "PUT", f"/{bucket}/sdk", b"data", headers=extra)
    r = send("PUT", url, headers, b"data")
    assert r.status_code == 400 and error_code(r) == "InvalidRequest"
    assert f"<Message>{message}</Message>" in r.text
    assert "Contents" not in s3.list_objects_v2(Bucket=bucket)


def test_trailer_mismatch_on_unsigned_streaming_part_is_bad_digest(server, s3, bucket):
    import datetime as dt

    import requests

    from s3ish.s3.auth import sigv4
    from tests.support import ROOT_PASSWORD, ROOT_USER
    uid = s3.create_multipart_upload(Bucket=bucket, Key="t",
                                     ChecksumAlgorithm="CRC32")["UploadId"]
    data = b"x" * 100
    wrong = base64.b64encode(zlib.crc32(b"y").to_bytes(4, "big")).decode()
    body = (f"{len(data):x}\r\n".encode() + data + b"\r\n0\r\n"
            + f"x-amz-checksum-crc32:{wrong}\r\n\r\n".encode())
    now = dt.datetime.now(dt.timezone.utc)
    amz_date, date = now.strftime("%Y%m%dT%H%M%SZ"), now.strftime("%Y%m%d")
    mode = sigv4.STREAMING_UNSIGNED_TRAILER
    headers = {"host": f"127.0.0.1:{server.port}", "x-amz-date": amz_date,
               "x-amz-content-sha256": mode, "content-encoding": "aws-chunked",
               "x-amz-decoded-content-length": str(len(data)),
               "x-amz-trailer": "x-amz-checksum-crc32"}
    signed = sorted(headers)
    params = [("partNumber", "1"), ("uploadId", uid)]
    canonical = sigv4.canonical_request("PUT", f"/{bucket}/t", params, headers, signed, mode)
    scope = sigv4.scope(date, "us-east-1")
    key = sigv4.signing_key(ROOT_PASSWORD, date, "us-east-1")
    sig = sigv4.sign(key, sigv4.string_to_sign(amz_date, scope, canonical))
    headers["Authorization"] = (f"AWS4-HMAC-SHA256 Credential={ROOT_USER}/{scope}, "
                                f"SignedHeaders={';'.join(signed)}, Signature={sig}")
    r = requests.put(f"{server.endpoint}/{bucket}/t?partNumber=1&uploadId={uid}",
                     headers=headers, data=body)
    assert r.status_code == 400 and error_code(r) == "BadDigest", r.text
    assert "Parts" not in s3.list_parts(Bucket=bucket, Key="t", UploadId=uid)
    s3.abort_multipart_upload(Bucket=bucket, Key="t", UploadId=uid)


def _parts(s3, bucket, key, upload_id, algorithm, bodies):
    done = []
    for n, body in enumerate(bodies, 1):
        r = s3.upload_part(Bucket=bucket, Key=key, UploadId=upload_id, PartNumber=n, Body=body,
                           ChecksumAlgorithm=algorithm)
        done.append({"PartNumber": n, "ETag": r["ETag"],
                     f"Checksum{algorithm}": r[f"Checksum{algorithm}"]})
    return done


def _whole(algorithm: str, ctype: str, bodies, done) -> str:
    from s3ish.util import checksums
    if ctype == "FULL_OBJECT":
        h = checksums.new(algorithm)
        for b in bodies:
            h.update(b)
        return checksums.b64(h.digest())
    h = checksums.new(algorithm)
    for p in done:
        h.update(base64.b64decode(p[f"Checksum{algorithm}"]))
    return f"{checksums.b64(h.digest())}-{len(done)}"


@pytest.mark.parametrize("algorithm,ctype", [
    ("CRC32", "FULL_OBJECT"), ("CRC32C", "FULL_OBJECT"), ("CRC64NVME", "FULL_OBJECT"),
    ("CRC32", "COMPOSITE"), ("CRC32C", "COMPOSITE"), ("SHA1", "COMPOSITE"),
    ("SHA256", "COMPOSITE")])
def test_multipart_checksum_types(s3, bucket, algorithm, ctype):
    bodies = [os.urandom(5 * MIB), b"tail part"]
    key = f"{algorithm}-{ctype}"
    up = s3.create_multipart_upload(Bucket=bucket, Key=key, ChecksumAlgorithm=algorithm,
                                    ChecksumType=ctype)
    assert (up["ChecksumAlgorithm"], up["ChecksumType"]) == (algorithm, ctype)
    uid = up["UploadId"]
    done = _parts(s3, bucket, key, uid, algorithm, bodies)
    listed = s3.list_parts(Bucket=bucket, Key=key, UploadId=uid)
    assert (listed["ChecksumAlgorithm"], listed["ChecksumType"]) == (algorithm, ctype)
    assert [p[f"Checksum{algorithm}"] for p in listed["Parts"]] == \
        [p[f"Checksum{algorithm}"] for p in done]
    whole = _whole(algorithm, ctype, bodies, done)
    # A whole-object checksum that does not match: BadDigest, the upload stays.
    wrong = _other(algorithm) + ("-2" if ctype == "COMPOSITE" else "")
    err = _err(s3.complete_multipart_upload, Bucket=bucket, Key=key, UploadId=uid,
               MultipartUpload={"Parts": done}, **{f"Checksum{algorithm}": wrong})
    assert err["Code"] == "BadDigest"
    r = s3.complete_multipart_upload(Bucket=bucket, Key=key, UploadId=uid,
                                     MultipartUpload={"Parts": done}, ChecksumType=ctype,
                                     **{f"Checksum{algorithm}": whole})
    assert r[f"Checksum{algorithm}"] == whole and r["ChecksumType"] == ctype
    h = s3.head_object(Bucket=bucket, Key=key, ChecksumMode="ENABLED")
    assert h[f"Checksum{algorithm}"] == whole and h["ChecksumType"] == ctype
    g = s3.get_object(Bucket=bucket, Key=key, ChecksumMode="ENABLED")
    assert g["Body"].read() == b"".join(bodies)
    # partNumber reads: a composite object reports the part's own checksum (which botocore
    # then checks against the part's bytes); a full-object one none, the value being the
    # whole object's.
    for n, body in enumerate(bodies, 1):
        p = s3.get_object(Bucket=bucket, Key=key, PartNumber=n, ChecksumMode="ENABLED")
        assert p["Body"].read() == body
        if ctype == "COMPOSITE":
            assert p[f"Checksum{algorithm}"] == done[n - 1][f"Checksum{algorithm}"]
            assert p["ChecksumType"] == "COMPOSITE"
        else:
            assert f"Checksum{algorithm}" not in p and "ChecksumType" not in p


def test_single_part_full_object_reports_the_whole_checksum_for_part_1(s3, bucket):
    up = s3.create_multipart_upload(Bucket=bucket, Key="one", ChecksumAlgorithm="CRC64NVME")
    done = _parts(s3, bucket, "one", up["UploadId"], "CRC64NVME", [b"only part"])
    r = s3.complete_multipart_upload(Bucket=bucket, Key="one", UploadId=up["UploadId"],
                                     MultipartUpload={"Parts": done})
    p = s3.head_object(Bucket=bucket, Key="one", PartNumber=1, ChecksumMode="ENABLED")
    assert p["ChecksumCRC64NVME"] == r["ChecksumCRC64NVME"] == done[0]["ChecksumCRC64NVME"]
    s3.put_object(Bucket=bucket, Key="plain", Body=b"plain", ChecksumAlgorithm="SHA1")
    p = s3.get_object(Bucket=bucket, Key="plain", PartNumber=1, ChecksumMode="ENABLED")
    assert p["ChecksumSHA1"] == base64.b64encode(hashlib.sha1(b"plain").digest()).decode()


@pytest.mark.parametrize("algorithm,ctype", [("SHA256", "FULL_OBJECT"), ("SHA1", "FULL_OBJECT"),
                                             ("CRC64NVME", "COMPOSITE")])
def test_create_refuses_impossible_combinations(s3, bucket, algorithm, ctype):
    err = _err(s3.create_multipart_upload, Bucket=bucket, Key="x", ChecksumAlgorithm=algorithm,
               ChecksumType=ctype)
    assert (err["Code"], err["Message"]) == (
        "InvalidRequest", f"The {ctype} checksum type cannot be used with the "
        f"{algorithm.lower()} checksum algorithm.")
    assert "Uploads" not in s3.list_multipart_uploads(Bucket=bucket)


def test_parts_must_carry_the_upload_algorithm(server, s3, bucket):
    up = s3.create_multipart_upload(Bucket=bucket, Key="p", ChecksumAlgorithm="SHA256")
    uid = up["UploadId"]
    quiet = server.client(request_checksum_calculation="when_required")
    err = _err(quiet.upload_part, Bucket=bucket, Key="p", UploadId=uid, PartNumber=1,
               Body=b"no checksum")
    assert (err["Code"], err["Message"]) == ("InvalidRequest", "Checksum Type mismatch "
                                             "occurred, expected checksum Type: sha256, actual "
                                             "checksum Type: null")
    err = _err(s3.upload_part, Bucket=bucket, Key="p", UploadId=uid, PartNumber=1,
               Body=b"crc32", ChecksumAlgorithm="CRC32")
    assert err["Message"].endswith("expected checksum Type: sha256, actual checksum Type: crc32")
    s3.abort_multipart_upload(Bucket=bucket, Key="p", UploadId=uid)


def test_composite_completion_rules(s3, bucket):
    up = s3.create_multipart_upload(Bucket=bucket, Key="c", ChecksumAlgorithm="SHA256")
    uid = up["UploadId"]
    done = _parts(s3, bucket, "c", uid, "SHA256", [os.urandom(5 * MIB), os.urandom(5 * MIB),
                                                    b"3"])
    # Every part's checksum must be listed.
    bare = [dict(done[0]), {"PartNumber": 2, "ETag": done[1]["ETag"]}, dict(done[2])]
    err = _err(s3.complete_multipart_upload, Bucket=bucket, Key="c", UploadId=uid,
               MultipartUpload={"Parts": bare})
    assert (err["Code"], err["Message"]) == (
        "InvalidRequest", "The upload was created using a sha256 checksum. The complete "
        "request must include the checksum for each part. It was missing for part 2 in the "
        "request.")
    # A wrong part checksum: InvalidPart.
    bad = [dict(done[0]), dict(done[1], ChecksumSHA256=done[0]["ChecksumSHA256"]),
           dict(done[2])]
    assert _err(s3.complete_multipart_upload, Bucket=bucket, Key="c", UploadId=uid,
                MultipartUpload={"Parts": bad})["Code"] == "InvalidPart"
    # With checksums, part numbers start at 1 with no gap.
    gap = [dict(done[0]), dict(done[2])]
    assert _err(s3.complete_multipart_upload, Bucket=bucket, Key="c", UploadId=uid,
                MultipartUpload={"Parts": gap})["Code"] == "InvalidPartOrder"
    # The completion's checksum algorithm must be the upload's.
    assert _err(s3.complete_multipart_upload, Bucket=bucket, Key="c", UploadId=uid,
                MultipartUpload={"Parts": done},
                ChecksumCRC32=_other("CRC32"))["Code"] == "InvalidRequest"
    r = s3.complete_multipart_upload(Bucket=bucket, Key="c", UploadId=uid,
                                     MultipartUpload={"Parts": done})
    assert r["ChecksumSHA256"].endswith("-3") and r["ChecksumType"] == "COMPOSITE"


def test_unchecksummed_upload_allows_gaps(server, bucket):
    s3 = server.client(request_checksum_calculation="when_required")
    uid = s3.create_multipart_upload(Bucket=bucket, Key="g")["UploadId"]
    e1 = s3.upload_part(Bucket=bucket, Key="g", UploadId=uid, PartNumber=2,
                        Body=b"a" * (5 * MIB))["ETag"]
    e2 = s3.upload_part(Bucket=bucket, Key="g", UploadId=uid, PartNumber=5, Body=b"b")["ETag"]
    s3.complete_multipart_upload(Bucket=bucket, Key="g", UploadId=uid, MultipartUpload={
        "Parts": [{"PartNumber": 2, "ETag": e1}, {"PartNumber": 5, "ETag": e2}]})
    assert s3.head_object(Bucket=bucket, Key="g")["ContentLength"] == 5 * MIB + 1


def test_upload_file_with_sdk_defaults_round_trips(s3, bucket, tmp_path):
    """boto3 with default checksum settings (when_supported): upload_file makes a CRC32
    multipart upload; the object's composite checksum is the one computed from the parts."""
    src = tmp_path / "src.bin"
    data = os.urandom(11 * MIB + 3)
    src.write_bytes(data)
    cfg = TransferConfig(multipart_threshold=5 * MIB, multipart_chunksize=5 * MIB)
    s3.upload_file(str(src), bucket, "uf", Config=cfg)
    h = s3.head_object(Bucket=bucket, Key="uf", ChecksumMode="ENABLED")
    chunks = [data[i:i + 5 * MIB] for i in range(0, len(data), 5 * MIB)]
    crcs = b"".join(zlib.crc32(c).to_bytes(4, "big") for c in chunks)
    expected = base64.b64encode(zlib.crc32(crcs).to_bytes(4, "big")).decode() + "-3"
    assert (h["ChecksumCRC32"], h["ChecksumType"]) == (expected, "COMPOSITE")
    dst = tmp_path / "dst.bin"
    s3.download_file(bucket, "uf", str(dst), Config=cfg)
    assert dst.read_bytes() == data
    attrs = s3.get_object_attributes(Bucket=bucket, Key="uf",
                                     ObjectAttributes=["Checksum", "ObjectParts"])
    assert attrs["Checksum"]["ChecksumCRC32"] == expected[:-2]
    assert attrs["ObjectParts"]["TotalPartsCount"] == 3


@pytest.mark.parametrize("algorithm", ["CRC32", "CRC32C", "CRC64NVME"])
def test_upload_file_with_a_full_object_checksum(s3, bucket, tmp_path, algorithm):
    """upload_file(ExtraArgs={"Checksum<ALG>": whole}) makes a FULL_OBJECT upload and sends
    the whole object's checksum on completion; a wrong one is BadDigest and stores nothing."""
    from s3ish.util import checksums
    src = tmp_path / "src.bin"
    data = os.urandom(10 * MIB + 1)
    src.write_bytes(data)
    h = checksums.new(algorithm)
    h.update(data)
    whole = checksums.b64(h.digest())
    cfg = TransferConfig(multipart_threshold=5 * MIB, multipart_chunksize=5 * MIB)
    with pytest.raises(Exception) as e:
        s3.upload_file(str(src), bucket, "bad", Config=cfg,
                       ExtraArgs={f"Checksum{algorithm}": _other(algorithm)})
    assert "BadDigest" in str(e.value)
    assert "Contents" not in s3.list_objects_v2(Bucket=bucket, Prefix="bad")
    for u in s3.list_multipart_uploads(Bucket=bucket).get("Uploads", []):
        s3.abort_multipart_upload(Bucket=bucket, Key=u["Key"], UploadId=u["UploadId"])
    s3.upload_file(str(src), bucket, "good", Config=cfg,
                   ExtraArgs={f"Checksum{algorithm}": whole})
    g = s3.get_object(Bucket=bucket, Key="good", ChecksumMode="ENABLED")
    assert (g[f"Checksum{algorithm}"], g["ChecksumType"]) == (whole, "FULL_OBJECT")
    assert g["Body"].read() == data


def test_upload_without_algorithm_gets_the_default_crc64nvme(server, bucket):
    """As a PUT without a checksum, an upload created without an algorithm whose parts carry
    none (clients computing checksums only when required; UploadPartCopy) ends with a
    CRC64NVME FULL_OBJECT checksum of the whole object."""
    from s3ish.util import checksums
    s3 = server.client(request_checksum_calculation="when_required")
    first = os.urandom(5 * MIB)
    s3.put_object(Bucket=bucket, Key="src", Body=b"copied tail")
    uid = s3.create_multipart_upload(Bucket=bucket, Key="d")["UploadId"]
    e1 = s3.upload_part(Bucket=bucket, Key="d", UploadId=uid, PartNumber=1, Body=first)
    assert not [k for k in e1 if k.startswith("Checksum")]
    listed = s3.list_parts(Bucket=bucket, Key="d", UploadId=uid)["Parts"]
    h = checksums.new("CRC64NVME")
    h.update(first)
    assert listed[0]["ChecksumCRC64NVME"] == checksums.b64(h.digest())
    e2 = s3.upload_part_copy(Bucket=bucket, Key="d", UploadId=uid, PartNumber=2,
                             CopySource={"Bucket": bucket, "Key": "src"})["CopyPartResult"]
    r = s3.complete_multipart_upload(Bucket=bucket, Key="d", UploadId=uid, MultipartUpload={
        "Parts": [{"PartNumber": 1, "ETag": e1["ETag"]}, {"PartNumber": 2, "ETag": e2["ETag"]}]})
    h = checksums.new("CRC64NVME")
    h.update(first + b"copied tail")
    assert (r["ChecksumCRC64NVME"], r["ChecksumType"]) == (checksums.b64(h.digest()),
                                                           "FULL_OBJECT")
    g = s3.get_object(Bucket=bucket, Key="d", ChecksumMode="ENABLED")
    assert g["ChecksumCRC64NVME"] == r["ChecksumCRC64NVME"]
    assert g["Body"].read() == first + b"copied tail"
