"""`make bench`, the cold tier (issue 12): what shipping costs the foreground, and how fast the
tier is fed, restored from and followed. Every server is a subprocess on 127.0.0.1; the cold
tier is a second s3ish (moto takes minutes for what s3ish does in seconds, and would measure
moto).

Cells:
- foreground PUT, 4 KiB c16 and 64 MiB c4: a server shipping to the tier (ship interval 1 s,
  so shipping runs all through the cell) against one without a tier, interleaved; the ratio
  shipping/no tier (the issue's target: at least 0.8).
- shipping throughput: a server whose tier is down writes a data set (`--ship-mib` objects
  of 1 MiB, 2,000 of 4 KiB), then the tier comes up; MB/s = bytes uploaded from the first
  upload seen until the lag is 0.
- restore throughput: `s3ish restore` of that tier into an empty folder; MB/s of the data
  units fetched, and its time (the issue's "restore time for the bench data set").
- follower lag: a follower of that tier (ship and follow intervals 1 s) under a 4 KiB PUT
  load of `--follow-seconds`; the median and the largest `lag_seconds` it reported.

    .venv/bin/python scripts/bench_tier.py [--reps 3] [--duration 5] [--ship-mib 512] [--json out.json]
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_matrix import (KEY, SECRET, bench, counters, free_port, start_s3ish,  # noqa: E402
                          stop, wait_http)

from s3ish.admin.client import call  # noqa: E402

TIER_BUCKET = "cold"
FOREGROUND = [("4KiB PUT c16", ["put", "--size", "4KiB", "-c", "16"]),
              ("64MiB PUT c4", ["put", "--size", "64MiB", "-c", "4"])]


def tier_flags(endpoint: str, prefix: str, ship: float = 1.0) -> list:
    return ["--tier-endpoint", endpoint, "--tier-bucket", TIER_BUCKET, "--tier-prefix", prefix,
            "--tier-ship-interval", str(ship)]


def tier_env() -> dict:
    return {"S3ISH_TIER_ACCESS_KEY": KEY, "S3ISH_TIER_SECRET_KEY": SECRET}


def status(url: str) -> dict:
    os.environ.setdefault("S3ISH_ROOT_USER", KEY)
    os.environ.setdefault("S3ISH_ROOT_PASSWORD", SECRET)
    return call(url, "us-east-1", "GET", "/_admin/tier/status")


def wait_caught_up(url: str, timeout: float = 600) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        doc = status(url)
        if doc["lag_records"] == 0 and doc["pending_uploads"] == 0 and doc["s3_hwm"] > 0:
            return
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not catch up with its tier: {status(url)}")


def make_tier(tmp: str):
    """The cold tier: a second s3ish with the bucket made."""
    proc, url = start_s3ish(2, tmp)
    import boto3
    boto3.client("s3", endpoint_url=url, aws_access_key_id=KEY, aws_secret_access_key=SECRET,
                 region_name="us-east-1").create_bucket(Bucket=TIER_BUCKET)
    return proc, url


def foreground(opts, tmp: str, tier_url: str) -> dict:
    shipping, ship_url = start_s3ish(2, tmp, extra=tier_flags(tier_url, "fg/"),
                                     env_extra=tier_env())
    plain, plain_url = start_s3ish(2, tmp)
    out = {}
    try:
        for name, args in FOREGROUND:
            runs = {"shipping": [], "no tier": []}
            for rep in range(opts.reps):
                order = [("shipping", ship_url), ("no tier", plain_url)]
                for label, url in order if rep % 2 == 0 else order[::-1]:
                    runs[label].append(bench(url, args, opts.duration)["ops_per_s"])
            med = {k: statistics.median(v) for k, v in runs.items()}
            out[name] = {"shipping": med["shipping"], "no tier": med["no tier"],
                         "ratio": med["shipping"] / med["no tier"], "runs": runs}
            print(f"{name:14s} shipping {med['shipping']:8.1f} ops/s  no tier "
                  f"{med['no tier']:8.1f} ops/s  ratio {out[name]['ratio']:.2f}x", flush=True)
        wait_caught_up(ship_url)
    finally:
        stop(shipping)
        stop(plain)
    return out


def shipping_cell(opts, tmp: str) -> tuple[dict, object, str]:
    """A backlog shipped at once; returns the tier (still running) for the next cells."""
    port = free_port()
    tier_url = f"http://127.0.0.1:{port}"
    writer, url = start_s3ish(2, tmp, extra=tier_flags(tier_url, "ship/"), env_extra=tier_env())
    try:
        # A data set of a known size, kept (the bench deletes its objects otherwise).
        bench(url, ["put", "--size", "1MiB", "-c", "8", "--count", str(opts.ship_mib),
                    "--keep"], 600, bucket="big")
        bench(url, ["put", "--size", "4KiB", "-c", "16", "--count", "2000", "--keep"], 600,
              bucket="small")
        tier, _ = start_tier_on(tmp, port)
        t0 = first = None
        while True:
            up = counters(url, ["s3ish_tier_uploaded_bytes_total"])[
                "s3ish_tier_uploaded_bytes_total"]
            if up and t0 is None:
                t0, first = time.perf_counter(), up
            doc = status(url)
            if t0 and doc["lag_records"] == 0 and doc["pending_uploads"] == 0:
                break
            time.sleep(0.05)
        seconds = time.perf_counter() - t0
        total = counters(url, ["s3ish_tier_uploaded_bytes_total"])[
            "s3ish_tier_uploaded_bytes_total"]
        cell = {"bytes": total, "seconds": seconds,
                "MB_per_s": (total - first) / 1e6 / seconds if seconds else 0.0}
        print(f"shipping       {total / 1e6:.0f} MB in {seconds:.1f} s: "
              f"{cell['MB_per_s']:.1f} MB/s", flush=True)
    finally:
        stop(writer)
    return cell, tier, tier_url


def start_tier_on(tmp: str, port: int):
    data = tempfile.mkdtemp(dir=tmp)
    env = {**os.environ, "S3ISH_ROOT_USER": KEY, "S3ISH_ROOT_PASSWORD": SECRET}
    proc = subprocess.Popen([sys.executable, "-m", "s3ish", "server", "--listen",
                             f"127.0.0.1:{port}", "--data", data, "--workers", "2",
                             "--scrub-rate", "0", "--log-level", "warning"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    wait_http(url + "/_ready")
    import boto3
    boto3.client("s3", endpoint_url=url, aws_access_key_id=KEY, aws_secret_access_key=SECRET,
                 region_name="us-east-1").create_bucket(Bucket=TIER_BUCKET)
    return proc, url


def restore_cell(tmp: str, tier_url: str) -> dict:
    target = tempfile.mkdtemp(dir=tmp)
    t = time.perf_counter()
    out = subprocess.run([sys.executable, "-m", "s3ish", "restore", "--tier-endpoint", tier_url,
                          "--tier-bucket", TIER_BUCKET, "--tier-prefix", "ship/", "--data",
                          target, "--json"], env={**os.environ, **tier_env()},
                         capture_output=True, text=True, timeout=3600)
    seconds = time.perf_counter() - t
    if out.returncode:
        raise RuntimeError(f"restore failed: {out.stderr}")
    summary = json.loads(out.stdout[out.stdout.index("{"):])
    nbytes = summary["bytes"]       # data units, checkpoint and segments fetched
    cell = {"seconds": seconds, "summary": summary, "MB_per_s": nbytes / 1e6 / seconds}
    print(f"restore        {nbytes / 1e6:.0f} MB in {seconds:.1f} s (the command, start to "
          f"end): {cell['MB_per_s']:.1f} MB/s", flush=True)
    shutil.rmtree(target, ignore_errors=True)
    return cell


def follower_cell(opts, tmp: str, tier_url: str) -> dict:
    writer, url = start_s3ish(2, tmp, extra=tier_flags(tier_url, "follow/"),
                              env_extra=tier_env())
    follower = None
    try:
        bench(url, ["put", "--size", "4KiB", "-c", "4"], 1)
        wait_caught_up(url)
        follower, furl = start_s3ish(1, tmp, extra=tier_flags(tier_url, "follow/") + [
            "--follow-tier", "--follow-interval", "1"], env_extra=tier_env())
        lags, done = [], threading.Event()

        def sample():
            while not done.is_set():
                lags.append(status(furl)["lag_seconds"])
                time.sleep(0.5)
        sampler = threading.Thread(target=sample)
        sampler.start()
        try:
            load = bench(url, ["put", "--size", "4KiB", "-c", "4"], opts.follow_seconds)
        finally:
            done.set()
            sampler.join()
        cell = {"writes_per_s": load["ops_per_s"], "lag_median_s": statistics.median(lags),
                "lag_max_s": max(lags), "samples": len(lags)}
        print(f"follower lag   under {load['ops_per_s']:.0f} PUT/s: median "
              f"{cell['lag_median_s']:.1f} s, max {cell['lag_max_s']:.1f} s "
              f"({len(lags)} samples)", flush=True)
    finally:
        stop(writer)
        if follower is not None:
            stop(follower)
    return cell


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--duration", type=float, default=5)
    ap.add_argument("--follow-seconds", type=float, default=20)
    ap.add_argument("--ship-mib", type=int, default=512,
                    help="the shipping and restore data set: this many 1 MiB objects (and "
                    "2,000 of 4 KiB)")
    ap.add_argument("--json")
    opts = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="s3ish-bench-tier-")
    results = {}
    tier = ship_tier = None
    try:
        tier, tier_url = make_tier(tmp)
        results["foreground"] = foreground(opts, tmp, tier_url)
        results["shipping"], ship_tier, ship_url = shipping_cell(opts, tmp)
        results["restore"] = restore_cell(tmp, ship_url)
        results["follower"] = follower_cell(opts, tmp, tier_url)
    finally:
        for proc in (tier, ship_tier):
            if proc is not None:
                stop(proc)
        shutil.rmtree(tmp, ignore_errors=True)
    if opts.json:
        with open(opts.json, "w") as f:
            json.dump(results, f, indent=2)


if __name__ == "__main__":
    main()
