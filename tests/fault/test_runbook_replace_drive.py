"""docs/operations.md's replace-a-drive runbook, step by step with the operator's own tools:
a 4-drive set written through S3, stopped, one drive's folder replaced by an empty one,
started again; `s3ish admin drives` until every drive is ok, `/_ready`, the drive and heal
metrics, `s3ish admin heal status`, `s3ish admin scrub`, and every object byte-exact.
(tests/fault/test_drive_replacement.py covers the harder orders of replacements and losses
through the admin API.)"""
import hashlib
import os
import shutil
import subprocess
import sys
import time

import requests

from tests.support import ROOT_PASSWORD, ROOT_USER, ServerProcess

MiB = 1024 * 1024
TOKEN = "runbook-metrics-token"


def _admin(srv, *args) -> str:
    """`s3ish admin ...` as the runbook runs it (root credentials in the environment)."""
    env = {**os.environ, "S3ISH_ROOT_USER": ROOT_USER, "S3ISH_ROOT_PASSWORD": ROOT_PASSWORD,
           "S3ISH_ENDPOINT": srv.endpoint}
    r = subprocess.run([sys.executable, "-m", "s3ish", "admin", *args], capture_output=True,
                       text=True, env=env, timeout=60)
    assert r.returncode == 0, r.stderr
    return r.stdout


def _states(table: str) -> dict[str, str]:
    """path -> state, from `s3ish admin drives`."""
    rows = [line.split() for line in table.splitlines()[1:] if line.strip()]
    return {row[-1]: row[1] for row in rows}


def _fields(text: str) -> dict[str, str]:
    return dict(line.split(None, 1) for line in text.splitlines() if line.strip())


def _metrics(srv) -> dict[str, float]:
    r = requests.get(srv.endpoint + "/_metrics", timeout=10,
                     headers={"Authorization": f"Bearer {TOKEN}"})
    r.raise_for_status()
    return {line.rsplit(" ", 1)[0]: float(line.rsplit(" ", 1)[1])
            for line in r.text.splitlines() if line.startswith("s3ish_")}


def test_replace_a_drive_runbook(tmp_path):
    drives = [str(tmp_path / f"d{i}") for i in range(1, 5)]
    args = ["--metrics-token", TOKEN, "--scrub-rate", "0"]
    srv = ServerProcess(drives, str(tmp_path), workers=2, extra_args=args).start()
    bodies = {"inline": b"small enough to live in the index",
              "one-unit": os.urandom(3 * MiB + 7)}
    try:
        c = srv.client()
        c.create_bucket(Bucket="photos")
        for key, body in bodies.items():
            c.put_object(Bucket="photos", Key=key, Body=body)
        parts = [os.urandom(5 * MiB), os.urandom(MiB + 1)]
        up = c.create_multipart_upload(Bucket="photos", Key="multipart")
        done = [{"PartNumber": n, "ETag": c.upload_part(
            Bucket="photos", Key="multipart", UploadId=up["UploadId"], PartNumber=n,
            Body=p)["ETag"]} for n, p in enumerate(parts, 1)]
        c.complete_multipart_upload(Bucket="photos", Key="multipart", UploadId=up["UploadId"],
                                    MultipartUpload={"Parts": done})
        bodies["multipart"] = b"".join(parts)
        assert set(_states(_admin(srv, "drives")).values()) == {"ok"}
    finally:
        srv.stop()                                  # systemctl stop s3ish

    shutil.rmtree(drives[2])                        # the disk dies
    os.makedirs(drives[2])                          # a new, empty one at the same path

    srv = ServerProcess(drives, str(tmp_path), workers=2, extra_args=args).start()
    try:
        deadline = time.time() + 20
        while (states := _states(_admin(srv, "drives"))) != dict.fromkeys(drives, "ok"):
            assert time.time() < deadline, states
            assert set(states.values()) <= {"ok", "new"}, states
            time.sleep(0.3)
        log = srv.read_log()
        assert f"drive 2 ({drives[2]}): ok -> new" in log
        assert f"rebuild of {drives[2]} complete" in log
        assert requests.get(srv.endpoint + "/_ready", timeout=5).text.strip() == "ready"
        deadline = time.time() + 15         # each worker publishes its status every 2 s
        while int((heal := _fields(_admin(srv, "heal", "status")))["repaired_shards"]) == 0:
            assert time.time() < deadline, heal
            time.sleep(0.5)
        assert heal["failed"] == "0"
        deadline = time.time() + 15                 # the gauges follow the drive watcher
        while (m := _metrics(srv))[f's3ish_drive_ok{{drive="{drives[2]}"}}'] != 1:
            assert time.time() < deadline, m
            time.sleep(0.5)
        for d in drives:
            assert m[f's3ish_drive_free_bytes{{drive="{d}"}}'] > 0
            assert m[f's3ish_drive_total_bytes{{drive="{d}"}}'] >= \
                m[f's3ish_drive_free_bytes{{drive="{d}"}}']
        assert m["s3ish_heal_queue_depth"] == 0 and m["s3ish_ready"] == 1
        scrub = _fields(_admin(srv, "scrub"))       # every shard of every unit, re-read
        assert scrub["corrupt_shards"] == "0" and int(scrub["units"]) >= 3
        c = srv.client()
        for key, body in bodies.items():
            got = c.get_object(Bucket="photos", Key=key)["Body"].read()
            assert hashlib.sha256(got).digest() == hashlib.sha256(body).digest(), key
    finally:
        srv.stop()
    # The new drive holds its shards: the two drives besides it and one more could go.
    assert any(os.scandir(os.path.join(drives[2], "objects", sub))
               for sub in os.listdir(os.path.join(drives[2], "objects")))
