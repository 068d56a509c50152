"""`s3ish admin tier verify` finds each broken invariant (and exits non-zero with it), and
`tier status` answers through the CLI too."""
import asyncio
import json
import os
import subprocess
import sys

from s3ish.bg.tiership import referenced
from s3ish.tier.remote import Remote
from s3ish.tier.verify import verify as verify_remote
from tests.support import ROOT_PASSWORD, ROOT_USER
from tests.tier.shipping import keys, manifest, tier_server, verify, wait_shipped


def _cli(srv, *args):
    env = {**os.environ, "S3ISH_ROOT_USER": ROOT_USER, "S3ISH_ROOT_PASSWORD": ROOT_PASSWORD}
    return subprocess.run([sys.executable, "-m", "s3ish", "admin", "--endpoint", srv.endpoint,
                           *args], capture_output=True, text=True, env=env, timeout=300)


def _shipped_server(service, bucket, tmp_path):
    srv = tier_server(str(tmp_path / "data"), tmp_path, service, bucket).start()
    c = srv.client()
    c.create_bucket(Bucket="src")
    c.put_object(Bucket="src", Key="a", Body=os.urandom(200_000))
    c.put_object(Bucket="src", Key="b", Body=b"inline")
    wait_shipped(srv)
    return srv


def test_cli_status_and_a_clean_verify(service, bucket, tmp_path):
    srv = _shipped_server(service, bucket, tmp_path)
    try:
        out = _cli(srv, "tier", "status", "--json")
        assert out.returncode == 0, out.stderr
        doc = json.loads(out.stdout)
        assert sorted(doc) == sorted(["log_end_lsn", "applied_lsn", "s3_hwm", "lag_records",
                                      "lag_bytes", "lag_seconds", "pending_uploads",
                                      "failing_uploads"])
        assert all(isinstance(v, (int, float)) for v in doc.values())
        out = _cli(srv, "tier", "verify")
        assert out.returncode == 0 and out.stdout.startswith("ok"), out.stdout + out.stderr
    finally:
        srv.stop()


def test_verify_I3_a_missing_data_unit(service, bucket, tmp_path):
    srv = _shipped_server(service, bucket, tmp_path)
    try:
        unit = next(k for k in keys(service, bucket) if k.startswith("data/"))
        service.boto().delete_object(Bucket=bucket, Key="t/" + unit)
        out = _cli(srv, "tier", "verify")
        assert out.returncode == 1 and "I3" in out.stdout and unit[5:] in out.stdout
    finally:
        srv.stop()


def test_verify_I3_I4_a_missing_segment_and_a_gap(service, bucket, tmp_path):
    srv = _shipped_server(service, bucket, tmp_path)
    try:
        m = manifest(service, bucket)
        seg = m["segments"][0]["key"]
        service.boto().delete_object(Bucket=bucket, Key="t/" + seg)
        doc = verify(srv)
        assert not doc["ok"] and doc["violation"].startswith("I3") and seg in doc["violation"]
        last = m["segments"][-1]["last"]
        m["segments"].append({"gen": 1, "first": last + 2, "last": last + 2, "key": "log/x",
                              "size": 1})
        m["hwm"] = last + 2
        service.boto().put_object(Bucket=bucket, Key="t/manifest.json",
                                  Body=json.dumps(m).encode())
        doc = verify(srv)
        assert not doc["ok"] and doc["violation"].startswith("I4"), doc
    finally:
        srv.stop()


def test_verify_I1_a_high_water_mark_past_the_local_log(service, bucket, tmp_path):
    srv = _shipped_server(service, bucket, tmp_path)
    try:
        hwm = manifest(service, bucket)["hwm"]

        async def go():
            async with Remote(service.config(bucket, prefix="t/")) as remote:
                async def no_ids(path):
                    return
                    yield
                return await verify_remote(remote, hwm - 1, referenced, no_ids)
        doc = asyncio.run(go())
        assert not doc["ok"] and doc["violation"].startswith("I1")
    finally:
        srv.stop()


def test_verify_I5_a_checkpoint_whose_units_are_gone(service, bucket, tmp_path):
    """A unit only the checkpoint references (written before the tier was configured)."""
    data = str(tmp_path / "data")
    from tests.support import ServerProcess
    plain = ServerProcess(data, str(tmp_path)).start()
    try:
        plain.client().create_bucket(Bucket="src")
        plain.client().put_object(Bucket="src", Key="old", Body=os.urandom(200_000))
    finally:
        plain.stop()
    srv = tier_server(data, tmp_path, service, bucket).start()
    try:
        wait_shipped(srv)
        assert verify(srv)["ok"]
        unit = next(k for k in keys(service, bucket) if k.startswith("data/"))
        service.boto().delete_object(Bucket=bucket, Key="t/" + unit)
        doc = verify(srv)
        assert not doc["ok"] and doc["violation"].startswith("I5") and \
            unit[5:] in doc["violation"], doc
    finally:
        srv.stop()
