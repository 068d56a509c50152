"""`s3ish bench` against the real server: every workload runs briefly, without a single error.

Only correctness is checked here (zero errors, operations counted, clean-up done); speed is
measured by running the benchmark, never by a timed test.
"""
import json
import os
import subprocess
import sys

import pytest

from tests.support import ROOT_PASSWORD, ROOT_USER, unique_bucket

WORKLOADS = {
    "put": ["--count", "40"],
    "get": ["--objects", "20", "--duration", "1"],
    "mixed": ["--objects", "20", "--duration", "1", "--mix", "50:30:20"],
    "list": ["--objects", "250", "--max-keys", "100", "--count", "9"],
    "multipart": ["--size", "6MiB", "--part-size", "5MiB", "--count", "2"],
    "delete": ["--objects", "30"],
    "versions": ["--objects", "20", "--versions", "3", "--max-keys", "25", "--count", "9"],
}
OPERATIONS = {"put": {"PUT"}, "get": {"GET"}, "mixed": {"GET", "PUT", "DELETE"},
              "list": {"LIST"}, "delete": {"DELETE"}, "versions": {"LIST-VERSIONS"},
              "multipart": {"CreateMultipartUpload", "UploadPart", "CompleteMultipartUpload",
                            "object"}}


def bench(server, tmp_path, workload, bucket, *args, env=None):
    out = tmp_path / f"{workload}.json"
    cmd = [sys.executable, "-m", "s3ish", "bench", workload, "--endpoint", server.endpoint,
           "--bucket", bucket, "--size", "4KiB", "--concurrency", "4", "--no-progress",
           "--json", str(out), *args]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=60,
                          env={**os.environ, **(env or {})})
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return json.loads(out.read_text()), proc.stdout


@pytest.mark.parametrize("workload", WORKLOADS)
def test_workload_runs_without_errors(server, s3, tmp_path, workload):
    bucket = unique_bucket("bench")
    result, table = bench(server, tmp_path, workload, bucket, *WORKLOADS[workload],
                          "--access-key", ROOT_USER, "--secret-key", ROOT_PASSWORD)
    assert result["errors"] == 0, result
    assert result["ops"] > 0
    assert set(result["operations"]) == OPERATIONS[workload]
    for name, op in result["operations"].items():
        assert op["errors"] == 0 and op["ops"] > 0, (name, op)
        assert op["latency_ms"]["p50"] <= op["latency_ms"]["p99"] <= op["latency_ms"]["max"]
    assert "client CPU:" in table and "ops/s" in table
    # The bucket did not exist: bench created it, and removed it (and its objects) afterwards.
    assert bucket not in {b["Name"] for b in s3.list_buckets()["Buckets"]}


def test_counts_and_sizes(server, tmp_path):
    result, _ = bench(server, tmp_path, "put", unique_bucket("bench"), "--count", "25",
                      "--size", "10KiB", env={"AWS_ACCESS_KEY_ID": ROOT_USER,
                                              "AWS_SECRET_ACCESS_KEY": ROOT_PASSWORD})
    put = result["operations"]["PUT"]
    assert (put["ops"], put["bytes"], result["size"]) == (25, 25 * 10240, 10240)


def test_existing_bucket_is_kept_and_only_the_run_prefix_removed(server, s3, bucket, tmp_path):
    s3.put_object(Bucket=bucket, Key="keep-me", Body=b"x")
    result, _ = bench(server, tmp_path, "get", bucket, "--objects", "5", "--count", "20",
                      "--access-key", ROOT_USER, "--secret-key", ROOT_PASSWORD)
    assert result["errors"] == 0 and result["operations"]["GET"]["ops"] == 20
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])]
    assert keys == ["keep-me"]


def test_prefilled_versions_are_listed_again_then_removed(server, s3, bucket, tmp_path):
    """--keep then --prefilled: the second run lists what the first wrote (its full listings
    check the count), then removes every version for good."""
    args = ["--objects", "1", "--versions", "40", "--max-keys", "15", "--prefix", "vp/",
            "--size", "0", "--access-key", ROOT_USER, "--secret-key", ROOT_PASSWORD]
    first, _ = bench(server, tmp_path, "versions", bucket, *args, "--count", "3", "--keep")
    assert len(s3.list_object_versions(Bucket=bucket)["Versions"]) == 40
    again, _ = bench(server, tmp_path, "versions", bucket, *args, "--count", "6", "--prefilled")
    assert first["errors"] == again["errors"] == 0 and again["ops"] == 6
    listed = s3.list_object_versions(Bucket=bucket)
    assert not listed.get("Versions") and not listed.get("DeleteMarkers")


def test_errors_are_counted_and_reported(server, tmp_path):
    out = tmp_path / "bad.json"
    proc = subprocess.run(
        [sys.executable, "-m", "s3ish", "bench", "put", "--endpoint", server.endpoint,
         "--bucket", unique_bucket("bench"), "--access-key", ROOT_USER, "--secret-key",
         "wrong-secret", "--count", "3", "--no-progress", "--json", str(out)],
        capture_output=True, text=True, timeout=60)
    # Creating the bucket already fails: bench stops with the S3 error and no result.
    assert proc.returncode != 0
    assert "403" in proc.stderr and "SignatureDoesNotMatch" in proc.stderr
