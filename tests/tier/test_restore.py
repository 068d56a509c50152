"""`s3ish restore` from a cold tier built by hand in the TIER_SPEC layout (tests/tier/
handship.py: a real 4-drive server's checkpoints, journal segments and data units), on moto
and on a second s3ish: the restored folders (one folder, or four drives) serve exactly the
objects and versions acknowledged up to the target, byte-exact, with their metadata, tags,
ACLs, multipart objects, open uploads and compressed objects."""
import hashlib
import json
import os
import sqlite3
import subprocess
import sys
import time
import uuid

import pytest

from tests.support import ServerProcess
from tests.tier.handship import HandShipper, lsn_now

MiB = 1 << 20
RESTORE_ENV_KEYS = ("S3ISH_TIER_ACCESS_KEY", "S3ISH_TIER_SECRET_KEY")


# ---- what a client sees of a server, compared before and after ----

def state(c) -> dict:
    """Every bucket's versioning, tags, versions (bytes by digest, metadata, tags, ACL),
    delete markers and open uploads with their parts."""
    out = {}
    for b in sorted(x["Name"] for x in c.list_buckets()["Buckets"]):
        doc = {"versioning": c.get_bucket_versioning(Bucket=b).get("Status", "")}
        try:
            doc["tags"] = c.get_bucket_tagging(Bucket=b)["TagSet"]
        except c.exceptions.ClientError:
            doc["tags"] = None
        versions, markers = [], []
        for page in c.get_paginator("list_object_versions").paginate(Bucket=b):
            for v in page.get("Versions", []):
                key, vid = v["Key"], v["VersionId"]
                got = c.get_object(Bucket=b, Key=key, VersionId=vid)
                body = got["Body"].read()
                acl = c.get_object_acl(Bucket=b, Key=key, VersionId=vid)
                versions.append({
                    "key": key, "version": vid, "latest": v["IsLatest"], "etag": v["ETag"],
                    "size": v["Size"], "mtime": v["LastModified"].isoformat(),
                    "sha256": hashlib.sha256(body).hexdigest(), "length": len(body),
                    "type": got["ContentType"], "meta": got["Metadata"],
                    "tags": c.get_object_tagging(Bucket=b, Key=key, VersionId=vid)["TagSet"],
                    "acl": acl["Grants"]})
            markers += [(m["Key"], m["VersionId"], m["IsLatest"])
                        for m in page.get("DeleteMarkers", [])]
        uploads = []
        for u in c.list_multipart_uploads(Bucket=b).get("Uploads", []):
            parts = c.list_parts(Bucket=b, Key=u["Key"], UploadId=u["UploadId"])
            uploads.append((u["Key"], u["UploadId"],
                            [(p["PartNumber"], p["ETag"], p["Size"])
                             for p in parts.get("Parts", [])]))
        out[b] = {**doc, "versions": versions, "markers": markers, "uploads": uploads}
    return out


def _text(n: int, seed: str) -> bytes:
    """Compressible bytes (stored compressed with --compression on)."""
    line = f"{seed} the quick brown fox jumps over the lazy dog\n".encode()
    return (line * (n // len(line) + 1))[:n]


# ---- the source: a 4-drive server written in phases, each phase's end a restore point ----

class Source:
    points: dict          # name -> (lsn, state, time)
    ship: HandShipper
    user_key: tuple       # an access key made through the IAM API in phase a1


ALLOW_S3 = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]})


def _iam_user(srv) -> tuple[str, str]:
    from tests.api.test_iam import iam_client
    iam = iam_client(srv)
    iam.create_user(UserName="restored-user")
    iam.put_user_policy(UserName="restored-user", PolicyName="all", PolicyDocument=ALLOW_S3)
    key = iam.create_access_key(UserName="restored-user")["AccessKey"]
    return key["AccessKeyId"], key["SecretAccessKey"]


def _phase_a1(c):
    c.create_bucket(Bucket="plain", ObjectOwnership="ObjectWriter")
    c.put_bucket_tagging(Bucket="plain", Tagging={"TagSet": [{"Key": "team", "Value": "a"}]})
    c.put_object(Bucket="plain", Key="small", Body=b"ten bytes!", ContentType="text/plain",
                 Metadata={"color": "blue"}, Tagging="k1=v1", ACL="public-read")
    c.put_object(Bucket="plain", Key="random", Body=os.urandom(3 * MiB + 17))
    c.put_object(Bucket="plain", Key="text.txt", Body=_text(2 * MiB + 5, "a"),
                 ContentType="text/plain")
    c.put_object(Bucket="plain", Key="dir/ü &x?", Body=os.urandom(200 * 1024))


def _phase_a2(c):
    c.put_object(Bucket="plain", Key="deleted-later", Body=os.urandom(150 * 1024))
    c.put_object(Bucket="plain", Key="overwritten", Body=b"first " * 40000)
    up = c.create_multipart_upload(Bucket="plain", Key="mp", Metadata={"m": "1"})
    parts = [os.urandom(5 * MiB), _text(300 * 1024, "tail")]
    done = [{"PartNumber": i, "ETag": c.upload_part(Bucket="plain", Key="mp", PartNumber=i,
                                                    UploadId=up["UploadId"], Body=p)["ETag"]}
            for i, p in enumerate(parts, 1)]
    c.complete_multipart_upload(Bucket="plain", Key="mp", UploadId=up["UploadId"],
                                MultipartUpload={"Parts": done})
    c.create_bucket(Bucket="ver")
    c.put_bucket_versioning(Bucket="ver", VersioningConfiguration={"Status": "Enabled"})
    c.put_object(Bucket="ver", Key="k", Body=b"v1")
    c.put_object(Bucket="ver", Key="k", Body=os.urandom(400 * 1024))
    c.put_object(Bucket="ver", Key="marked", Body=b"under a marker")
    c.delete_object(Bucket="ver", Key="marked")
    up = c.create_multipart_upload(Bucket="plain", Key="open")
    c.upload_part(Bucket="plain", Key="open", PartNumber=1, UploadId=up["UploadId"],
                  Body=_text(200 * 1024, "open part"))


def _phase_b(c):
    c.put_object(Bucket="plain", Key="new-in-b", Body=os.urandom(180 * 1024))
    c.put_object(Bucket="plain", Key="overwritten", Body=b"second " * 40000)
    c.put_object_tagging(Bucket="plain", Key="small",
                         Tagging={"TagSet": [{"Key": "k2", "Value": "v2"}]})
    c.put_object(Bucket="ver", Key="k", Body=b"v3, in phase b")


def _phase_c(c):
    c.delete_object(Bucket="plain", Key="deleted-later")
    c.put_object(Bucket="plain", Key="new-in-c", Body=_text(500 * 1024, "c"))
    c.put_object(Bucket="plain", Key="overwritten", Body=b"third")
    vid = c.list_object_versions(Bucket="ver", Prefix="k")["Versions"][-1]["VersionId"]
    c.delete_object(Bucket="ver", Key="k", VersionId=vid)
    c.put_bucket_tagging(Bucket="plain", Tagging={"TagSet": [{"Key": "team", "Value": "c"}]})
    up = c.create_multipart_upload(Bucket="ver", Key="open-c")
    c.upload_part(Bucket="ver", Key="open-c", PartNumber=2, UploadId=up["UploadId"],
                  Body=os.urandom(120 * 1024))


@pytest.fixture(scope="module")
def source(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("restore-source")
    drives = [str(tmp / f"d{i}") for i in range(1, 5)]
    srv = ServerProcess(drives, str(tmp), extra_args=["--scrub-rate", "0",
                                                      "--compression", "on"]).start()
    src = Source()
    src.ship = ship = HandShipper(drives)
    src.points = {}
    try:
        c = srv.client()
        src.user_key = _iam_user(srv)
        for name, phase in (("a1", _phase_a1), ("a2", _phase_a2), ("b", _phase_b),
                            ("c", _phase_c)):
            phase(c)
            time.sleep(0.05)
            t = ship.mark_time()
            time.sleep(0.05)
            ship.copy_data()
            src.points[name] = (lsn_now(drives), state(c), t)
            if name == "a2":
                assert ship.checkpoint() == src.points["a2"][0]
    finally:
        srv.stop()
    src.objects = ship.build(per_segment=7)
    src.hwm = src.points["c"][0]
    return src


@pytest.fixture(scope="module")
def remotes():
    return {}


@pytest.fixture
def remote(service, source, remotes):
    """The source's remote contents in a bucket of `service` (uploaded once per service)."""
    if service.name not in remotes:
        name = f"restore-{uuid.uuid4().hex[:10]}"
        s3 = service.boto()
        s3.create_bucket(Bucket=name)
        for key, body in source.objects.items():
            s3.put_object(Bucket=name, Key=f"pre/{key}", Body=body)
        remotes[service.name] = name
    return service, remotes[service.name]


def restore(service, bucket, data, *extra, endpoint=None, prefix="pre", check=True):
    env = {**os.environ, "S3ISH_TIER_ACCESS_KEY": service.access_key,
           "S3ISH_TIER_SECRET_KEY": service.secret_key}
    r = subprocess.run([sys.executable, "-m", "s3ish", "restore",
                        "--tier-endpoint", endpoint or service.endpoint,
                        "--tier-bucket", bucket, "--tier-prefix", prefix,
                        *[a for d in data for a in ("--data", d)], "--json", *extra],
                       capture_output=True, text=True, env=env, timeout=300)
    if check:
        assert r.returncode == 0, r.stderr
        return json.loads(r.stdout), r.stderr
    return r


def serve_state(data, tmp_path):
    srv = ServerProcess(data if len(data) > 1 else data[0], str(tmp_path),
                        extra_args=["--scrub-rate", "0"]).start()
    try:
        return state(srv.client())
    finally:
        srv.stop()


def _targets(tmp_path, layout):
    if layout == "folder":
        return [str(tmp_path / "restored")]
    drives = [str(tmp_path / f"r{i}") for i in range(1, 5)]
    for d in drives:
        os.makedirs(d)
    return drives


# ---- restores ----

@pytest.mark.parametrize("layout", ["folder", "drives"])
def test_restore_to_the_high_water_mark(remote, source, tmp_path, layout):
    service, bucket = remote
    data = _targets(tmp_path, layout)
    summary, log = restore(service, bucket, data)
    lsn, expected, _ = source.points["c"]
    assert summary["lsn"] == lsn == source.hwm and summary["generation"] == 1
    assert summary["checkpoint"] == source.points["a2"][0]
    assert summary["units"] > 0 and summary["mb_per_s"] > 0
    assert "data:" in log and "target:" in log
    with open(os.path.join(data[0], ".s3ish", "tier", "restored.json")) as f:
        marker = json.load(f)
    assert (marker["lsn"], marker["generation"]) == (lsn, 1) and marker["time"] > 0
    assert not os.path.exists(os.path.join(data[0], ".s3ish", "tier", "restore"))
    db = sqlite3.connect(os.path.join(data[0], "meta.sqlite3"))
    metas = [m for (m,) in db.execute("SELECT meta FROM objects")]
    db.close()
    assert any('"compression":"zstd"' in m for m in metas)     # compressed units came back
    srv = ServerProcess(data if len(data) > 1 else data[0], str(tmp_path),
                        extra_args=["--scrub-rate", "0"]).start()
    try:
        assert state(srv.client()) == expected
        user = srv.client(*source.user_key)      # made through the IAM API: in the index
        assert user.get_object(Bucket="plain", Key="small")["Body"].read() == b"ten bytes!"
    finally:
        srv.stop()


def _iso(t: float) -> str:
    import datetime
    return datetime.datetime.fromtimestamp(t, datetime.timezone.utc).strftime(
        "%Y-%m-%dT%H:%M:%S.%fZ")


@pytest.mark.parametrize("point,layout", [("b", "drives"), ("a2", "folder"),
                                          ("a1", "drives")])
def test_restore_to_an_earlier_position(remote, source, tmp_path, point, layout):
    """b: the checkpoint (a2) and the segments after it, stopping inside a segment; a2: the
    checkpoint alone; a1: below the only checkpoint, every record from the first."""
    service, bucket = remote
    lsn, expected, _ = source.points[point]
    data = _targets(tmp_path, layout)
    summary, _ = restore(service, bucket, data, "--to-lsn", str(lsn))
    checkpoint = source.points["a2"][0]
    assert summary["lsn"] == lsn
    assert summary["checkpoint"] == (checkpoint if lsn >= checkpoint else None)
    assert summary["records"] == lsn - (summary["checkpoint"] or 0)
    got = serve_state(data, tmp_path)
    assert got == expected
    if point == "b":    # written later: absent; deleted later: present
        keys = {v["key"] for v in got["plain"]["versions"]}
        assert "new-in-c" not in keys and "deleted-later" in keys


def test_restore_to_a_time(remote, source, tmp_path):
    service, bucket = remote
    lsn, expected, t_b = source.points["b"]
    data = _targets(tmp_path, "folder")
    # Phase c's first record comes at least 50 ms after t_b.
    summary, log = restore(service, bucket, data, "--to-time", _iso(t_b + 0.01))
    assert summary["lsn"] == lsn and "--to-time" in log
    assert serve_state(data, tmp_path) == expected


def test_a_restored_server_goes_on_from_the_target(remote, source, tmp_path):
    """The next commit gets the position after the target; the drives alone (snapshot and
    journal) can rebuild the index."""
    from s3ish.meta import recovery
    service, bucket = remote
    data = _targets(tmp_path, "drives")
    lsn = source.points["b"][0]
    restore(service, bucket, data, "--to-lsn", str(lsn))
    assert recovery.assess(data).complete
    srv = ServerProcess(data, str(tmp_path), extra_args=["--scrub-rate", "0"]).start()
    try:
        c = srv.client()
        c.put_object(Bucket="plain", Key="after-restore", Body=b"x")
        assert lsn_now(data) > lsn
        assert c.get_object(Bucket="plain", Key="new-in-b")["Body"].read()
    finally:
        srv.stop()


# ---- refusals ----

def _run_fail(service, bucket, data, *extra, prefix="pre"):
    r = restore(service, bucket, data, *extra, prefix=prefix, check=False)
    assert r.returncode != 0 and r.stdout == ""
    return r.stderr


@pytest.mark.parametrize("service", ["moto"], indirect=True)
def test_refusals(remote, source, tmp_path):
    service, bucket = remote
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "something").write_text("x")
    err = _run_fail(service, bucket, [str(busy)])
    assert "not empty" in err and str(busy) in err
    assert os.listdir(busy) == ["something"]

    folder = str(tmp_path / "f")
    err = _run_fail(service, bucket, [folder], "--to-lsn", str(source.hwm + 1))
    assert f"above the cold tier's high-water mark {source.hwm}" in err
    err = _run_fail(service, bucket, [str(tmp_path / "g")], prefix="nothing-here")
    assert "no s3://" in err and "nothing-here/manifest.json" in err
    err = _run_fail(service, bucket, [str(tmp_path / "h")], "--to-time", "2026-12-02 21:00")
    assert "time zone" in err
    err = _run_fail(service, bucket, [str(tmp_path / "i")], "--to-time",
                    "2001-01-01T00:00:00Z")
    assert "no record committed at or before 2001-01-01T00:00:00.000Z" in err
    assert os.listdir(tmp_path / "i") == ["LOCK"]     # a refusal leaves nothing behind
    err = _run_fail(service, bucket, [str(tmp_path / f"absent{i}") for i in range(4)])
    assert "is missing: is the disk mounted?" in err


@pytest.fixture
def broken(remote, source):
    """The source's remote under another prefix, without its last segment."""
    service, bucket = remote
    manifest = json.loads(source.objects["manifest.json"])
    gone = manifest["segments"][-1]["key"]
    s3 = service.boto()
    prefix = f"broken-{uuid.uuid4().hex[:6]}"
    for key, body in source.objects.items():
        if key != gone:
            s3.put_object(Bucket=bucket, Key=f"{prefix}/{key}", Body=body)
    return prefix, gone, manifest["segments"][-1]


def test_a_missing_segment_is_named(remote, broken, tmp_path):
    service, bucket = remote
    prefix, gone, seg = broken
    folder = tmp_path / "f"
    err = _run_fail(service, bucket, [str(folder)], prefix=prefix)
    assert f"segment {gone} named in manifest.json is missing from the remote" in err
    assert "left empty, as they were" in err and os.listdir(folder) == ["LOCK"]
    # Below the gap, the same remote still restores.
    summary, _ = restore(service, bucket, [str(tmp_path / "g")], "--to-lsn",
                         str(seg["first"] - 1), prefix=prefix)
    assert summary["lsn"] == seg["first"] - 1


def test_a_killed_restore_leaves_folders_no_server_starts_on(remote, tmp_path, proxy):
    """Killed while the remote answers nothing but errors (retried forever): the work
    folder stays, the server refuses it, and a new restore refuses it as not empty."""
    service, bucket = remote
    proxy.fail_fraction(1.0, 503, "SlowDown")
    data = _targets(tmp_path, "drives")
    env = {**os.environ, "S3ISH_TIER_ACCESS_KEY": service.access_key,
           "S3ISH_TIER_SECRET_KEY": service.secret_key}
    proc = subprocess.Popen([sys.executable, "-m", "s3ish", "restore", "--tier-endpoint",
                             proxy.endpoint, "--tier-bucket", bucket, "--tier-prefix", "pre",
                             *[a for d in data for a in ("--data", d)]],
                            stderr=subprocess.PIPE, env=env, start_new_session=True)
    assert b"retrying" in proc.stderr.readline() + proc.stderr.readline()
    proc.kill()
    proc.wait()
    proc.stderr.close()
    assert os.path.isdir(os.path.join(data[0], ".s3ish", "tier", "restore"))
    r = subprocess.run([sys.executable, "-m", "s3ish", "server", "--listen", "127.0.0.1:0",
                        *[a for d in data for a in ("--data", d)]], capture_output=True,
                       text=True, timeout=60, env={**os.environ, "S3ISH_ROOT_USER": "x",
                                                   "S3ISH_ROOT_PASSWORD": "y"})
    assert r.returncode != 0 and "unfinished `s3ish restore`" in r.stderr
    proxy.clear()
    assert "not empty" in _run_fail(service, bucket, data)


# ---- a flaky remote ----

@pytest.mark.parametrize("layout", ["drives"])
def test_a_flaky_remote_still_restores(remote, source, tmp_path, proxy, layout):
    """Every distinct remote operation fails once: each is retried, and nothing but reads
    reaches the remote."""
    service, bucket = remote
    proxy.fail_each_once(500, "InternalError")
    data = _targets(tmp_path, layout)
    summary, log = restore(service, bucket, data, endpoint=proxy.endpoint)
    assert "retrying" in log and proxy.actions("fail") >= summary["units"]
    assert {method for method, *_ in proxy.log} == {"GET"}
    proxy.clear()
    assert serve_state(data, tmp_path) == source.points["c"][1]


@pytest.mark.parametrize("service", ["s3ish"], indirect=True)
def test_restored_drives_rebuild_from_their_shard_headers(remote, source, tmp_path):
    """Every journal copy and snapshot lost after a restore onto drives: the metadata the
    restore put in the shard headers brings the versions back (delete markers and bucket
    configuration excepted, as for any header rebuild: engine/selfdescribe.py)."""
    import shutil
    service, bucket = remote
    data = _targets(tmp_path, "drives")
    restore(service, bucket, data)
    for d in data:
        shutil.rmtree(os.path.join(d, ".s3ish"))
    os.unlink(os.path.join(data[0], "meta.sqlite3"))
    r = subprocess.run([sys.executable, "-m", "s3ish", "admin", "rebuild-index",
                        *[a for d in data for a in ("--data", d)]], capture_output=True,
                       text=True, timeout=120, env={**os.environ, "S3ISH_ROOT_USER": "x",
                                                    "S3ISH_ROOT_PASSWORD": "y"})
    assert r.returncode == 0 and "shard headers" in r.stdout, r.stderr
    got, expected = serve_state(data, tmp_path), source.points["c"][1]
    assert set(got) == set(expected)
    for b in expected:
        def strip(versions):
            return [{k: v for k, v in x.items() if k != "latest"} for x in versions]
        assert strip(got[b]["versions"]) == strip(expected[b]["versions"])
        assert got[b]["uploads"] == expected[b]["uploads"] and got[b]["markers"] == []


@pytest.mark.parametrize("service", ["moto"], indirect=True)
def test_units_stream_with_bounded_memory(service, bucket, tmp_path):
    """A 24 MiB unit goes from the remote to the store block by block; a wrong length or
    MD5 is refused and leaves nothing."""
    import asyncio
    import tracemalloc

    from s3ish.admin.restore import units
    from s3ish.admin.restore.plan import RestoreError
    from s3ish.storage.datastore import FolderDataStore
    from s3ish.tier.remote import Remote
    from s3ish.util.ids import data_id
    body = os.urandom(24 * MiB)
    unit_id = data_id()
    service.boto().put_object(Bucket=bucket, Key=f"data/{unit_id}", Body=body)
    store = FolderDataStore(str(tmp_path / "f"))
    md5 = hashlib.md5(body).hexdigest()

    async def main():
        async with Remote(service.config(bucket)) as remote:
            fetcher = units.Fetcher(remote, store)
            for size, digest, message in ((len(body) + 1, md5, "its record says"),
                                          (len(body), "0" * 32, "MD5")):
                with pytest.raises(RestoreError, match=message):
                    await fetcher.one(units.Unit(unit_id, size, digest, None, "k"))
            assert store.list_ids() == []
            tracemalloc.start()
            n = await fetcher.one(units.Unit(unit_id, len(body), md5, None, "k"))
            peak = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
            return n, peak
    n, peak = asyncio.run(main())
    assert n == len(body) and peak < 8 * MiB, peak
    with open(store.path(unit_id), "rb") as f:
        assert f.read() == body


@pytest.mark.parametrize("service", ["moto"], indirect=True)
def test_a_folders_index_restores_onto_drives(service, bucket, tmp_path):
    """What one folder holds differently from drives comes back on drives too: objects kept
    inline in the index, multipart objects without a manifest unit (the remote here is a
    checkpoint of a folder's index alone)."""
    from s3ish.storage.datastore import FolderDataStore
    src_dir = str(tmp_path / "src")
    srv = ServerProcess(src_dir, str(tmp_path)).start()
    try:
        c = srv.client()
        c.create_bucket(Bucket="fld")
        c.put_object(Bucket="fld", Key="inline", Body=b"kept in the index", Metadata={"x": "y"})
        c.put_object(Bucket="fld", Key="unit", Body=os.urandom(300 * 1024))
        up = c.create_multipart_upload(Bucket="fld", Key="mp")
        done = [{"PartNumber": i, "ETag": c.upload_part(
            Bucket="fld", Key="mp", PartNumber=i, UploadId=up["UploadId"], Body=body)["ETag"]}
            for i, body in enumerate([os.urandom(5 * MiB), b"end"], 1)]
        c.complete_multipart_upload(Bucket="fld", Key="mp", UploadId=up["UploadId"],
                                    MultipartUpload={"Parts": done})
        expected = state(c)
    finally:
        srv.stop()
    ckpt = str(tmp_path / "ckpt.sqlite3")
    db = sqlite3.connect(os.path.join(src_dir, "meta.sqlite3"))
    db.execute("VACUUM INTO ?", (ckpt,))
    lsn = db.execute("SELECT lsn FROM journal_state").fetchone()[0]
    db.close()
    s3 = service.boto()
    store = FolderDataStore(src_dir)
    for unit in store.list_ids():
        h = store.open(unit)
        s3.put_object(Bucket=bucket, Key=f"pre/data/{unit}",
                      Body=h.read_at(0, os.path.getsize(store.path(unit))))
        h.close()
    key = f"checkpoints/{lsn:020d}-00000001.sqlite3"
    with open(ckpt, "rb") as f:
        body = f.read()
    s3.put_object(Bucket=bucket, Key=f"pre/{key}", Body=body)
    s3.put_object(Bucket=bucket, Key="pre/manifest.json", Body=json.dumps({
        "format": 1, "generation": 1, "writer": "w", "hwm": lsn, "segments": [],
        "checkpoints": [{"lsn": lsn, "gen": 1, "key": key, "size": len(body), "time": 1.0}],
        "generations": [{"gen": 1, "from_lsn": 1, "time": 1.0}]}).encode())
    data = _targets(tmp_path, "drives")
    summary, _ = restore(service, bucket, data)
    assert summary["units"] == 3 and summary["checkpoint"] == lsn
    assert serve_state(data, tmp_path) == expected
