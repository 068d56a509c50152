"""Drive replacement, then more losses: whatever order drives are replaced and lost in, within
the parity budget, every acknowledged object comes back. A replaced drive holds the index (a
snapshot and the journal after it) before it counts as ok; a partial set or a missing drive
folder is refused; drive state changes are logged, shown and adopted while running."""
import glob
import os
import shutil
import subprocess
import sys
import tarfile
import time

import pytest
import requests

from tests.fault.test_erasure_drives import _admin
from tests.fault.test_rebuild_index import ENV, _snapshot
from tests.support import ServerProcess

MiB = 1024 * 1024
FIXTURES = os.path.join(os.path.dirname(__file__), "..", "fixtures")


def _server(drives, tmp_path, extra=()):
    return ServerProcess(drives, str(tmp_path), extra_args=["--scrub-rate", "0", *extra]).start()


def _populate(c):
    """Every shape of metadata a shard header must carry; no change after upload."""
    c.create_bucket(Bucket="alpha")
    c.put_object(Bucket="alpha", Key="inline", Body=b"small and inline",
                 ContentType="text/plain", Metadata={"a": "1"}, Tagging="t=1")
    c.put_object(Bucket="alpha", Key="dir/big", Body=os.urandom(2 * MiB + 5),
                 StorageClass="STANDARD_IA", ChecksumAlgorithm="SHA256")
    c.put_object(Bucket="alpha", Key="gone", Body=b"deleted later")
    c.delete_object(Bucket="alpha", Key="gone")
    c.put_object(Bucket="alpha", Key="over", Body=b"v1")
    c.put_object(Bucket="alpha", Key="over", Body=b"v2", CacheControl="no-cache")
    up = c.create_multipart_upload(Bucket="alpha", Key="mp", Metadata={"m": "p"})
    parts = [os.urandom(5 * MiB), b"tail"]
    done = [{"PartNumber": i, "ETag": c.upload_part(Bucket="alpha", Key="mp",
                                                    UploadId=up["UploadId"], PartNumber=i,
                                                    Body=p)["ETag"]}
            for i, p in enumerate(parts, 1)]
    c.complete_multipart_upload(Bucket="alpha", Key="mp", UploadId=up["UploadId"],
                                MultipartUpload={"Parts": done})
    open_up = c.create_multipart_upload(Bucket="alpha", Key="open-upload")
    c.upload_part(Bucket="alpha", Key="open-upload", UploadId=open_up["UploadId"],
                  PartNumber=1, Body=b"part of an upload in progress")
    c.copy_object(Bucket="alpha", Key="copied", CopySource="alpha/dir/big")


def _populated(drives, tmp_path) -> dict:
    """A new set with _populate's objects, stopped; returns what a client saw."""
    srv = _server(drives, tmp_path)
    try:
        _populate(srv.client())
        return _snapshot(srv.client())
    finally:
        srv.stop()


def _wait_all_ok(srv, timeout=60):
    deadline = time.time() + timeout
    while time.time() < deadline:
        states = [d["state"] for d in _admin(srv, "/_admin/drives")["drives"]]
        if states == ["ok"] * len(states):
            return
        time.sleep(0.3)
    raise AssertionError(f"drives not all ok: {states}\n{srv.read_log()[-3000:]}")


def _replace(drives, which):
    """The operator swaps disks: the old folders are gone, new empty ones in their place."""
    for i in which:
        shutil.rmtree(drives[i])
        os.makedirs(drives[i])


def _holds_index(drive) -> bool:
    from s3ish.bg.drivewatch import self_sufficient
    return self_sufficient(drive)


@pytest.mark.slow
@pytest.mark.parametrize("n,replaced,lost", [
    (4, [2, 3], [0, 1]),        # the case: the index drive among the later losses
    (4, [0, 1], [2, 3]),        # the index drive among the replaced ones
    (6, [1, 4], [0, 5]),
    (6, [0, 3], [1, 4]),
])
def test_replace_then_lose_others(tmp_path, n, replaced, lost):
    drives = [str(tmp_path / f"d{i}") for i in range(1, n + 1)]
    before = _populated(drives, tmp_path)
    _replace(drives, replaced)
    srv = _server(drives, tmp_path)
    try:
        _wait_all_ok(srv)
        assert _snapshot(srv.client()) == before
        srv.client().put_object(Bucket="alpha", Key="after-replacement", Body=b"new")
        before = _snapshot(srv.client())
    finally:
        srv.stop()
    for d in drives:
        assert _holds_index(d), f"{d} is ok but does not hold the index"
    _replace(drives, lost)
    srv = _server(drives, tmp_path)
    try:
        assert _snapshot(srv.client()) == before
        _wait_all_ok(srv)
    finally:
        srv.stop()


@pytest.mark.slow
def test_every_journal_lost_rebuilds_from_shard_headers(tmp_path):
    drives = [str(tmp_path / f"d{i}") for i in range(1, 5)]
    before = _populated(drives, tmp_path)
    for d in drives:
        shutil.rmtree(os.path.join(d, ".s3ish"))       # every journal and snapshot
    os.unlink(os.path.join(drives[0], "meta.sqlite3"))
    started = subprocess.run([sys.executable, "-m", "s3ish", "server", "--listen",
                              "127.0.0.1:0", *[a for d in drives for a in ("--data", d)]],
                             capture_output=True, text=True, env={**os.environ, **ENV},
                             timeout=60)
    assert started.returncode != 0 and "rebuild-index" in started.stderr
    assert all(glob.glob(os.path.join(d, "objects", "*", "*")) for d in drives)  # untouched
    r = subprocess.run([sys.executable, "-m", "s3ish", "admin", "rebuild-index", "--data",
                        str(tmp_path / "d{1...4}")], capture_output=True, text=True,
                       env={**os.environ, **ENV}, timeout=120)
    assert r.returncode == 0, r.stderr
    assert "shard headers" in r.stdout
    srv = _server(drives, tmp_path)
    try:
        assert _snapshot(srv.client()) == before       # bodies, ETags, metadata, uploads
        c = srv.client()
        h = c.head_object(Bucket="alpha", Key="dir/big", ChecksumMode="ENABLED")
        assert h["ChecksumSHA256"] and h["StorageClass"] == "STANDARD_IA"
        assert c.head_object(Bucket="alpha", Key="over")["CacheControl"] == "no-cache"
        c.put_object(Bucket="alpha", Key="after", Body=b"the journal starts again")
    finally:
        srv.stop()


def test_rebuild_refuses_units_without_metadata(tmp_path):
    """Shards written before headers carried metadata, and no journal: refused, non-zero,
    and nothing written."""
    from s3ish.storage.drives import DriveSet
    from s3ish.storage.erasure import make_codec
    from s3ish.storage.erasure_store import ErasureDataStore
    drives = [str(tmp_path / f"d{i}") for i in range(1, 5)]
    drive_set = DriveSet(drives, 2, 2)
    drive_set.open(create_missing=True)
    w = ErasureDataStore(drive_set, make_codec(2, 2)).writer()
    w.write(b"old-format data unit")
    w.commit()
    r = subprocess.run([sys.executable, "-m", "s3ish", "admin", "rebuild-index", "--data",
                        str(tmp_path / "d{1...4}")], capture_output=True, text=True,
                       env={**os.environ, **ENV}, timeout=60)
    assert r.returncode != 0 and "no metadata in their shard headers" in r.stderr
    assert not os.path.exists(os.path.join(drives[0], "meta.sqlite3"))


def _start_fails(args, tmp_path) -> str:
    r = subprocess.run([sys.executable, "-m", "s3ish", "server", "--listen", "127.0.0.1:0",
                        *args], capture_output=True, text=True, env={**os.environ, **ENV},
                       timeout=60)
    assert r.returncode != 0, r.stdout
    assert "listening" not in r.stdout and "Traceback" not in r.stderr, r.stderr
    return r.stderr


@pytest.mark.slow
def test_partial_set_and_missing_folders_are_refused(tmp_path):
    drives = [str(tmp_path / f"d{i}") for i in range(1, 5)]
    srv = _server(drives, tmp_path)
    try:
        c = srv.client()
        c.create_bucket(Bucket="bkt")
        c.put_object(Bucket="bkt", Key="k", Body=os.urandom(300_000))
    finally:
        srv.stop()
    shards = sorted(glob.glob(str(tmp_path / "d*" / "objects" / "*" / "*")))
    # One drive of the set alone, as a single folder: refused, nothing swept.
    err = _start_fails(["--data", drives[0]], tmp_path)
    assert "drive 0 of a 4-drive erasure set" in err
    # Two of the four: refused.
    err = _start_fails(["--data", drives[0], "--data", drives[1]], tmp_path)
    assert "4-drive set" in err and "2 drives were given" in err
    # The right drives in the wrong order: refused.
    err = _start_fails(["--data", drives[1], "--data", drives[0], "--data", drives[2],
                        "--data", drives[3]], tmp_path)
    assert "in their order" in err
    # A missing drive folder (an unmounted disk): refused, and not created.
    shutil.rmtree(drives[3])
    err = _start_fails([a for d in drives for a in ("--data", d)], tmp_path)
    assert "missing" in err and "--create-drives" in err
    assert not os.path.exists(drives[3])
    # The first drive (the index's) missing: refused too, not created.
    os.rename(drives[0], str(tmp_path / "elsewhere"))
    _start_fails([a for d in drives for a in ("--data", d)], tmp_path)
    assert not os.path.exists(drives[0])
    os.rename(str(tmp_path / "elsewhere"), drives[0])
    assert sorted(glob.glob(str(tmp_path / "d[123]" / "objects" / "*" / "*"))) == \
        [s for s in shards if not s.startswith(drives[3])]


@pytest.mark.slow
def test_drive_lost_and_replaced_while_running(tmp_path):
    drives = [str(tmp_path / f"d{i}") for i in range(1, 5)]
    srv = _server(drives, tmp_path)
    try:
        c = srv.client()
        _populate(c)
        before = _snapshot(c)
        shutil.rmtree(drives[2])                         # the disk dies
        deadline = time.time() + 20
        while time.time() < deadline and "-> missing" not in srv.read_log():
            time.sleep(0.2)
        assert f"drive 2 ({drives[2]}): ok -> missing" in srv.read_log()
        ready = requests.get(srv.endpoint + "/_ready", timeout=5)
        assert ready.status_code == 200 and "degraded" in ready.text and drives[2] in ready.text
        state = _admin(srv, "/_admin/drives")["drives"][2]
        assert state["state"] == "missing" and state["last_error"] == "folder missing"
        assert not os.path.exists(drives[2])             # never recreated behind our back
        assert _snapshot(c) == before
        os.makedirs(drives[2])                           # a new disk is mounted there
        _wait_all_ok(srv)
        assert "joining" in srv.read_log()
        assert _holds_index(drives[2])
        assert glob.glob(os.path.join(drives[2], "objects", "*", "*"))
        assert requests.get(srv.endpoint + "/_ready", timeout=5).text.strip() == "ready"
        c.put_object(Bucket="alpha", Key="after", Body=b"x")
        before = _snapshot(c)
    finally:
        srv.stop()
    _replace(drives, [0, 1])            # lose the two others: the new drive holds the index
    srv = _server(drives, tmp_path)
    try:
        assert _snapshot(srv.client()) == before
    finally:
        srv.stop()


@pytest.mark.slow
def test_set_written_by_the_previous_version(tmp_path):
    """A set whose drives 3 and 4 were replaced by the previous version (their journals
    start late, no snapshot: tests/fixtures/make_legacy_replaced.py made it): the upgrade
    seeds them, and losing drives 1 and 2 afterwards loses nothing."""
    with tarfile.open(os.path.join(FIXTURES, "legacy-replaced-4drives.tar.gz")) as tar:
        tar.extractall(tmp_path)
    drives = [str(tmp_path / f"d{i}") for i in range(1, 5)]
    want = {"small": b"small inline object", "big": bytes(range(256)) * 5000,
            "after-replacement": b"written after d3 and d4 came"}
    srv = _server(drives, tmp_path)
    try:
        c = srv.client()
        for key, body in want.items():
            assert c.get_object(Bucket="legacy", Key=key)["Body"].read() == body
        _wait_all_ok(srv)
    finally:
        srv.stop()
    assert "rejoins" in srv.read_log()
    for d in drives:
        assert _holds_index(d), d
    _replace(drives, [0, 1])
    srv = _server(drives, tmp_path)
    try:
        c = srv.client()
        for key, body in want.items():
            assert c.get_object(Bucket="legacy", Key=key)["Body"].read() == body
        assert c.head_object(Bucket="legacy", Key="small")["Metadata"] == {"a": "1"}
    finally:
        srv.stop()


def test_orphans_are_set_aside_then_removed_after_the_grace(tmp_path):
    data = tmp_path / "data"
    srv = ServerProcess(str(data), str(tmp_path)).start()
    try:
        srv.client().create_bucket(Bucket="bkt")
    finally:
        srv.stop()
    stray = data / "objects" / "ab" / "0123456789abcdef0123456789abcdab"
    stray.write_bytes(b"no metadata points here")
    srv = ServerProcess(str(data), str(tmp_path)).start()
    srv.stop()
    assert not stray.exists()
    aside = data / "orphans" / stray.name
    assert aside.read_bytes() == b"no metadata points here"     # kept, not deleted
    srv = ServerProcess(str(data), str(tmp_path), extra_args=["--orphan-grace", "0"]).start()
    srv.stop()
    assert not aside.exists()
