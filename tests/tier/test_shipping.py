"""Shipping to the cold tier, against moto and a second s3ish: writes reach the tier within
the ship interval (lag 0), the remote holds exactly the TIER_SPEC layout, `tier verify` is
clean, and a restart resumes the same generation."""
import os
import time

import pytest

from tests.support import ServerProcess
from tests.tier.shipping import keys, manifest, tier_server, verify, wait_shipped

MiB = 1024 * 1024


def _writes(c, bucket="src"):
    c.create_bucket(Bucket=bucket)
    c.put_object(Bucket=bucket, Key="small", Body=b"inline")
    c.put_object(Bucket=bucket, Key="big", Body=os.urandom(2 * MiB + 1))
    c.put_object(Bucket=bucket, Key="big", Body=os.urandom(MiB + 7))      # overwrite
    up = c.create_multipart_upload(Bucket=bucket, Key="mp")
    parts = [c.upload_part(Bucket=bucket, Key="mp", UploadId=up["UploadId"], PartNumber=i,
                           Body=os.urandom(5 * MiB if i == 1 else 1000))["ETag"]
             for i in (1, 2)]
    c.complete_multipart_upload(Bucket=bucket, Key="mp", UploadId=up["UploadId"],
                                MultipartUpload={"Parts": [{"PartNumber": i, "ETag": e}
                                                           for i, e in enumerate(parts, 1)]})
    c.put_object(Bucket=bucket, Key="gone", Body=os.urandom(300 * 1024))
    c.delete_object(Bucket=bucket, Key="gone")


def test_writes_reach_the_tier_within_the_interval(service, bucket, tmp_path):
    srv = tier_server(str(tmp_path / "data"), tmp_path, service, bucket, interval=2).start()
    try:
        c = srv.client()
        _writes(c)
        done = time.time()
        st = wait_shipped(srv, timeout=2 + 15)
        assert time.time() - done < 2 + 15
        assert st["s3_hwm"] == st["log_end_lsn"] == st["applied_lsn"]
        assert st["lag_bytes"] == 0 and st["lag_seconds"] == 0
        assert set(st) == {"log_end_lsn", "applied_lsn", "s3_hwm", "lag_records", "lag_bytes",
                           "lag_seconds", "pending_uploads", "failing_uploads"}
        m = manifest(service, bucket)
        assert m["generation"] == 1 and m["hwm"] == st["s3_hwm"]
        assert m["checkpoints"] and m["generations"][0]["gen"] == 1
        remote = keys(service, bucket)
        for seg in m["segments"]:
            assert remote[seg["key"]] == seg["size"]
            assert seg["key"] == f"log/00000001/{seg['first']:020d}-{seg['last']:020d}.seg"
        # Every data unit of every version and part is there (the freed ones too).
        units = {k for k in remote if k.startswith("data/")}
        assert len(units) == 5       # 2 versions of big, 2 parts, gone (small is inline)
        assert verify(srv)["ok"]
    finally:
        srv.stop()


def test_a_restart_resumes_the_generation(service, bucket, tmp_path):
    data = str(tmp_path / "data")
    srv = tier_server(data, tmp_path, service, bucket).start()
    try:
        c = srv.client()
        c.create_bucket(Bucket="src")
        c.put_object(Bucket="src", Key="a", Body=b"1")
        first = wait_shipped(srv)
        writer = manifest(service, bucket)["writer"]
    finally:
        srv.stop()
    srv = tier_server(data, tmp_path, service, bucket).start()
    try:
        srv.client().put_object(Bucket="src", Key="b", Body=b"2")
        again = wait_shipped(srv)
        assert again["s3_hwm"] > first["s3_hwm"]
        m = manifest(service, bucket)
        assert m["generation"] == 1 and m["writer"] != writer      # a new id per start
        assert len(m["generations"]) == 1
        assert verify(srv)["ok"]
    finally:
        srv.stop()


def test_no_tier_no_tier_status(tmp_path):
    srv = ServerProcess(str(tmp_path / "data"), str(tmp_path)).start()
    try:
        from tests.tier.shipping import admin
        code, doc = admin(srv, "/_admin/tier/status")
        assert code == 404 and "no cold tier" in doc["error"]
    finally:
        srv.stop()


@pytest.mark.parametrize("service", ["s3ish"], indirect=True)     # moto: the tests above
def test_two_workers_and_four_drives(service, bucket, tmp_path):
    """Every worker process appends; one ships (and seals under the writers' lock): the
    others follow its seals. On drives, segments are merged from the copies."""
    drives = [str(tmp_path / f"d{i}") for i in range(4)]
    srv = tier_server(drives, tmp_path, service, bucket, workers=2).start()
    try:
        import concurrent.futures
        c = srv.client()
        c.create_bucket(Bucket="src")

        def put(i):
            srv.client().put_object(Bucket="src", Key=f"k{i:03d}",
                                    Body=os.urandom([10, 150_000][i % 2]))
        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            list(pool.map(put, range(60)))
        st = wait_shipped(srv, timeout=30)
        assert verify(srv)["ok"]
        m = manifest(service, bucket)
        covered = sum(s["last"] - s["first"] + 1 for s in m["segments"])
        assert m["segments"][0]["first"] == m["checkpoints"][0]["lsn"] + 1
        assert covered == st["s3_hwm"] - m["checkpoints"][0]["lsn"]
        # On drives nothing is inline: every object has its unit.
        assert len([k for k in keys(service, bucket) if k.startswith("data/")]) == 60
    finally:
        srv.stop()
