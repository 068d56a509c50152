"""Shipping through failures, against a second s3ish behind the fault proxy (and moto for
the failing-once test; moto's shipping is in test_shipping.py): the
remote down for a while (failures show in `tier status`, then it catches up), every remote
operation failing once, kill -9 mid-shipping (the high-water mark never goes back, verify is
clean after a restart), local truncation with the remote down (I2), and freed data kept
until the tier has what a restore before the free needs."""
import os
import random
import sqlite3
import time

import pytest

from s3ish.meta import journal
from tests.tier.shipping import keys, manifest, status, tier_server, verify, wait_shipped

MiB = 1024 * 1024


def _local_units(data: str) -> set[str]:
    root = os.path.join(data, "objects")
    return {name for sub in os.listdir(root) for name in os.listdir(os.path.join(root, sub))}


def _wait(cond, timeout=30.0, what="condition"):
    deadline = time.time() + timeout
    while not cond():
        if time.time() > deadline:
            raise AssertionError(f"{what} not met within {timeout} s")
        time.sleep(0.2)


@pytest.mark.parametrize("service", ["s3ish"], indirect=True)     # moto: tests/tier/test_shipping.py
def test_remote_down_for_a_while_then_catches_up(service, bucket, proxy, tmp_path):
    srv = tier_server(str(tmp_path / "data"), tmp_path, service, bucket,
                      endpoint=proxy.endpoint).start()
    try:
        c = srv.client()
        c.create_bucket(Bucket="src")
        c.put_object(Bucket="src", Key="before", Body=b"x")
        before = wait_shipped(srv)["s3_hwm"]
        proxy.down()
        for i in range(20):
            c.put_object(Bucket="src", Key=f"k{i}", Body=os.urandom(random.choice([10, 200_000])))
        _wait(lambda: status(srv)["failing_uploads"] > 0, what="failures reported")
        st = status(srv)
        assert st["s3_hwm"] == before and st["lag_records"] >= 20 and st["lag_bytes"] > 0
        assert st["lag_seconds"] > 0
        assert manifest(service, bucket)["hwm"] == before      # the foreground went on
        time.sleep(3)
        proxy.up()
        st = wait_shipped(srv, timeout=60)       # backoff is capped at 30 s
        assert st["failing_uploads"] == 0 and st["s3_hwm"] > before
        assert verify(srv)["ok"]
    finally:
        srv.stop()


def test_every_remote_operation_failing_once(service, bucket, proxy, tmp_path):
    proxy.fail_each_once()
    srv = tier_server(str(tmp_path / "data"), tmp_path, service, bucket,
                      endpoint=proxy.endpoint, extra=["--tier-checkpoint-interval", "1"]).start()
    try:
        c = srv.client()
        c.create_bucket(Bucket="src")
        for i in range(6):
            c.put_object(Bucket="src", Key=f"k{i}", Body=os.urandom([5, 300_000][i % 2]))
            time.sleep(0.3)
        wait_shipped(srv, timeout=60)
        assert proxy.actions("fail") > 5
        _wait(lambda: len(manifest(service, bucket)["checkpoints"]) > 1, 30, "a new checkpoint")
        proxy.clear()
        assert verify(srv)["ok"]
    finally:
        srv.stop()


@pytest.mark.parametrize("service", ["s3ish"], indirect=True)     # moto: tests/tier/test_shipping.py
def test_kill9_while_shipping_then_restart(service, bucket, proxy, tmp_path):
    """I1, I3, I4 after a crash at any point of shipping: restart, catch up, verify; the
    high-water mark only grows."""
    data = str(tmp_path / "data")
    seen = [0]
    rng = random.Random(7)
    for round_ in range(3):
        proxy.fail_fraction(0.2, seed=round_)
        srv = tier_server(data, tmp_path, service, bucket, endpoint=proxy.endpoint,
                          interval=0.5).start()
        c = srv.client()
        if round_ == 0:
            c.create_bucket(Bucket="src")
        deadline = time.time() + rng.uniform(2, 5)
        n = 0
        while time.time() < deadline:
            c.put_object(Bucket="src", Key=f"r{round_}/k{n}",
                         Body=os.urandom(rng.choice([10, 70_000, 1_500_000])))
            n += 1
            m = manifest(service, bucket)
            if m:
                assert m["hwm"] >= seen[0]
                seen[0] = m["hwm"]
        srv.kill9()
    proxy.clear()
    srv = tier_server(data, tmp_path, service, bucket, endpoint=proxy.endpoint).start()
    try:
        st = wait_shipped(srv, timeout=60)
        assert st["s3_hwm"] >= seen[0]
        assert verify(srv)["ok"]
        assert manifest(service, bucket)["generation"] == 1
    finally:
        srv.stop()


@pytest.mark.parametrize("service", ["s3ish"], indirect=True)     # moto: tests/tier/test_shipping.py
def test_I2_no_segment_above_the_hwm_is_deleted_locally(service, bucket, proxy, tmp_path):
    """The remote down for long while the journal grows past every bound: checkpoints are
    taken and old segments go, but never one the tier lacks (also at a restart)."""
    data = str(tmp_path / "data")
    env = {"S3ISH_JOURNAL_SEGMENT_BYTES": "3000", "S3ISH_JOURNAL_COMPACT_BYTES": "6000",
           "S3ISH_LOG_KEEPER_SECONDS": "0.3"}
    srv = tier_server(data, tmp_path, service, bucket, endpoint=proxy.endpoint,
                      env=env).start()
    try:
        c = srv.client()
        c.create_bucket(Bucket="src")
        for i in range(30):
            c.put_object(Bucket="src", Key=f"early{i}", Body=b"e" * 500)
        hwm = wait_shipped(srv)["s3_hwm"]
        _wait(lambda: journal.drive_base(data) > 1, what="truncation behind the hwm")
        proxy.down()
        for i in range(200):
            c.put_object(Bucket="src", Key=f"late{i}", Body=b"l" * 500)
        time.sleep(2)       # the keeper checkpoints and truncates meanwhile
        end = status(srv)["log_end_lsn"]
        assert journal.drive_base(data) <= hwm
        assert [e.lsn for e in journal.read_entries([data], after=hwm)] == \
            list(range(hwm + 1, end + 1))
    finally:
        srv.stop()
    srv = tier_server(data, tmp_path, service, bucket, endpoint=proxy.endpoint,
                      env=env).start()          # start-up compaction: the same bound
    try:
        assert journal.drive_base(data) <= hwm
        proxy.up()
        wait_shipped(srv, timeout=60)
        assert verify(srv)["ok"]
        _wait(lambda: journal.drive_base(data) > hwm, what="truncation once shipped")
    finally:
        srv.stop()


def _unit_ids(data: str, key: str) -> list[str]:
    with sqlite3.connect(os.path.join(data, "meta.sqlite3")) as db:
        meta = db.execute("SELECT meta FROM objects WHERE key=?", (key,)).fetchone()[0]
    import json
    return [p["data_id"] for p in json.loads(meta)["parts"]]


@pytest.mark.parametrize("service", ["s3ish"], indirect=True)     # moto: tests/tier/test_shipping.py
def test_freed_data_stays_until_shipped(service, bucket, proxy, tmp_path):
    data = str(tmp_path / "data")
    srv = tier_server(data, tmp_path, service, bucket, endpoint=proxy.endpoint).start()
    try:
        c = srv.client()
        c.create_bucket(Bucket="src")
        c.put_object(Bucket="src", Key="over", Body=b"1" * 300_000)
        c.put_object(Bucket="src", Key="del", Body=b"2" * 300_000)
        wait_shipped(srv)
        freed = _unit_ids(data, "over") + _unit_ids(data, "del")
        proxy.down()
        c.put_object(Bucket="src", Key="over", Body=b"3" * 300_000)
        c.delete_object(Bucket="src", Key="del")
        up = c.create_multipart_upload(Bucket="src", Key="mp")
        c.upload_part(Bucket="src", Key="mp", UploadId=up["UploadId"], PartNumber=1,
                      Body=b"p" * 1000)
        c.abort_multipart_upload(Bucket="src", Key="mp", UploadId=up["UploadId"])
        time.sleep(2)
        assert set(freed) <= _local_units(data)          # kept while the tier lacks...
        with open(os.path.join(data, ".s3ish", "tier", "graveyard")) as f:
            assert set(freed) <= {line.split()[0] for line in f}
    finally:
        srv.stop()
    srv = tier_server(data, tmp_path, service, bucket, endpoint=proxy.endpoint).start()
    try:
        assert set(freed) <= _local_units(data)           # ...across a restart too
        proxy.up()
        wait_shipped(srv, timeout=60)
        _wait(lambda: not set(freed) & _local_units(data), what="freed units removed")
        remote = keys(service, bucket)
        assert all(f"data/{d}" in remote for d in freed)
        assert verify(srv)["ok"]
    finally:
        srv.stop()
