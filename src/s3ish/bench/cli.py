"""The `s3ish bench` subcommand: options, then one run, a table on stdout and optional JSON.

    s3ish bench get --endpoint http://127.0.0.1:9000 --bucket b --size 4KiB \\
        --concurrency 64 --duration 10 --json get.json

Credentials come from --access-key/--secret-key or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY.
"""
import argparse
import json
import os
import re
import sys

_UNITS = {"": 1, "b": 1, "k": 1 << 10, "kib": 1 << 10, "kb": 1000, "m": 1 << 20,
          "mib": 1 << 20, "mb": 1000 ** 2, "g": 1 << 30, "gib": 1 << 30, "gb": 1000 ** 3,
          "t": 1 << 40, "tib": 1 << 40, "tb": 1000 ** 4}
WORKLOAD_NAMES = ("put", "get", "mixed", "list", "multipart", "delete", "versions")


def parse_size(value: str) -> int:
    """'4096', '4KiB', '4k', '1MiB', '64MiB', '1.5GiB', '10MB' (decimal) -> bytes."""
    m = re.fullmatch(r"\s*([0-9]*\.?[0-9]+)\s*([a-zA-Z]*)\s*", value)
    if not m or m.group(2).lower() not in _UNITS:
        raise argparse.ArgumentTypeError(f"bad size {value!r} (examples: 4096, 4KiB, 64MiB)")
    return int(float(m.group(1)) * _UNITS[m.group(2).lower()])


def parse_mix(value: str) -> tuple[float, float, float]:
    """'60:30:10' or 'get=60,put=30,delete=10' -> (get, put, delete) weights."""
    try:
        if "=" in value:
            d = {k.strip().lower(): float(v) for k, v in
                 (item.split("=") for item in value.split(","))}
            if set(d) - {"get", "put", "delete"}:
                raise ValueError
            mix = (d.get("get", 0.0), d.get("put", 0.0), d.get("delete", 0.0))
        else:
            mix = tuple(float(x) for x in value.split(":"))
        if len(mix) != 3 or min(mix) < 0 or sum(mix) <= 0:
            raise ValueError
    except ValueError:
        raise argparse.ArgumentTypeError("expected GET:PUT:DELETE weights like 60:30:10 or "
                                         "get=60,put=30,delete=10") from None
    return mix


def _positive_int(value: str) -> int:
    n = int(value)
    if n <= 0:
        raise argparse.ArgumentTypeError("must be a positive integer")
    return n


def add_bench_parser(sub) -> argparse.ArgumentParser:
    b = sub.add_parser("bench", help="load-test any S3 endpoint",
                       description="Load generator for any S3 endpoint (path-style). Prints a "
                       "table of ops/s, MB/s (10^6 bytes/s) and latency percentiles per "
                       "operation, and the client's own CPU use.")
    b.add_argument("workload", choices=WORKLOAD_NAMES)
    b.add_argument("--endpoint", default=os.environ.get("AWS_ENDPOINT_URL",
                                                        "http://127.0.0.1:9000"),
                   help="endpoint URL (default $AWS_ENDPOINT_URL or http://127.0.0.1:9000)")
    b.add_argument("--access-key", default=None, help="default $AWS_ACCESS_KEY_ID")
    b.add_argument("--secret-key", default=None, help="default $AWS_SECRET_ACCESS_KEY")
    b.add_argument("--region", default=os.environ.get("AWS_REGION") or
                   os.environ.get("AWS_DEFAULT_REGION") or "us-east-1")
    b.add_argument("--bucket", default="s3ish-bench",
                   help="bucket to use; created (and removed afterwards) if missing")
    b.add_argument("--size", type=parse_size, default=parse_size("4KiB"),
                   help="object size (4KiB, 1MiB, 64MiB...; default 4KiB)")
    b.add_argument("--part-size", type=parse_size, default=parse_size("5MiB"),
                   help="multipart part size (default 5MiB)")
    b.add_argument("--concurrency", "-c", type=_positive_int, default=16,
                   help="concurrent workers, one keep-alive connection each (default 16)")
    b.add_argument("--duration", "-d", type=float, default=None,
                   help="seconds to run (default 10 unless --count is given)")
    b.add_argument("--count", "-n", type=_positive_int, default=None,
                   help="stop after this many operations (multipart: objects)")
    b.add_argument("--objects", type=_positive_int, default=None,
                   help="objects to pre-populate for get/mixed/list/delete/versions (list: "
                   "10000; versions: keys)")
    b.add_argument("--mix", type=parse_mix, default=(60.0, 30.0, 10.0),
                   help="mixed workload GET:PUT:DELETE weights (default 60:30:10)")
    b.add_argument("--max-keys", type=_positive_int, default=1000,
                   help="list workload page size (default 1000)")
    b.add_argument("--versions", type=_positive_int, default=5,
                   help="versions workload: versions per key (default 5)")
    b.add_argument("--fill-concurrency", type=_positive_int, default=32,
                   help="versions workload: connections writing the versions beforehand "
                   "(default 32; 1 for servers that lose concurrent writes to one key)")
    b.add_argument("--prefilled", action="store_true",
                   help="the objects (versions) are already under --prefix, from an earlier "
                   "run of the same workload and counts with --keep: do not write them again")
    b.add_argument("--prefix", default=None,
                   help="key prefix for this run (default a random bench-XXXXXXXX/)")
    b.add_argument("--payload", choices=["random", "text"], default="random",
                   help="the bodies sent: random bytes (default) or compressible text "
                   "(log-like lines, ~4x with zstd)")
    b.add_argument("--json", metavar="FILE", help="also write the result as JSON ('-': stdout)")
    b.add_argument("--no-progress", action="store_true", help="no progress line on stderr")
    b.add_argument("--keep", action="store_true",
                   help="keep the objects written (default: delete them afterwards)")
    b.add_argument("--timeout", type=float, default=60.0,
                   help="seconds before a request counts as failed (default 60)")
    b.add_argument("--insecure", action="store_true", help="do not verify TLS certificates")
    b.add_argument("--no-uvloop", action="store_true", help="use the default asyncio loop")
    b.add_argument("--grpc", metavar="HOST:PORT", default=None,
                   help="put/get over s3ish's gRPC interface at HOST:PORT instead of S3 "
                   "(--endpoint is then unused)")
    return b


def run_bench(args) -> int:
    from .runner import BenchConfig, run_sync
    from .stats import table
    access = args.access_key or os.environ.get("AWS_ACCESS_KEY_ID")
    secret = args.secret_key or os.environ.get("AWS_SECRET_ACCESS_KEY")
    if not (access and secret):
        raise SystemExit("s3ish bench: no credentials: pass --access-key/--secret-key or set "
                         "AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY")
    if args.prefilled and not args.prefix:
        raise SystemExit("s3ish bench: --prefilled needs the --prefix of the run that wrote "
                         "the objects")
    cfg = BenchConfig(workload=args.workload, endpoint=args.endpoint, access_key=access,
                      secret_key=secret, region=args.region, bucket=args.bucket,
                      size=args.size, part_size=args.part_size, concurrency=args.concurrency,
                      duration=args.duration, count=args.count, objects=args.objects,
                      mix=args.mix, max_keys=args.max_keys, prefix=args.prefix,
                      versions=args.versions, prefilled=args.prefilled,
                      fill_concurrency=args.fill_concurrency,
                      progress=not args.no_progress, cleanup=not args.keep,
                      timeout=args.timeout, verify_tls=not args.insecure,
                      payload=args.payload)
    try:
        if args.grpc:
            from .grpc_run import run_grpc_sync
            result = run_grpc_sync(cfg, args.grpc, use_uvloop=not args.no_uvloop)
        else:
            result = run_sync(cfg, use_uvloop=not args.no_uvloop)
    except (RuntimeError, ValueError) as e:
        raise SystemExit(f"s3ish bench: {e}") from None
    except KeyboardInterrupt:
        raise SystemExit("s3ish bench: interrupted") from None
    out = sys.stdout if args.json != "-" else sys.stderr
    print(table(result), file=out, flush=True)
    if args.json == "-":
        json.dump(result, sys.stdout, indent=2)
        print()
    elif args.json:
        with open(args.json, "w") as f:
            json.dump(result, f, indent=2)
            f.write("\n")
    return 1 if result["errors"] else 0
