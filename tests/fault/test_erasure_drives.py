"""Erasure-coded drives on a real server: lose drives, rot bytes, truncate shards; every GET
still returns the right bytes (or a clean error), and scrub + heal repair what was damaged."""
import glob
import hashlib
import os
import random
import shutil
import time

import pytest
import requests

from tests.support import ServerProcess, signed_request

MiB = 1024 * 1024


def _admin(srv, path, method="GET"):
    url, headers = signed_request(srv, method, path)
    r = requests.request(method, url, headers=headers, timeout=120)
    r.raise_for_status()
    return r.json()


def _fill(c, bucket):
    """Objects of every shape: inline, single data unit, multipart. Returns {key: md5}."""
    c.create_bucket(Bucket=bucket)
    want = {}
    for key, size in [("tiny", 10), ("small", 200_000), ("big", 3 * MiB + 17)]:
        body = os.urandom(size)
        c.put_object(Bucket=bucket, Key=key, Body=body)
        want[key] = body
    up = c.create_multipart_upload(Bucket=bucket, Key="multi")
    parts = [os.urandom(5 * MiB), os.urandom(MiB + 3)]
    done = [{"PartNumber": i, "ETag": c.upload_part(Bucket=bucket, Key="multi",
                                                    UploadId=up["UploadId"], PartNumber=i,
                                                    Body=p)["ETag"]}
            for i, p in enumerate(parts, 1)]
    c.complete_multipart_upload(Bucket=bucket, Key="multi", UploadId=up["UploadId"],
                                MultipartUpload={"Parts": done})
    want["multi"] = b"".join(parts)
    return want


def _check(c, bucket, want):
    for key, body in want.items():
        got = c.get_object(Bucket=bucket, Key=key)["Body"].read()
        assert hashlib.md5(got).digest() == hashlib.md5(body).digest(), key
        if len(body) > 2 * MiB:
            a, b = MiB - 100, 2 * MiB + 100
            got = c.get_object(Bucket=bucket, Key=key, Range=f"bytes={a}-{b}")["Body"].read()
            assert got == body[a:b + 1], key


def _shards(drives):
    return sorted(p for d in drives for p in glob.glob(os.path.join(d, "objects", "*", "*.*")))


def _object_shards(drives):
    """Shards of units that hold object bytes (not multipart manifests, which reads of the
    object never touch)."""
    from s3ish.storage.shardfile import ShardReader
    out = []
    for path in _shards(drives):
        with ShardReader.open(path, lambda n: n) as r:
            if r.header.extra.get("kind") != "manifest":
                out.append(path)
    return out


def _wait_healed(srv, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if _admin(srv, "/_admin/heal")["heal_queue"] == 0:
            scrub = _admin(srv, "/_admin/scrub", "POST")
            if scrub["scrub"]["corrupt_shards"] == 0:
                return
        time.sleep(0.5)
    raise AssertionError("not healed in time")


def _server(drives, tmp):
    return ServerProcess(drives, tmp, extra_args=["--scrub-rate", "0"]).start()


@pytest.mark.slow
@pytest.mark.parametrize("n", [4, 6])
def test_drive_loss_bitrot_and_heal(tmp_path, n):
    drives = [str(tmp_path / f"d{i}") for i in range(1, n + 1)]
    m = 2                                   # 4 drives: 2+2; 6 drives: 4+2
    srv = _server(drives, str(tmp_path))
    try:
        c = srv.client()
        want = _fill(c, "ecbucket")
        # 1. m drives vanish entirely (not the first, which holds the metadata database).
        lost = drives[1:1 + m]
        for d in lost:
            shutil.rmtree(d)
        _check(c, "ecbucket", want)
    finally:
        srv.stop()
    # 2. the operator puts empty folders (new disks) in the lost drives' places and restarts:
    # they are rebuilt; meanwhile writes succeed on the drives that remain (quorum k+1).
    for d in lost:
        os.makedirs(d)
    srv = _server(drives, str(tmp_path))
    extra = os.urandom(2 * MiB)
    try:
        c = srv.client()
        states = [d["state"] for d in _admin(srv, "/_admin/drives")["drives"]]
        # Empty folders in the lost drives' places are new drives, rebuilt in the background
        # (the rebuild may already be over by now: checked through the log below).
        assert states.count("new") in (0, m) and "missing" not in states, states
        c.put_object(Bucket="ecbucket", Key="after", Body=extra)
        want["after"] = extra
        # 3. bit rot: flip bytes in random chunks of random shards.
        rng = random.Random(n)
        for path in rng.sample(_shards(drives), 3):
            with open(path, "r+b") as f:
                size = os.fstat(f.fileno()).st_size
                f.seek(rng.randrange(300, size))
                f.write(bytes([rng.randrange(256)]))
        _check(c, "ecbucket", want)
        # 4. scrub finds what reads did not touch; the healer rebuilds the new drives too.
        _wait_healed(srv)
        states = [d["state"] for d in _admin(srv, "/_admin/drives")["drives"]]
        assert states == ["ok"] * n, states
        assert all(f"rebuild of" in line and "complete" in line for line in
                   srv.read_log().splitlines() if "rebuild of" in line)
        assert "rebuild of" in srv.read_log()
        assert _admin(srv, "/_admin/heal")["repaired_shards"] > 0
        for d in lost:
            assert _shards([d]), f"{d} was not rebuilt"
        _check(c, "ecbucket", want)
        # 5. truncate a shard: still served right, found and healed.
        victim = _object_shards(drives)[0]
        with open(victim, "r+b") as f:
            f.truncate(os.path.getsize(victim) // 2)
        _check(c, "ecbucket", want)
        _wait_healed(srv)
        # 6. more than m shards of a unit gone: a clean error, never wrong data.
        unit = os.path.basename(victim).split(".")[0]
        for path in sorted(glob.glob(os.path.join(str(tmp_path), "d*", "objects", "*",
                                                  unit + ".*")))[:m + 1]:
            os.unlink(path)
        errors = 0
        for key, body in want.items():
            try:
                got = c.get_object(Bucket="ecbucket", Key=key)["Body"].read()
                assert got == body, key
            except Exception:   # an error status or a cut-off body: never wrong bytes
                errors += 1
        assert errors >= 1
    finally:
        srv.stop()


@pytest.mark.slow
def test_kill9_during_heal(tmp_path):
    drives = [str(tmp_path / f"d{i}") for i in range(1, 5)]
    srv = _server(drives, str(tmp_path))
    try:
        c = srv.client()
        c.create_bucket(Bucket="healme")
        body = os.urandom(48 * MiB)
        c.put_object(Bucket="healme", Key="big", Body=body)
        small = os.urandom(3 * MiB)
        c.put_object(Bucket="healme", Key="small", Body=small)
    finally:
        srv.stop()
    for d in drives[2:]:                       # m = 2 drives lose every shard
        shutil.rmtree(os.path.join(d, "objects"))
    for i in range(3):
        srv = _server(drives, str(tmp_path))
        _admin(srv, "/_admin/scrub", "POST")
        deadline = time.time() + 10             # wait until the healer is rewriting shards
        while time.time() < deadline and not any(os.listdir(os.path.join(d, "tmp"))
                                                 for d in drives[2:]):
            time.sleep(0.01)
        time.sleep(0.02 * i)
        srv.kill9()
        srv = _server(drives, str(tmp_path))
        try:
            c = srv.client()
            assert c.get_object(Bucket="healme", Key="big")["Body"].read() == body
            assert c.get_object(Bucket="healme", Key="small")["Body"].read() == small
        finally:
            srv.stop()
    srv = _server(drives, str(tmp_path))
    try:
        _wait_healed(srv, timeout=60)
        c = srv.client()
        assert c.get_object(Bucket="healme", Key="big")["Body"].read() == body
        for d in drives:
            assert os.listdir(os.path.join(d, "tmp")) == [], d
    finally:
        srv.stop()
