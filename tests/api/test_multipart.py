"""Multipart uploads as the CLIs drive them, and their errors."""
import hashlib
import os

import botocore.exceptions
import pytest
from boto3.s3.transfer import TransferConfig

MiB = 1024 * 1024


def _code(e) -> str:
    return e.value.response["Error"]["Code"]


def _upload(s3, bucket, key, parts, **kw):
    up = s3.create_multipart_upload(Bucket=bucket, Key=key, **kw)
    uid = up["UploadId"]
    done = []
    for i, body in enumerate(parts, 1):
        r = s3.upload_part(Bucket=bucket, Key=key, UploadId=uid, PartNumber=i, Body=body)
        done.append({"PartNumber": i, "ETag": r["ETag"]})
    return uid, done


def test_complete_etag_and_ranges(s3, bucket):
    parts = [os.urandom(5 * MiB), os.urandom(5 * MiB), os.urandom(1234)]
    uid, done = _upload(s3, bucket, "mp", parts, ContentType="video/mp4",
                        Metadata={"k": "v"})
    listed = s3.list_parts(Bucket=bucket, Key="mp", UploadId=uid)
    assert [p["Size"] for p in listed["Parts"]] == [len(p) for p in parts]
    r = s3.complete_multipart_upload(Bucket=bucket, Key="mp", UploadId=uid,
                                     MultipartUpload={"Parts": done})
    md5s = b"".join(hashlib.md5(p).digest() for p in parts)
    assert r["ETag"] == f'"{hashlib.md5(md5s).hexdigest()}-3"'
    whole = b"".join(parts)
    g = s3.get_object(Bucket=bucket, Key="mp")
    assert g["ContentType"] == "video/mp4" and g["Metadata"] == {"k": "v"}
    assert g["Body"].read() == whole
    rng = s3.get_object(Bucket=bucket, Key="mp", Range=f"bytes={5 * MiB - 10}-{10 * MiB + 10}")
    assert rng["Body"].read() == whole[5 * MiB - 10: 10 * MiB + 11]
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.list_parts(Bucket=bucket, Key="mp", UploadId=uid)
    assert _code(e) == "NoSuchUpload"


def test_part_replacement(s3, bucket):
    uid, done = _upload(s3, bucket, "rep", [os.urandom(5 * MiB), b"first"])
    r = s3.upload_part(Bucket=bucket, Key="rep", UploadId=uid, PartNumber=2, Body=b"second")
    done[1]["ETag"] = r["ETag"]
    s3.complete_multipart_upload(Bucket=bucket, Key="rep", UploadId=uid,
                                 MultipartUpload={"Parts": done})
    assert s3.get_object(Bucket=bucket, Key="rep")["Body"].read()[-6:] == b"second"


def test_complete_errors(s3, bucket):
    uid, done = _upload(s3, bucket, "bad", [b"small", b"parts"])
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.complete_multipart_upload(Bucket=bucket, Key="bad", UploadId=uid,
                                     MultipartUpload={"Parts": done})
    assert _code(e) == "EntityTooSmall"
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.complete_multipart_upload(Bucket=bucket, Key="bad", UploadId=uid,
                                     MultipartUpload={"Parts": [done[1], done[0]]})
    assert _code(e) == "InvalidPartOrder"
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.complete_multipart_upload(Bucket=bucket, Key="bad", UploadId=uid,
                                     MultipartUpload={"Parts": [
                                         {"PartNumber": 1, "ETag": '"0123"'}]})
    assert _code(e) == "InvalidPart"
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.complete_multipart_upload(Bucket=bucket, Key="bad", UploadId=uid,
                                     MultipartUpload={"Parts": [
                                         {"PartNumber": 7, "ETag": done[0]["ETag"]}]})
    assert _code(e) == "InvalidPart"
    # A failed completion leaves the upload usable: a single small last part is fine.
    s3.complete_multipart_upload(Bucket=bucket, Key="bad", UploadId=uid,
                                 MultipartUpload={"Parts": [done[0]]})
    assert s3.get_object(Bucket=bucket, Key="bad")["Body"].read() == b"small"


def test_abort_and_no_such_upload(s3, bucket):
    uid, _ = _upload(s3, bucket, "ab", [b"data"])
    s3.abort_multipart_upload(Bucket=bucket, Key="ab", UploadId=uid)
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.upload_part(Bucket=bucket, Key="ab", UploadId=uid, PartNumber=1, Body=b"x")
    assert _code(e) == "NoSuchUpload"
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.abort_multipart_upload(Bucket=bucket, Key="ab", UploadId="nonexistent")
    assert _code(e) == "NoSuchUpload"


def test_bad_part_number(s3, bucket):
    uid, _ = _upload(s3, bucket, "pn", [])
    for n in (0, 10001):
        with pytest.raises(botocore.exceptions.ClientError) as e:
            s3.upload_part(Bucket=bucket, Key="pn", UploadId=uid, PartNumber=n, Body=b"x")
        assert _code(e) == "InvalidArgument"


def test_list_parts_pagination(s3, bucket):
    uid, _ = _upload(s3, bucket, "lp", [b"p"] * 5)
    first = s3.list_parts(Bucket=bucket, Key="lp", UploadId=uid, MaxParts=2)
    assert [p["PartNumber"] for p in first["Parts"]] == [1, 2] and first["IsTruncated"]
    nxt = s3.list_parts(Bucket=bucket, Key="lp", UploadId=uid, MaxParts=10,
                        PartNumberMarker=first["NextPartNumberMarker"])
    assert [p["PartNumber"] for p in nxt["Parts"]] == [3, 4, 5] and not nxt["IsTruncated"]


@pytest.mark.parametrize("algorithm,ctype", [("CRC32", "COMPOSITE"), ("CRC32", "FULL_OBJECT"),
                                             ("CRC64NVME", "FULL_OBJECT"),
                                             ("SHA256", "COMPOSITE")])
def test_multipart_checksums(s3, bucket, algorithm, ctype):
    parts = [os.urandom(5 * MiB), os.urandom(100)]
    up = s3.create_multipart_upload(Bucket=bucket, Key="ck", ChecksumAlgorithm=algorithm,
                                    ChecksumType=ctype)
    done = []
    for i, body in enumerate(parts, 1):
        r = s3.upload_part(Bucket=bucket, Key="ck", UploadId=up["UploadId"], PartNumber=i,
                           Body=body, ChecksumAlgorithm=algorithm)
        done.append({"PartNumber": i, "ETag": r["ETag"],
                     f"Checksum{algorithm}": r[f"Checksum{algorithm}"]})
    r = s3.complete_multipart_upload(Bucket=bucket, Key="ck", UploadId=up["UploadId"],
                                     MultipartUpload={"Parts": done})
    assert r["ChecksumType"] == ctype
    g = s3.get_object(Bucket=bucket, Key="ck", ChecksumMode="ENABLED")
    assert g["Body"].read() == b"".join(parts)
    if ctype == "FULL_OBJECT" and algorithm == "CRC32":
        import base64
        import zlib
        assert base64.b64decode(g["ChecksumCRC32"]) == zlib.crc32(b"".join(parts)).to_bytes(
            4, "big")
    if ctype == "COMPOSITE":
        assert g[f"Checksum{algorithm}"].endswith("-2")


def test_transfer_manager_concurrent_parts(s3, bucket, tmp_path):
    src = tmp_path / "src.bin"
    with open(src, "wb") as f:
        for _ in range(24):
            f.write(os.urandom(MiB))
    cfg = TransferConfig(multipart_threshold=5 * MiB, multipart_chunksize=5 * MiB,
                         max_concurrency=8)
    s3.upload_file(str(src), bucket, "tm", Config=cfg)
    dst = tmp_path / "dst.bin"
    s3.download_file(bucket, "tm", str(dst), Config=cfg)
    assert hashlib.md5(src.read_bytes()).digest() == hashlib.md5(dst.read_bytes()).digest()


def test_list_multipart_uploads(s3, bucket):
    ids = {}
    for key in ["a/1", "a/2", "b", "b", "c/d/e"]:
        ids.setdefault(key, []).append(
            s3.create_multipart_upload(Bucket=bucket, Key=key)["UploadId"])
    r = s3.list_multipart_uploads(Bucket=bucket)
    assert [(u["Key"], u["UploadId"]) for u in r["Uploads"]] == sorted(
        (k, i) for k, v in ids.items() for i in v)
    r = s3.list_multipart_uploads(Bucket=bucket, Delimiter="/")
    assert [u["Key"] for u in r["Uploads"]] == ["b", "b"]
    assert [p["Prefix"] for p in r["CommonPrefixes"]] == ["a/", "c/"]
    r = s3.list_multipart_uploads(Bucket=bucket, Prefix="a/")
    assert [u["Key"] for u in r["Uploads"]] == ["a/1", "a/2"]
    seen, km, um = [], "", ""
    while True:
        r = s3.list_multipart_uploads(Bucket=bucket, MaxUploads=2, KeyMarker=km,
                                      UploadIdMarker=um)
        seen += [(u["Key"], u["UploadId"]) for u in r.get("Uploads", [])]
        if not r["IsTruncated"]:
            break
        km, um = r["NextKeyMarker"], r["NextUploadIdMarker"]
    assert len(seen) == 5 and len(set(seen)) == 5
    for key, uids in ids.items():
        for uid in uids:
            s3.abort_multipart_upload(Bucket=bucket, Key=key, UploadId=uid)
    assert "Uploads" not in s3.list_multipart_uploads(Bucket=bucket)


def test_get_part_number(s3, bucket):
    parts = [os.urandom(5 * MiB), b"second part"]
    uid, done = _upload(s3, bucket, "pn", parts)
    s3.complete_multipart_upload(Bucket=bucket, Key="pn", UploadId=uid,
                                 MultipartUpload={"Parts": done})
    r = s3.get_object(Bucket=bucket, Key="pn", PartNumber=2)
    assert r["Body"].read() == b"second part" and r["PartsCount"] == 2
    assert r["ContentRange"] == f"bytes {5 * MiB}-{5 * MiB + 10}/{5 * MiB + 11}"
    h = s3.head_object(Bucket=bucket, Key="pn", PartNumber=1)
    assert h["ContentLength"] == 5 * MiB and h["PartsCount"] == 2
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.get_object(Bucket=bucket, Key="pn", PartNumber=3)
    assert _code(e) == "InvalidPartNumber"
    s3.put_object(Bucket=bucket, Key="single", Body=b"one")
    assert s3.get_object(Bucket=bucket, Key="single", PartNumber=1)["Body"].read() == b"one"


_B64_SIZES = {"CRC32": 4, "CRC32C": 4, "CRC64NVME": 8, "SHA1": 20, "SHA256": 32}


@pytest.mark.parametrize("algorithm", ["CRC32", "CRC64NVME", "SHA256", "all"])
def test_complete_document_for_10000_parts_is_accepted(s3, bucket, algorithm):
    """10,000 parts with the checksums SDKs send by default (and, the largest legal document,
    every checksum field on every part) are parsed: the answer is about the parts (part 2 was
    never uploaded), never MaxMessageLengthExceeded or MalformedXML."""
    import base64
    kw = {} if algorithm == "all" else {"ChecksumAlgorithm": algorithm}
    up = s3.create_multipart_upload(Bucket=bucket, Key="big-doc", **kw)["UploadId"]
    r = s3.upload_part(Bucket=bucket, Key="big-doc", UploadId=up, PartNumber=1, Body=b"p1",
                       **kw)
    names = list(_B64_SIZES) if algorithm == "all" else [algorithm]
    first = {"PartNumber": 1, "ETag": r["ETag"]}
    first.update({f"Checksum{a}": r[f"Checksum{a}"] for a in names if f"Checksum{a}" in r})
    parts = [first] + [
        {"PartNumber": n, "ETag": '"%032x"' % n,
         **{f"Checksum{a}": base64.b64encode(bytes([n % 256]) * _B64_SIZES[a]).decode()
            for a in names}}
        for n in range(2, 10001)]
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.complete_multipart_upload(Bucket=bucket, Key="big-doc", UploadId=up,
                                     MultipartUpload={"Parts": parts})
    assert _code(e) == "InvalidPart", e.value.response["Error"]
    s3.abort_multipart_upload(Bucket=bucket, Key="big-doc", UploadId=up)


def test_complete_headers_take_effect(s3, bucket):
    """x-amz-mp-object-size and x-amz-checksum-type are checked, not ignored."""
    up = s3.create_multipart_upload(Bucket=bucket, Key="hdr", ChecksumAlgorithm="CRC32",
                                    ChecksumType="FULL_OBJECT")["UploadId"]
    r = s3.upload_part(Bucket=bucket, Key="hdr", UploadId=up, PartNumber=1, Body=b"abc",
                       ChecksumAlgorithm="CRC32")
    parts = {"Parts": [{"PartNumber": 1, "ETag": r["ETag"], "ChecksumCRC32": r["ChecksumCRC32"]}]}
    for kw, code in [({"MpuObjectSize": 4}, "InvalidRequest"),
                     ({"ChecksumType": "COMPOSITE"}, "InvalidRequest"),
                     ({"ChecksumSHA256": "A" * 43 + "="}, "InvalidRequest")]:
        with pytest.raises(botocore.exceptions.ClientError) as e:
            s3.complete_multipart_upload(Bucket=bucket, Key="hdr", UploadId=up,
                                         MultipartUpload=parts, **kw)
        assert _code(e) == code, kw
    done = s3.complete_multipart_upload(Bucket=bucket, Key="hdr", UploadId=up,
                                        MultipartUpload=parts, MpuObjectSize=3,
                                        ChecksumType="FULL_OBJECT",
                                        ChecksumCRC32=r["ChecksumCRC32"])
    assert done["ChecksumType"] == "FULL_OBJECT"
    assert s3.get_object(Bucket=bucket, Key="hdr")["Body"].read() == b"abc"
