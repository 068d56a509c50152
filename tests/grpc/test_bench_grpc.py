"""`s3ish bench put|get --grpc`: the gRPC cells of the benchmark run and report like the HTTP
ones (a short count-bounded run, not a measurement)."""
import json
import os
import subprocess
import sys

from tests.support import ROOT_PASSWORD, ROOT_USER, unique_bucket


def test_bench_grpc_put_and_get(grpc_server):
    env = {**os.environ, "AWS_ACCESS_KEY_ID": ROOT_USER, "AWS_SECRET_ACCESS_KEY": ROOT_PASSWORD}
    bucket = unique_bucket("bench")
    for workload in ("put", "get"):
        out = subprocess.run([sys.executable, "-m", "s3ish", "bench", workload, "--grpc",
                              grpc_server.grpc_target, "--size", "300KiB", "-c", "2",
                              "--count", "6", "--objects", "3", "--bucket", bucket,
                              "--no-progress", "--json", "-"],
                             env=env, capture_output=True, text=True, timeout=120)
        assert out.returncode == 0, out.stderr
        result = json.loads(out.stdout[out.stdout.index("{"):])
        assert result["ops"] == 6 and result["errors"] == 0, result
        assert result["endpoint"] == "grpc://" + grpc_server.grpc_target
    # The run cleaned up after itself: the bucket it made is gone.
    assert bucket not in [b["Name"] for b in grpc_server.client().list_buckets()["Buckets"]]
