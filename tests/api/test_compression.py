"""Transparent compression (engine/compress.py) through boto3: clients see the original
bytes, size, ETag, checksums, ranges and part numbers; the data folder holds fewer bytes; the
skip lists, the per-bucket switch, the metrics, erasure-coded drives and old folders."""
import base64
import hashlib
import io
import json
import os
import subprocess
import sys
import tarfile
import zlib

import pytest
import requests

from s3ish.engine import compress, selfdescribe, sse
from s3ish.storage.blockzstd import BLOCK_SIZE
from tests.support import ROOT_PASSWORD, ROOT_USER, ServerProcess, send, signed_request, \
    unique_bucket

MiB = 1024 * 1024
FIXTURES = os.path.join(os.path.dirname(__file__), "..", "fixtures")


def text(n: int, seed: str = "") -> bytes:
    """`n` bytes of compressible text (numbered lines, so no two blocks are alike)."""
    out = bytearray()
    i = 0
    while len(out) < n:
        out += f"{seed}line {i:08d} of a body that compresses well\n".encode()
        i += 1
    return bytes(out[:n])


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("zstd")
    s = ServerProcess(str(tmp / "data"), str(tmp), extra_args=["--compression", "on"]).start()
    yield s
    s.stop()


@pytest.fixture(scope="module")
def c(srv):
    return srv.client()


@pytest.fixture
def bucket(c):
    name = unique_bucket("z")
    c.create_bucket(Bucket=name)
    return name


def stored_bytes(srv) -> int:
    root = os.path.join(srv.data if isinstance(srv.data, str) else srv.data[0], "objects")
    return sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(root) for f in fs)


def metric(srv, name: str) -> float:
    url, headers = signed_request(srv, "GET", "/_metrics")
    body = send("GET", url, headers).text
    return sum(float(line.split()[-1]) for line in body.splitlines()
               if line.startswith(name + " ") or line.startswith(name + "{"))


def admin(srv, *args):
    env = {**os.environ, "S3ISH_ROOT_USER": ROOT_USER, "S3ISH_ROOT_PASSWORD": ROOT_PASSWORD}
    r = subprocess.run([sys.executable, "-m", "s3ish", "admin", "--endpoint", srv.endpoint,
                        "--json", "compression", *args], env=env, capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def crc32(body: bytes) -> str:
    return base64.b64encode(zlib.crc32(body).to_bytes(4, "big")).decode()


def test_compressible_body_round_trips_smaller_on_disk(srv, c, bucket):
    body = text(3 * MiB + 12345)
    before, m_in, m_out = stored_bytes(srv), metric(srv, "s3ish_compression_input_bytes_total"), \
        metric(srv, "s3ish_compression_stored_bytes_total")
    put = c.put_object(Bucket=bucket, Key="doc.txt", Body=body, ChecksumAlgorithm="CRC32")
    grown = stored_bytes(srv) - before
    assert grown < len(body) // 5, grown
    assert metric(srv, "s3ish_compression_input_bytes_total") - m_in == len(body)
    assert metric(srv, "s3ish_compression_stored_bytes_total") - m_out == grown
    assert put["ETag"] == f'"{hashlib.md5(body).hexdigest()}"'
    got = c.get_object(Bucket=bucket, Key="doc.txt", ChecksumMode="ENABLED")
    assert got["Body"].read() == body
    assert got["ContentLength"] == len(body) and got["ETag"] == put["ETag"]
    assert got["ChecksumCRC32"] == crc32(body)
    assert c.head_object(Bucket=bucket, Key="doc.txt")["ContentLength"] == len(body)
    assert c.list_objects_v2(Bucket=bucket)["Contents"][0]["Size"] == len(body)


def test_incompressible_body_round_trips(srv, c, bucket):
    body = os.urandom(2 * MiB + 7)
    before = stored_bytes(srv)
    c.put_object(Bucket=bucket, Key="noise.bin", Body=body)
    # Raw blocks: the body plus the block index and footer.
    assert stored_bytes(srv) - before < len(body) + 1024
    assert c.get_object(Bucket=bucket, Key="noise.bin")["Body"].read() == body
    r = c.get_object(Bucket=bucket, Key="noise.bin", Range=f"bytes={BLOCK_SIZE - 5}-"
                     f"{BLOCK_SIZE + 5}")
    assert r["Body"].read() == body[BLOCK_SIZE - 5: BLOCK_SIZE + 6]


@pytest.mark.parametrize("rng", [(0, 0), (BLOCK_SIZE - 1, BLOCK_SIZE), (BLOCK_SIZE, BLOCK_SIZE),
                                 (1, 3 * BLOCK_SIZE + 1), (MiB - 3, 2 * MiB + 3),
                                 (5 * BLOCK_SIZE + 17, None), (None, 100)])
def test_ranges_across_block_boundaries(c, bucket, rng):
    # Mixed: compressible blocks with a random stretch stored raw in the middle.
    body = text(MiB, "a") + os.urandom(BLOCK_SIZE + 99) + text(MiB, "b")
    c.put_object(Bucket=bucket, Key="mixed", Body=body)
    start, end = rng
    header = f"bytes={'' if start is None else start}-{'' if end is None else end}"
    want = body[-end:] if start is None else body[start: None if end is None else end + 1]
    r = c.get_object(Bucket=bucket, Key="mixed", Range=header)
    assert r["Body"].read() == want
    assert r["ContentLength"] == len(want)
    assert r["ContentRange"].endswith(f"/{len(body)}")


def test_multipart_part_numbers_and_ranges(srv, c, bucket):
    parts = [text(5 * MiB, "p1"), os.urandom(5 * MiB), text(MiB + 3, "p3")]
    before = stored_bytes(srv)
    uid = c.create_multipart_upload(Bucket=bucket, Key="mp.log", ChecksumAlgorithm="CRC32")[
        "UploadId"]
    done = [{"PartNumber": i + 1, **{k: v for k, v in c.upload_part(
        Bucket=bucket, Key="mp.log", UploadId=uid, PartNumber=i + 1, Body=p,
        ChecksumAlgorithm="CRC32").items() if k in ("ETag", "ChecksumCRC32")}}
        for i, p in enumerate(parts)]
    listed = c.list_parts(Bucket=bucket, Key="mp.log", UploadId=uid)["Parts"]
    assert [p["Size"] for p in listed] == [len(p) for p in parts]
    out = c.complete_multipart_upload(Bucket=bucket, Key="mp.log", UploadId=uid,
                                      MultipartUpload={"Parts": done})
    body = b"".join(parts)
    assert stored_bytes(srv) - before < 5 * MiB + MiB        # parts 1 and 3 shrank
    etag = hashlib.md5(b"".join(hashlib.md5(p).digest() for p in parts)).hexdigest()
    assert out["ETag"] == f'"{etag}-3"'
    assert c.get_object(Bucket=bucket, Key="mp.log")["Body"].read() == body
    for n, p in enumerate(parts, 1):
        r = c.get_object(Bucket=bucket, Key="mp.log", PartNumber=n, ChecksumMode="ENABLED")
        assert r["Body"].read() == p and r["PartsCount"] == 3
        assert r["ContentLength"] == len(p)
    span = (5 * MiB - 10, 10 * MiB + 10)
    r = c.get_object(Bucket=bucket, Key="mp.log", Range=f"bytes={span[0]}-{span[1]}")
    assert r["Body"].read() == body[span[0]: span[1] + 1]
    attrs = c.get_object_attributes(Bucket=bucket, Key="mp.log",
                                    ObjectAttributes=["ObjectSize", "ObjectParts"])
    assert attrs["ObjectSize"] == len(body)


def test_copy_recodes_between_buckets(srv, c, bucket):
    plain = unique_bucket("plain")
    c.create_bucket(Bucket=plain)
    assert admin(srv, plain, "off")["compressing"] is False
    assert admin(srv, plain) == {"bucket": plain, "setting": "off", "server_default": "on",
                                 "compressing": False}
    body = text(2 * MiB, "copy")
    c.put_object(Bucket=bucket, Key="src", Body=body)
    before = stored_bytes(srv)
    c.copy_object(Bucket=plain, Key="dst", CopySource={"Bucket": bucket, "Key": "src"})
    assert stored_bytes(srv) - before >= len(body)               # stored as it is
    assert c.get_object(Bucket=plain, Key="dst")["Body"].read() == body
    before = stored_bytes(srv)
    c.copy_object(Bucket=bucket, Key="back", CopySource={"Bucket": plain, "Key": "dst"})
    assert stored_bytes(srv) - before < len(body) // 5           # compressed again
    r = c.get_object(Bucket=bucket, Key="back", Range="bytes=1000-300000")
    assert r["Body"].read() == body[1000:300001]
    # UploadPartCopy of a range of a compressed source, into the plain bucket.
    uid = c.create_multipart_upload(Bucket=plain, Key="pc")["UploadId"]
    part = c.upload_part_copy(Bucket=plain, Key="pc", UploadId=uid, PartNumber=1,
                              CopySource={"Bucket": bucket, "Key": "src"},
                              CopySourceRange=f"bytes=100-{MiB + 99}")
    c.complete_multipart_upload(Bucket=plain, Key="pc", UploadId=uid, MultipartUpload={
        "Parts": [{"PartNumber": 1, "ETag": part["CopyPartResult"]["ETag"]}]})
    assert c.get_object(Bucket=plain, Key="pc")["Body"].read() == body[100: MiB + 100]
    assert admin(srv, plain, "default")["setting"] == "default"


def test_bucket_switch_on_a_server_without_compression(tmp_path):
    srv = ServerProcess(str(tmp_path / "data"), str(tmp_path)).start()
    try:
        c = srv.client()
        c.create_bucket(Bucket="zon")
        c.create_bucket(Bucket="zoff")
        assert admin(srv, "zon", "on")["compressing"] is True
        assert admin(srv, "zoff")["compressing"] is False
        body = text(MiB, "switch")
        for name in ("zoff", "zon"):
            before = stored_bytes(srv)
            c.put_object(Bucket=name, Key="k", Body=body)
            grown = stored_bytes(srv) - before
            assert (grown < len(body) // 5) == (name == "zon"), (name, grown)
            assert c.get_object(Bucket=name, Key="k")["Body"].read() == body
    finally:
        srv.stop()


@pytest.mark.parametrize("key,ctype", [("photo.JPG", "binary/octet-stream"),
                                       ("logs/a.gz", "text/plain"),
                                       ("data.parquet", ""),
                                       ("plain", "image/png"),
                                       ("plain", "application/zip"),
                                       ("plain", "video/mp4; codecs=avc1")])
def test_already_compressed_content_is_skipped(srv, c, bucket, key, ctype):
    assert compress.skipped(key, ctype or "binary/octet-stream")
    body = text(MiB, key)          # compressible, but named or typed as compressed
    before = stored_bytes(srv)
    m_in = metric(srv, "s3ish_compression_input_bytes_total")
    c.put_object(Bucket=bucket, Key=key, Body=body, **({"ContentType": ctype} if ctype else {}))
    assert stored_bytes(srv) - before == len(body)
    assert metric(srv, "s3ish_compression_input_bytes_total") == m_in
    assert c.get_object(Bucket=bucket, Key=key)["Body"].read() == body


def test_small_objects_stay_inline_uncompressed(srv, c, bucket):
    before = stored_bytes(srv)
    m_in = metric(srv, "s3ish_compression_input_bytes_total")
    c.put_object(Bucket=bucket, Key="small.txt", Body=text(compress.MIN_SIZE))
    assert stored_bytes(srv) == before           # inline, in the metadata record
    assert metric(srv, "s3ish_compression_input_bytes_total") == m_in
    assert c.get_object(Bucket=bucket, Key="small.txt")["Body"].read() == \
        text(compress.MIN_SIZE)


def test_post_object_is_compressed(srv, c, bucket):
    body = text(MiB + 1, "post")
    post = c.generate_presigned_post(bucket, "posted.txt")
    before = stored_bytes(srv)
    r = requests.post(post["url"], data=post["fields"],
                      files={"file": ("f", io.BytesIO(body))}, timeout=30)
    assert r.status_code == 204, r.text
    assert stored_bytes(srv) - before < len(body) // 5
    got = c.get_object(Bucket=bucket, Key="posted.txt")
    assert got["Body"].read() == body and got["ETag"] == f'"{hashlib.md5(body).hexdigest()}"'


def test_erasure_coded_set_with_compression(tmp_path):
    """4 drives (2+2): compressed units round-trip, a lost drive changes nothing, and the
    shard headers alone say how to read each unit back (an index rebuild)."""
    drives = [str(tmp_path / f"d{i}") for i in range(1, 5)]
    srv = ServerProcess(drives, str(tmp_path),
                        extra_args=["--compression", "on", "--scrub-rate", "0"]).start()
    body, mp = text(3 * MiB, "ec"), [text(5 * MiB, "m1"), text(MiB, "m2")]
    try:
        c = srv.client()
        c.create_bucket(Bucket="ecz")
        c.put_object(Bucket="ecz", Key="obj", Body=body)
        uid = c.create_multipart_upload(Bucket="ecz", Key="mp")["UploadId"]
        parts = [{"PartNumber": n, "ETag": c.upload_part(
            Bucket="ecz", Key="mp", UploadId=uid, PartNumber=n, Body=p)["ETag"]}
            for n, p in enumerate(mp, 1)]
        c.complete_multipart_upload(Bucket="ecz", Key="mp", UploadId=uid,
                                    MultipartUpload={"Parts": parts})
        shards = sum(os.path.getsize(os.path.join(d, f)) for drive in drives
                     for d, _, fs in os.walk(os.path.join(drive, "objects")) for f in fs)
        assert shards < (len(body) + sum(map(len, mp))) // 2     # 2x parity, 5x+ smaller
        assert c.get_object(Bucket="ecz", Key="obj", Range="bytes=262000-800000")[
            "Body"].read() == body[262000:800001]
    finally:
        srv.stop()
    scan = selfdescribe.scan_drives(drives)
    versions = {v.key: v for v in scan.versions.values()}
    assert {p.compression for v in versions.values() for p in v.parts} == {"zstd"}
    assert all(0 < p.stored_size < p.size for v in versions.values() for p in v.parts)
    # What the headers say is enough to read each unit back (as a rebuilt index would).
    store = selfdescribe._store(drives, 2, 2)
    for key, want in (("obj", body), ("mp", b"".join(mp))):
        got = bytearray()
        for p in versions[key].parts:
            handle = sse.open_unit(store, p, None)
            try:
                got += handle.read_at(0, p.size)
            finally:
                handle.close()
        assert got == want, key
    os.rename(drives[0], drives[0] + ".gone")
    os.makedirs(drives[0])
    srv = ServerProcess(drives, str(tmp_path), extra_args=["--compression", "on",
                                                             "--scrub-rate", "0"]).start()
    try:
        c = srv.client()
        assert c.get_object(Bucket="ecz", Key="obj")["Body"].read() == body
        assert c.get_object(Bucket="ecz", Key="mp", PartNumber=2)["Body"].read() == mp[1]
    finally:
        srv.stop()


def test_folder_written_before_compression(tmp_path):
    """A 4-drive set written by an older s3ish (no compression fields anywhere): its objects
    read unchanged, and new objects on it are compressed, multipart ones too (the parts
    table gains its columns)."""
    with tarfile.open(os.path.join(FIXTURES, "legacy-replaced-4drives.tar.gz")) as tar:
        tar.extractall(tmp_path, filter="data")
    drives = [str(tmp_path / f"d{i}") for i in range(1, 5)]
    srv = ServerProcess(drives, str(tmp_path), extra_args=["--compression", "on",
                                                             "--scrub-rate", "0"]).start()
    try:
        c = srv.client()
        assert c.get_object(Bucket="legacy", Key="big")["Body"].read() == \
            bytes(range(256)) * 5000
        assert c.get_object(Bucket="legacy", Key="small")["Body"].read() == \
            b"small inline object"
        body = text(MiB, "new")
        c.put_object(Bucket="legacy", Key="new", Body=body)
        uid = c.create_multipart_upload(Bucket="legacy", Key="newmp")["UploadId"]
        etag = c.upload_part(Bucket="legacy", Key="newmp", UploadId=uid, PartNumber=1,
                             Body=body)["ETag"]
        c.complete_multipart_upload(Bucket="legacy", Key="newmp", UploadId=uid,
                                    MultipartUpload={"Parts": [{"PartNumber": 1,
                                                                "ETag": etag}]})
        for key in ("new", "newmp"):
            assert c.get_object(Bucket="legacy", Key=key, Range="bytes=5-300000")[
                "Body"].read() == body[5:300001]
    finally:
        srv.stop()
    versions = {v.key: v for v in selfdescribe.scan_drives(drives).versions.values()}
    assert versions["new"].parts[0].compression == "zstd"
    assert versions["newmp"].parts[0].compression == "zstd"


def test_damaged_compressed_unit_is_an_error_never_wrong_bytes(srv, c, bucket):
    """One folder has no checksums of its own below the codec: a flipped byte in a stored
    block fails the read (500, or a cut-off body), it never serves other bytes."""
    body = text(3 * MiB, "damage")
    root = os.path.join(srv.data, "objects")
    before = {os.path.join(d, f) for d, _, fs in os.walk(root) for f in fs}
    c.put_object(Bucket=bucket, Key="victim.txt", Body=body)
    [path] = {os.path.join(d, f) for d, _, fs in os.walk(root) for f in fs} - before
    with open(path, "r+b") as f:
        f.seek(100)
        byte = f.read(1)
        f.seek(100)
        f.write(bytes([byte[0] ^ 0x55]))
    with pytest.raises(Exception) as e:
        c.get_object(Bucket=bucket, Key="victim.txt", Range="bytes=0-99")["Body"].read()
    assert "InternalError" in str(e.value)
    try:
        got = c.get_object(Bucket=bucket, Key="victim.txt")["Body"].read()
    except Exception:
        got = None
    assert got is None
    # Blocks not damaged still read.
    r = c.get_object(Bucket=bucket, Key="victim.txt", Range=f"bytes={MiB}-{MiB + 99}")
    assert r["Body"].read() == body[MiB: MiB + 100]
