"""Nothing in clear on disk: objects whose bodies hold a known marker, written under each
encryption mode (tiny, 200 KiB, multipart), leave no trace of the marker in any file of the
data folders (units and shards, the SQLite index and its WAL, the journal, snapshots), on one
folder and on four erasure-coded drives; everything reads back after a restart, after an
index rebuilt from the shard headers alone, and with a drive lost and a shard corrupted."""
import glob
import os
import random
import shutil
import subprocess
import sys

import pytest

from tests.support import ServerProcess, make_keyring, sse_c

MiB = 1024 * 1024
MARKER = b"S3ISH-DISK-SCAN-MARKER-e41c"
CONTROL = b"S3ISH-PLAIN-CONTROL-MARKER-90b2"      # in a plain object: the scan must find it
KEY = os.urandom(32)
MODES = {"sse-s3": ({"ServerSideEncryption": "AES256"}, {}),
         "sse-kms": ({"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": "disk-key"}, {}),
         "sse-c": (sse_c(KEY), sse_c(KEY))}
ENV = {"S3ISH_ROOT_USER": "x", "S3ISH_ROOT_PASSWORD": "y"}


def _body(n: int, marker: bytes = MARKER) -> bytes:
    """`n` bytes holding `marker` many times, in lines that compress well."""
    out = bytearray()
    i = 0
    while len(out) < n:
        out += marker + b" line %08d\n" % i
        i += 1
    return bytes(out[:n])


def _write_all(c, bucket: str) -> dict:
    """Every mode x (tiny, 200 KiB, multipart); returns {key: (body, read args)}."""
    c.create_bucket(Bucket=bucket)
    want = {}
    for mode, (put, get) in MODES.items():
        for name, size in (("tiny", len(MARKER) + 5), ("mid", 200 * 1024)):
            body = _body(size)
            c.put_object(Bucket=bucket, Key=f"{mode}/{name}", Body=body, **put)
            want[f"{mode}/{name}"] = (body, get)
        key = f"{mode}/multipart"
        parts = [_body(5 * MiB), _body(MiB + 11)]
        uid = c.create_multipart_upload(Bucket=bucket, Key=key, **put)["UploadId"]
        done = [{"PartNumber": n, "ETag": c.upload_part(Bucket=bucket, Key=key, UploadId=uid,
                                                        PartNumber=n, Body=p, **get)["ETag"]}
                for n, p in enumerate(parts, 1)]
        c.complete_multipart_upload(Bucket=bucket, Key=key, UploadId=uid,
                                    MultipartUpload={"Parts": done}, **get)
        want[key] = (b"".join(parts), get)
        # An upload left open: its parts are on disk too.
        uid = c.create_multipart_upload(Bucket=bucket, Key=f"{mode}/open", **put)["UploadId"]
        c.upload_part(Bucket=bucket, Key=f"{mode}/open", UploadId=uid, PartNumber=1,
                      Body=_body(300 * 1024), **get)
    for name, size in (("control-tiny", 100), ("control-big", 300 * 1024)):
        body = _body(size, CONTROL)
        c.put_object(Bucket=bucket, Key=name, Body=body)
        want[name] = (body, {})
    return want


def _check_all(c, bucket: str, want: dict) -> None:
    for key, (body, get) in want.items():
        assert c.get_object(Bucket=bucket, Key=key, **get)["Body"].read() == body, key
        if len(body) > MiB:
            a, b = 5 * MiB - 70_000, 5 * MiB + 70_000
            assert c.get_object(Bucket=bucket, Key=key, Range=f"bytes={a}-{b}", **get)[
                "Body"].read() == body[a:b + 1], key


def _files(folders) -> list[str]:
    return sorted(os.path.join(d, f) for folder in folders
                  for d, _, fs in os.walk(folder) for f in fs)


def _holding(folders, needle: bytes) -> list[str]:
    """Files containing `needle` (read in overlapping chunks)."""
    found = []
    for path in _files(folders):
        with open(path, "rb") as f:
            tail = b""
            while chunk := f.read(MiB):
                if needle in tail + chunk:
                    found.append(path)
                    break
                tail = chunk[-len(needle):]
    return found


def _scan(folders) -> None:
    files = _files(folders)
    kinds = {os.path.basename(p).split(".")[-1] for p in files}
    assert files and "sqlite3" in kinds, kinds
    assert _holding(folders, CONTROL), "the scan does not see plain bodies"
    assert _holding(folders, MARKER) == []


@pytest.mark.slow
def test_one_folder_holds_no_plaintext(tmp_path):
    ring = make_keyring(str(tmp_path), "disk-key")
    data = str(tmp_path / "data")
    args = ["--kms-keyring", ring, "--allow-insecure-sse-c", "--compression", "on"]
    srv = ServerProcess(data, str(tmp_path), extra_args=args).start()
    try:
        want = _write_all(srv.client(), "scan")
    finally:
        srv.stop()
    _scan([data])
    srv = ServerProcess(data, str(tmp_path), extra_args=args).start()
    try:
        _check_all(srv.client(), "scan", want)
    finally:
        srv.stop()


def _drive_server(drives, tmp_path, ring, env=None):
    return ServerProcess(drives, str(tmp_path), env=env, extra_args=[
        "--kms-keyring", ring, "--allow-insecure-sse-c", "--scrub-rate", "0"]).start()


@pytest.mark.slow
def test_four_drives_hold_no_plaintext_and_survive_loss(tmp_path):
    ring = make_keyring(str(tmp_path), "disk-key")
    drives = [str(tmp_path / f"d{i}") for i in range(1, 5)]
    compact = {"S3ISH_JOURNAL_COMPACT_BYTES": "1"}      # a snapshot at every start-up
    srv = _drive_server(drives, tmp_path, ring, compact)
    try:
        want = _write_all(srv.client(), "scan")
    finally:
        srv.stop()
    srv = _drive_server(drives, tmp_path, ring, compact)     # folds the journal: snapshots
    try:
        assert "journal compacted" in srv.read_log()
        _check_all(srv.client(), "scan", want)
    finally:
        srv.stop()
    assert glob.glob(os.path.join(drives[0], ".s3ish", "snapshot*"))
    _scan(drives)

    # Every journal and snapshot lost: the index comes back from the shard headers alone,
    # and encrypted objects read back through it.
    for d in drives:
        shutil.rmtree(os.path.join(d, ".s3ish"))
    os.unlink(os.path.join(drives[0], "meta.sqlite3"))
    r = subprocess.run([sys.executable, "-m", "s3ish", "admin", "rebuild-index", "--data",
                        str(tmp_path / "d{1...4}")], capture_output=True, text=True,
                       env={**os.environ, **ENV}, timeout=120)
    assert r.returncode == 0 and "shard headers" in r.stdout, r.stderr
    srv = _drive_server(drives, tmp_path, ring)
    try:
        c = srv.client()
        _check_all(c, "scan", want)
        assert c.head_object(Bucket="scan", Key="sse-kms/mid")["SSEKMSKeyId"].endswith(
            "/disk-key")
        uploads = c.list_multipart_uploads(Bucket="scan")["Uploads"]
        assert sorted(u["Key"] for u in uploads) == [f"{m}/open" for m in sorted(MODES)]
    finally:
        srv.stop()
    _scan(drives)

    # A drive lost and a shard of another drive corrupted: still byte-exact.
    shutil.rmtree(drives[2])
    os.makedirs(drives[2])
    rng = random.Random(7)
    shards = sorted(glob.glob(os.path.join(drives[1], "objects", "*", "*.*")))
    for path in rng.sample(shards, 4):
        with open(path, "r+b") as f:
            size = os.fstat(f.fileno()).st_size
            f.seek(rng.randrange(300, size))
            f.write(b"\xff\x00\xff")
    srv = _drive_server(drives, tmp_path, ring)
    try:
        _check_all(srv.client(), "scan", want)
    finally:
        srv.stop()
