"""`make bench`: the standard matrix, s3ish against moto (server mode) in one run, interleaved.

Starts s3ish (durable, on a fresh folder; 2 workers, and 1 worker for the workers cell) and
moto_server on 127.0.0.1, runs `s3ish bench` for every cell on both, alternating which goes
first, and prints the medians and the ratio s3ish/moto. Also prints the MD5 bound of this
machine (the ceiling for PUT throughput, since every PUT computes an MD5 ETag).

Then the version listings (issue 9), s3ish alone, in a bucket of their own with versioning
on: one key with 10,000 versions, and 100,000 keys with 5 versions each (`--skip-big` leaves
the latter out). Moto cannot take them: each PUT to a key costs it time in proportion to the
key's versions (6.5 PUT/s at 5,600 versions of one key, 5 min to get there), and it loses
versions when one key is written by concurrent connections. The versions are written once
per cell (0-byte PUTs, 32 connections; the big cell's server runs with --no-fsync, which a
listing never notices) and every repetition lists them again (`bench versions --prefilled`).

    .venv/bin/python scripts/bench_matrix.py [--reps 3] [--duration 5] [--json out.json]
        [--skip-big]
    .venv/bin/python scripts/bench_matrix.py --compare-src /tmp/old/src
        (small PUT/GET of this tree against another source tree, same venv, interleaved)
    .venv/bin/python scripts/bench_matrix.py --policy
        (only the last cells of the matrix: small PUT/GET by a user granted access by a
        20-statement bucket policy against the same user in a bucket of its own without a
        policy, one server, interleaved)
    .venv/bin/python scripts/bench_matrix.py --compression
        (4 KiB and 64 MiB PUT/GET of compressible log-like text (`bench --payload text`,
        ~4x with zstd) on a server with --compression on against one without, interleaved;
        then the stored/input ratio from the compressed server's metrics)
    .venv/bin/python scripts/bench_matrix.py --grpc
        (only the gRPC cells: 4 KiB and 64 MiB PUT/GET over gRPC against the same over S3/HTTP,
        one server with --protocol both and 2 workers, interleaved; the default matrix ends
        with them too)
    .venv/bin/python scripts/bench_matrix.py --sse
        (4 KiB and 64 MiB PUT/GET of compressible text into a plain bucket, one with default
        encryption SSE-S3, one compressed, and one with both, all on one server, every target
        interleaved; the ratios encrypted/plain, compressed/plain and both/plain)
"""
import argparse
import hashlib
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VENV_BIN = os.path.dirname(sys.executable)
KEY, SECRET = "benchkey", "benchsecret"

CELLS = [  # name, bench arguments, repetitions factor (LIST pre-populates 10,000 keys)
    ("4KiB PUT c16", ["put", "--size", "4KiB", "-c", "16"], 1),
    ("4KiB PUT c64", ["put", "--size", "4KiB", "-c", "64"], 1),
    ("4KiB GET c16", ["get", "--size", "4KiB", "-c", "16"], 1),
    ("4KiB GET c64", ["get", "--size", "4KiB", "-c", "64"], 1),
    ("1MiB PUT c16", ["put", "--size", "1MiB", "-c", "16"], 1),
    ("1MiB GET c16", ["get", "--size", "1MiB", "-c", "16", "--objects", "64"], 1),
    ("64MiB PUT c4", ["put", "--size", "64MiB", "-c", "4"], 1),
    ("64MiB GET c4", ["get", "--size", "64MiB", "-c", "4", "--objects", "8"], 1),
    ("LIST 10k keys c4", ["list", "--objects", "10000", "-c", "4"], 0),
]


VERSION_BUCKET = "matrix-versions"
ONE_KEY = ("ListObjectVersions 1 key x 10k versions c4",
           ["versions", "--objects", "1", "--versions", "10000", "--size", "0", "-c", "4"])
MANY_KEYS = ("ListObjectVersions 100k keys x 5 c4",
             ["versions", "--objects", "100000", "--versions", "5", "--size", "0", "-c", "4"])


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(url: str, timeout: float = 30) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            urllib.request.urlopen(url, timeout=2)
            return
        except urllib.error.HTTPError:
            return          # it answers: up
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not come up")


def start_s3ish(workers: int, tmp: str, drives: int = 1, src: str | None = None,
                extra=(), env_extra=None):
    """`src`: run the server from another source tree (PYTHONPATH), same interpreter."""
    port = free_port()
    data = tempfile.mkdtemp(dir=tmp)
    folders = [data] if drives == 1 else [os.path.join(data, f"d{i}") for i in range(drives)]
    env = {**os.environ, "S3ISH_ROOT_USER": KEY, "S3ISH_ROOT_PASSWORD": SECRET,
           **(env_extra or {})}
    if src:
        env["PYTHONPATH"] = src
    proc = subprocess.Popen([sys.executable, "-m", "s3ish", "server", "--listen",
                             f"127.0.0.1:{port}", *[a for f in folders for a in ("--data", f)],
                             "--workers", str(workers), "--scrub-rate", "0", *extra,
                             "--log-level", "warning"], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    wait_http(f"http://127.0.0.1:{port}/_ready")
    return proc, f"http://127.0.0.1:{port}"


def start_moto():
    port = free_port()
    proc = subprocess.Popen([os.path.join(VENV_BIN, "moto_server"), "-H", "127.0.0.1", "-p",
                             str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    wait_http(f"http://127.0.0.1:{port}/")
    return proc, f"http://127.0.0.1:{port}"


GRPC_CELLS = [  # name, bench arguments: each run over gRPC and over S3 (HTTP)
    ("4KiB PUT c16", ["put", "--size", "4KiB", "-c", "16"]),
    ("4KiB GET c16", ["get", "--size", "4KiB", "-c", "16"]),
    ("64MiB PUT c4", ["put", "--size", "64MiB", "-c", "4"]),
    ("64MiB GET c4", ["get", "--size", "64MiB", "-c", "4", "--objects", "8"]),
]


def start_grpc_s3ish(tmp: str):
    """s3ish with --protocol both (2 workers): (process, HTTP URL, gRPC HOST:PORT)."""
    port = free_port()
    proc, url = start_s3ish(2, tmp, extra=["--protocol", "both", "--grpc-listen",
                                           f"127.0.0.1:{port}"])
    return proc, url, f"127.0.0.1:{port}"


def grpc_cells(opts, tmp: str) -> dict:
    """gRPC vs HTTP on one server, interleaved ("s3ish" = gRPC, "moto" = HTTP)."""
    proc, url, target = start_grpc_s3ish(tmp)
    results = {}
    try:
        for name, args in GRPC_CELLS:
            runs = {"s3ish": [], "moto": []}
            for rep in range(opts.reps):
                order = [("s3ish", ["--grpc", target]), ("moto", [])]
                for slot, extra in order if rep % 2 == 0 else order[::-1]:
                    runs[slot].append(bench(url, [*args, *extra], opts.duration))
            label = f"{name} gRPC / HTTP"
            results[label] = summarize_cell(runs)
            print_cell(label, results[label], ("gRPC", "HTTP"))
    finally:
        stop(proc)
    return results


def bench(endpoint: str, args: list, duration: float, bucket: str = "matrix",
          creds: tuple[str, str] = (KEY, SECRET)) -> dict:
    # The bench is always this tree's client (PYTHONPATH as given to this script).
    out = subprocess.run([sys.executable, "-m", "s3ish", "bench", *args, "--endpoint", endpoint,
                          "--duration", str(duration), "--no-progress", "--json", "-",
                          "--bucket", bucket],
                         env={**os.environ, "AWS_ACCESS_KEY_ID": creds[0],
                              "AWS_SECRET_ACCESS_KEY": creds[1]},
                         capture_output=True, text=True, timeout=1800)
    text = out.stdout
    return json.loads(text[text.index("{"):])


def md5_bound() -> float:
    block = os.urandom(64 << 20)
    best = 0.0
    for _ in range(3):
        t = time.perf_counter()
        hashlib.md5(block).digest()
        best = max(best, 64 * 1.048576 / (time.perf_counter() - t))
    return best


def stop(proc) -> None:
    os.killpg(proc.pid, 15)
    proc.wait(timeout=30)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--duration", type=float, default=5)
    ap.add_argument("--json")
    ap.add_argument("--drives", action="store_true",
                    help="instead: 1 drive vs 4 erasure-coded drives (2+2), and scrub speed")
    ap.add_argument("--skip-big", action="store_true",
                    help="leave out the 100k keys x 5 versions listing (~5 min to fill)")
    ap.add_argument("--compare-src", metavar="SRC",
                    help="instead: 4 KiB PUT/GET c16 of this tree vs the s3ish in SRC")
    ap.add_argument("--policy", action="store_true",
                    help="instead: 4 KiB PUT/GET c16 granted by a 20-statement bucket policy "
                    "vs. the same user's own bucket without one")
    ap.add_argument("--compression", action="store_true",
                    help="instead: 4 KiB and 64 MiB PUT/GET of compressible text with "
                    "--compression on vs off, and the ratio stored/input")
    ap.add_argument("--sse", action="store_true",
                    help="instead: 4 KiB and 64 MiB PUT/GET plain vs SSE-S3 vs compressed vs "
                    "both, one server, interleaved")
    ap.add_argument("--grpc", action="store_true",
                    help="instead: only the gRPC vs HTTP cells (4 KiB and 64 MiB PUT/GET)")
    ap.add_argument("--only-versions", action="store_true",
                    help="run only the version listing cells")
    opts = ap.parse_args()
    if opts.drives:
        return compare_drives(opts)
    if opts.compare_src:
        return compare_src(opts)
    if opts.policy:
        return compare_policy(opts)
    if opts.compression:
        return compare_compression(opts)
    if opts.sse:
        return compare_sse(opts)
    if opts.grpc:
        return compare_grpc(opts)
    tmp = tempfile.mkdtemp(prefix="s3ish-matrix-", dir=os.environ.get("TMPDIR", "/tmp"))
    bound = md5_bound()
    print(f"MD5 bound on this machine: {bound:.0f} MB/s (one core); 64MiB PUT target 60% = "
          f"{0.6 * bound:.0f} MB/s", flush=True)
    s3ish, s3ish_url = start_s3ish(2, tmp)
    moto, moto_url = start_moto()
    results = {}
    try:
        for name, args, factor in [] if opts.only_versions else CELLS:
            reps = max(1, opts.reps * factor)
            runs = {"s3ish": [], "moto": []}
            for rep in range(reps):
                order = [("s3ish", s3ish_url), ("moto", moto_url)]
                for target, url in order if rep % 2 == 0 else order[::-1]:
                    runs[target].append(bench(url, args, opts.duration))
            results[name] = summarize_cell(runs)
            print_cell(name, results[name])
        results.update(version_cells(opts, tmp, s3ish_url))
        stop(s3ish)
        if not opts.only_versions:
            workers_cell(opts, tmp, results)
            results.update(policy_cells(opts, tmp))
            results.update(grpc_cells(opts, tmp))
    finally:
        for p in (s3ish, moto):
            if p.poll() is None:
                stop(p)
        shutil.rmtree(tmp, ignore_errors=True)
    if opts.json:
        with open(opts.json, "w") as f:
            json.dump({"md5_bound_mb_s": bound, "cells": results}, f, indent=2)


def compare_grpc(opts) -> None:
    """`--grpc` alone: the gRPC vs HTTP cells, then the JSON."""
    tmp = tempfile.mkdtemp(prefix="s3ish-grpc-", dir=os.environ.get("TMPDIR", "/tmp"))
    try:
        results = grpc_cells(opts, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    if opts.json:
        with open(opts.json, "w") as f:
            json.dump({"grpc": results}, f, indent=2)


def workers_cell(opts, tmp: str, results: dict) -> None:
    """4 KiB GET c64 on 2 workers against 1 worker."""
    one, one_url = start_s3ish(1, tmp)
    two, two_url = start_s3ish(2, tmp)
    runs = {"s3ish": [], "moto": []}     # here: "s3ish" = 2 workers, "moto" = 1 worker
    try:
        for rep in range(opts.reps):
            order = [("s3ish", two_url), ("moto", one_url)]
            for target, url in order if rep % 2 == 0 else order[::-1]:
                runs[target].append(bench(url, ["get", "--size", "4KiB", "-c", "64"],
                                          opts.duration))
    finally:
        stop(one)
        stop(two)
    name = "4KiB GET c64: 2 workers / 1 worker"
    results[name] = summarize_cell(runs)
    print_cell(name, results[name])


def fill_versions(url: str, args: list, prefix: str) -> float:
    """Write a versions cell's versions once (kept for the repetitions); returns seconds."""
    t = time.perf_counter()
    r = bench(url, [*args, "--prefix", prefix, "--keep", "--count", "1"], 0, VERSION_BUCKET)
    if r["errors"]:
        raise RuntimeError(f"filling {prefix} at {url}: {r}")
    return time.perf_counter() - t


def version_cells(opts, tmp: str, s3ish_url: str) -> dict:
    """The version listings, s3ish alone: each cell's versions written once, then listed
    `reps` times."""
    results = {}
    cells = [(ONE_KEY, s3ish_url, None)]
    if not opts.skip_big:
        # Its own server: filled without fsync (500,000 PUTs); listings never sync.
        cells.append((MANY_KEYS, None, start_s3ish(2, tmp, extra=["--no-fsync"])))
    for (name, args), url, server in cells:
        url = url or server[1]
        try:
            fill = fill_versions(url, args, "v/")
            rs = [bench(url, [*args, "--prefix", "v/", "--prefilled", "--keep"],
                        opts.duration, VERSION_BUCKET) for _ in range(opts.reps)]
        finally:
            if server:
                stop(server[0])
        cell = summarize_cell({"s3ish": rs, "moto": rs})["s3ish"]
        cell["fill_s"] = fill
        cell["versions_per_full_listing"] = rs[0]["objects"] * rs[0]["versions"]
        results[name] = {"s3ish": cell, "moto": None}
        print(f"{name:36s} s3ish {cell['ops_per_s']:9.1f} pages/s (1000 versions each), "
              f"p99 {cell['p99_ms']:.1f} ms per page | moto not run | errors {cell['errors']} "
              f"| versions written in {fill:.0f} s", flush=True)
    return results


def compare_src(opts) -> None:
    """Small PUT/GET of this tree ("s3ish") against another source tree ("moto" slot),
    interleaved, one fresh unversioned folder each, 2 workers."""
    tmp = tempfile.mkdtemp(prefix="s3ish-src-", dir=os.environ.get("TMPDIR", "/tmp"))
    new, new_url = start_s3ish(2, tmp)
    old, old_url = start_s3ish(2, tmp, src=opts.compare_src)
    results = {}
    try:
        for name, args, _ in [c for c in CELLS if c[0] in ("4KiB PUT c16", "4KiB GET c16")]:
            runs = {"s3ish": [], "moto": []}
            for rep in range(opts.reps):
                order = [("s3ish", new_url), ("moto", old_url)]
                for target, url in order if rep % 2 == 0 else order[::-1]:
                    runs[target].append(bench(url, args, opts.duration))
            results[name] = summarize_cell(runs)
            results[name]["runs_ops_per_s"] = {t: [r["ops_per_s"] for r in rs]
                                               for t, rs in runs.items()}
            print_cell(f"{name} this tree / {opts.compare_src}", results[name])
            print(f"  runs: this tree {results[name]['runs_ops_per_s']['s3ish']}, other "
                  f"{results[name]['runs_ops_per_s']['moto']}", flush=True)
    finally:
        stop(new)
        stop(old)
        shutil.rmtree(tmp, ignore_errors=True)
    if opts.json:
        with open(opts.json, "w") as f:
            json.dump({"compare_src": opts.compare_src, "cells": results}, f, indent=2)


POLICY_USER = ("benchuser", "benchusersecret")


def twenty_statements(bucket: str, user_id: str) -> dict:
    """A realistic 20-statement bucket policy: one statement grants the bench user, the rest
    are other principals, prefixes and conditions that every request must still be checked
    against (one a Deny for requests from outside 127.0.0.0/8)."""
    arn = f"arn:aws:s3:::{bucket}"
    others = [{"Sid": f"Team{i}", "Effect": "Allow",
               "Principal": {"CanonicalUser": f"{i:064x}"},
               "Action": ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
               "Resource": f"{arn}/team{i}/*",
               "Condition": {"StringLike": {"aws:UserAgent": [f"*tool{i}*"]},
                             "IpAddress": {"aws:SourceIp": [f"10.{i}.0.0/16"]}}}
              for i in range(18)]
    return {"Version": "2012-10-17", "Statement": [
        *others,
        {"Sid": "OnlyLocal", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
         "Resource": [arn, f"{arn}/*"],
         "Condition": {"NotIpAddress": {"aws:SourceIp": ["127.0.0.0/8", "::1/128"]}}},
        {"Sid": "Bench", "Effect": "Allow", "Principal": {"CanonicalUser": user_id},
         "Action": ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:ListBucket"],
         "Resource": [arn, f"{arn}/*"],
         "Condition": {"IpAddress": {"aws:SourceIp": ["127.0.0.0/8"]}}}]}


def compare_policy(opts) -> None:
    """`--policy` alone: the policy cells, then the JSON."""
    tmp = tempfile.mkdtemp(prefix="s3ish-policy-", dir=os.environ.get("TMPDIR", "/tmp"))
    try:
        results = policy_cells(opts, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    if opts.json:
        with open(opts.json, "w") as f:
            json.dump({"policy": results}, f, indent=2)


def policy_cells(opts, tmp: str) -> dict:
    """4 KiB PUT/GET c16 by a second user: in a root-owned bucket whose 20-statement policy
    grants it ("s3ish" slot), and in its own bucket with no policy ("moto" slot)."""
    import boto3

    from s3ish.s3.auth.credentials import legacy_owner_id
    auth = os.path.join(tmp, "users.txt")
    with open(auth, "w") as f:
        f.write(":".join(POLICY_USER) + "\n")
    server, url = start_s3ish(2, tmp, extra=["--auth-file", auth])
    results = {}
    try:
        root = boto3.client("s3", endpoint_url=url, region_name="us-east-1",
                            aws_access_key_id=KEY, aws_secret_access_key=SECRET)
        root.create_bucket(Bucket="matrix-policy")
        root.put_bucket_policy(Bucket="matrix-policy", Policy=json.dumps(
            twenty_statements("matrix-policy", legacy_owner_id(POLICY_USER[0]))))
        for name, args, _ in [c for c in CELLS if c[0] in ("4KiB PUT c16", "4KiB GET c16")]:
            runs = {"s3ish": [], "moto": []}
            for rep in range(opts.reps):
                order = [("s3ish", "matrix-policy"), ("moto", "matrix-own")]
                for target, bucket in order if rep % 2 == 0 else order[::-1]:
                    runs[target].append(bench(url, [*args, "--keep"], opts.duration, bucket,
                                              POLICY_USER))
            label = f"{name} 20-statement policy / none"
            results[label] = summarize_cell(runs)
            print_cell(label, results[label])
    finally:
        stop(server)
    return results


DRIVE_CELLS = [c for c in CELLS if c[0] in ("4KiB PUT c16", "4KiB GET c64", "64MiB PUT c4",
                                               "64MiB GET c4")]


def compare_drives(opts) -> None:
    """The same cells on one folder and on four erasure-coded drives, interleaved; then the
    scrub throughput of the 4-drive server (a full verification via the admin API)."""
    tmp = tempfile.mkdtemp(prefix="s3ish-drives-", dir=os.environ.get("TMPDIR", "/tmp"))
    one, one_url = start_s3ish(2, tmp, drives=1)
    four, four_url = start_s3ish(2, tmp, drives=4)
    results = {}
    try:
        for name, args, _ in DRIVE_CELLS:
            runs = {"s3ish": [], "moto": []}   # here: "s3ish" = 4 drives, "moto" = 1 drive
            for rep in range(opts.reps):
                order = [("s3ish", four_url), ("moto", one_url)]
                for target, url in order if rep % 2 == 0 else order[::-1]:
                    runs[target].append(bench(url, args, opts.duration))
            results[name] = summarize_cell(runs)
            print_cell(f"{name} 4 drives / 1 drive", results[name])
        print(f"scrub: {scrub_speed(four_url):.0f} MB/s of shards verified", flush=True)
    finally:
        stop(one)
        stop(four)
        shutil.rmtree(tmp, ignore_errors=True)
    if opts.json:
        with open(opts.json, "w") as f:
            json.dump({"drives": results}, f, indent=2)


COMPRESSION_CELLS = [c for c in CELLS if c[0] in ("4KiB PUT c16", "4KiB GET c16",
                                                     "64MiB PUT c4", "64MiB GET c4")]


def compare_compression(opts) -> None:
    """The same cells, compressible bodies, on a server compressing them and on one not
    ("s3ish" slot: --compression on; "moto" slot: off), interleaved. 4 KiB bodies are kept
    inline and never compressed: those cells measure the cost of the decision alone."""
    tmp = tempfile.mkdtemp(prefix="s3ish-zstd-", dir=os.environ.get("TMPDIR", "/tmp"))
    on, on_url = start_s3ish(2, tmp, extra=["--compression", "on"])
    off, off_url = start_s3ish(2, tmp)
    results = {}
    try:
        for name, args, _ in COMPRESSION_CELLS:
            runs = {"s3ish": [], "moto": []}
            for rep in range(opts.reps):
                order = [("s3ish", on_url), ("moto", off_url)]
                for target, url in order if rep % 2 == 0 else order[::-1]:
                    runs[target].append(bench(url, [*args, "--payload", "text"],
                                              opts.duration))
            results[name] = summarize_cell(runs)
            print_cell(f"{name} compressed / plain", results[name])
        got = counters(on_url, ("s3ish_compression_input_bytes_total",
                                "s3ish_compression_stored_bytes_total"))
        stored, taken = got["s3ish_compression_stored_bytes_total"], \
            got["s3ish_compression_input_bytes_total"]
        results["stored_over_input"] = stored / max(taken, 1)
        print(f"compressed: {taken / 1e6:.0f} MB in, {stored / 1e6:.0f} MB stored "
              f"(ratio {results['stored_over_input']:.3f})", flush=True)
    finally:
        stop(on)
        stop(off)
        shutil.rmtree(tmp, ignore_errors=True)
    if opts.json:
        with open(opts.json, "w") as f:
            json.dump({"compression": results}, f, indent=2)


SSE_TARGETS = (("plain", "matrix-plain"), ("sse", "matrix-sse"), ("zstd", "matrix-zstd"),
               ("sse+zstd", "matrix-ssez"))


def compare_sse(opts) -> None:
    """The compression cells into four buckets of one server (a master key from the
    environment): plain, default encryption SSE-S3, compressed (the bucket's own setting), and
    SSE-S3 over compression. Bodies are compressible text for all four, so only the stored form
    differs. Each cell prints encrypted/plain, compressed/plain and both/plain."""
    import base64

    import boto3
    tmp = tempfile.mkdtemp(prefix="s3ish-sse-", dir=os.environ.get("TMPDIR", "/tmp"))
    master = base64.b64encode(os.urandom(32)).decode()
    server, url = start_s3ish(2, tmp, env_extra={"S3ISH_KMS_MASTER_KEY": master})
    results = {}
    try:
        s3 = boto3.client("s3", endpoint_url=url, region_name="us-east-1",
                          aws_access_key_id=KEY, aws_secret_access_key=SECRET)
        aes = {"Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]}
        for _, bucket in SSE_TARGETS:
            s3.create_bucket(Bucket=bucket)
            if bucket in ("matrix-sse", "matrix-ssez"):
                s3.put_bucket_encryption(Bucket=bucket,
                                         ServerSideEncryptionConfiguration=aes)
        admin_post(url, "/_admin/compression/matrix-ssez/on")
        admin_post(url, "/_admin/compression/matrix-zstd/on")
        for name, args, _ in COMPRESSION_CELLS:
            runs = {target: [] for target, _ in SSE_TARGETS}
            for rep in range(opts.reps):
                order = SSE_TARGETS if rep % 2 == 0 else SSE_TARGETS[::-1]
                for target, bucket in order:
                    runs[target].append(bench(url, [*args, "--payload", "text"],
                                              opts.duration, bucket))
            for target in ("sse", "zstd", "sse+zstd"):
                label = f"{name} {target} / plain"
                cell = summarize_cell({"s3ish": runs[target], "moto": runs["plain"]})
                results[label] = cell
                print_cell(label, cell)
    finally:
        stop(server)
        shutil.rmtree(tmp, ignore_errors=True)
    if opts.json:
        with open(opts.json, "w") as f:
            json.dump({"sse": results}, f, indent=2)


def admin_post(url: str, path: str) -> None:
    """A root-signed POST with no body to the admin API."""
    from urllib.parse import urlsplit

    from s3ish.util.sigv4_client import EMPTY_SHA256, Signer
    host = urlsplit(url).netloc
    amz_date, auth = Signer(KEY, SECRET, "us-east-1", host).sign("POST", path,
                                                                  payload_hash=EMPTY_SHA256)
    req = urllib.request.Request(url + path, method="POST", headers={
        "Host": host, "x-amz-date": amz_date, "x-amz-content-sha256": EMPTY_SHA256,
        "Authorization": auth})
    urllib.request.urlopen(req, timeout=60).read()


def counters(url: str, names) -> dict:
    """The sums of the named counters in the server's /_metrics (root-signed)."""
    from urllib.parse import urlsplit

    from s3ish.util.sigv4_client import EMPTY_SHA256, Signer
    host = urlsplit(url).netloc
    amz_date, auth = Signer(KEY, SECRET, "us-east-1", host).sign("GET", "/_metrics",
                                                                  payload_hash=EMPTY_SHA256)
    req = urllib.request.Request(url + "/_metrics", headers={
        "Host": host, "x-amz-date": amz_date, "x-amz-content-sha256": EMPTY_SHA256,
        "Authorization": auth})
    text = urllib.request.urlopen(req, timeout=60).read().decode()
    out = dict.fromkeys(names, 0.0)
    for line in text.splitlines():
        name = line.split("{")[0].split(" ")[0]
        if name in out:
            out[name] += float(line.split()[-1])
    return out


def scrub_speed(url: str) -> float:
    bench(url, ["put", "--size", "64MiB", "-c", "4", "--keep"], 5)
    from urllib.parse import urlsplit

    from s3ish.util.sigv4_client import EMPTY_SHA256, Signer
    host = urlsplit(url).netloc
    amz_date, auth = Signer(KEY, SECRET, "us-east-1", host).sign("POST", "/_admin/scrub",
                                                                  payload_hash=EMPTY_SHA256)
    req = urllib.request.Request(url + "/_admin/scrub", method="POST", data=b"", headers={
        "Host": host, "x-amz-date": amz_date, "x-amz-content-sha256": EMPTY_SHA256,
        "Authorization": auth})
    t = time.perf_counter()
    doc = json.loads(urllib.request.urlopen(req, timeout=3600).read())
    return doc["scrub"]["bytes"] / 1e6 / (time.perf_counter() - t)


def summarize_cell(runs: dict) -> dict:
    out = {}
    for target, rs in runs.items():
        out[target] = {"ops_per_s": statistics.median(r["ops_per_s"] for r in rs),
                       "mb_per_s": statistics.median(r["mb_per_s"] for r in rs),
                       "p99_ms": statistics.median(r["latency_ms"]["p99"] for r in rs),
                       "errors": sum(r["errors"] for r in rs), "runs": len(rs),
                       "client_cpu_percent": max(r["client_cpu_percent"] for r in rs)}
    out["ratio"] = out["s3ish"]["ops_per_s"] / max(out["moto"]["ops_per_s"], 1e-9)
    return out


def print_cell(name: str, cell: dict, labels: tuple[str, str] = ("s3ish", "moto")) -> None:
    """`labels`: what the two sides are (a comparison of s3ish with itself names its own)."""
    a, b = cell["s3ish"], cell["moto"]
    print(f"{name:36s} {labels[0]} {a['ops_per_s']:9.1f} ops/s {a['mb_per_s']:8.1f} MB/s | "
          f"{labels[1]} {b['ops_per_s']:8.1f} ops/s {b['mb_per_s']:8.1f} MB/s | ratio "
          f"{cell['ratio']:6.1f}x | errors {a['errors']}/{b['errors']} | client CPU max "
          f"{max(a['client_cpu_percent'], b['client_cpu_percent']):.0f}%", flush=True)


if __name__ == "__main__":
    main()
