"""rclone against the real server, run as a user runs it: a subprocess with its own config file
(`--config`) holding an S3 remote (provider Other, static keys, path style, us-east-1).
Multipart is exercised by lowering upload_cutoff / chunk_size in the remote's config.
"""
import json
import os
import time

import pytest

from tests.compat.conftest import MiB, clean_env, make_file, md5_file, md5_tree, run, tool
from tests.support import ROOT_PASSWORD, ROOT_USER, unique_bucket

REMOTE = "s3ish"


@pytest.fixture(scope="session")
def rclone(server, tmp_path_factory):
    """rclone(*args, check=True) -> CompletedProcess against remote `s3ish:`."""
    exe = tool("rclone")
    home = tmp_path_factory.mktemp("rclonehome")
    cfg = home / "rclone.conf"
    cfg.write_text(
        f"[{REMOTE}]\n"
        "type = s3\n"
        "provider = Other\n"
        "env_auth = false\n"
        f"access_key_id = {ROOT_USER}\n"
        f"secret_access_key = {ROOT_PASSWORD}\n"
        f"endpoint = {server.endpoint}\n"
        "region = us-east-1\n"
        "force_path_style = true\n"
        "upload_cutoff = 10Mi\n"
        "chunk_size = 5Mi\n"
        "upload_concurrency = 4\n")
    env = clean_env(home)

    def call(*args, check=True, timeout=300, input=None):
        return run([exe, "--config", str(cfg), "--retries", "1", "--low-level-retries", "1",
                    "--cache-dir", str(home / "cache"), *args],
                   env, server=server, check=check, timeout=timeout, input=input)
    return call


FILES = {"empty.bin": 0, "one.bin": 1, "small.txt": 1000, "sub/medium.bin": 3 * MiB,
         "sub/deeper/big.bin": 30 * MiB, "space dir/ünïcødé ファイル.txt": 4321}


@pytest.fixture(scope="module")
def src_tree(tmp_path_factory):
    root = tmp_path_factory.mktemp("rclone-src")
    for rel, size in FILES.items():
        make_file(root / rel, size)
    return root


def test_copy_check_lsjson_roundtrip(rclone, s3, src_tree, tmp_path):
    name = unique_bucket("rclone")
    rclone("mkdir", f"{REMOTE}:{name}")
    s3.head_bucket(Bucket=name)

    rclone("copy", str(src_tree), f"{REMOTE}:{name}/data")
    keys = sorted(o["Key"] for o in s3.list_objects_v2(Bucket=name)["Contents"])
    assert keys == sorted(f"data/{k}" for k in FILES)
    big = s3.head_object(Bucket=name, Key="data/sub/deeper/big.bin")
    assert big["ContentLength"] == 30 * MiB
    assert big["ETag"].strip('"').endswith("-6")  # 30 MiB in 5 MiB chunks: multipart
    assert big["Metadata"]["md5chksum"]          # rclone keeps the md5 in metadata

    # `rclone check` compares sizes and md5s (from ETag, or the md5chksum metadata).
    p = rclone("check", str(src_tree), f"{REMOTE}:{name}/data")
    assert b"0 differences found" in p.stderr
    # Reading the data back too (--download) must also agree.
    rclone("check", "--download", str(src_tree), f"{REMOTE}:{name}/data")

    entries = json.loads(rclone("lsjson", "-R", "--hash", "--files-only",
                                f"{REMOTE}:{name}/data").stdout)
    by_path = {e["Path"]: e for e in entries}
    assert set(by_path) == set(FILES)
    for rel, size in FILES.items():
        assert by_path[rel]["Size"] == size
        assert by_path[rel]["Hashes"]["md5"] == md5_file(src_tree / rel)

    # Directory listing (delimiter) at one level.
    top = json.loads(rclone("lsjson", f"{REMOTE}:{name}/data").stdout)
    assert sorted((e["Path"], e["IsDir"]) for e in top) == sorted(
        [("empty.bin", False), ("one.bin", False), ("small.txt", False), ("sub", True),
         ("space dir", True)])

    # A second copy of the unchanged tree transfers nothing.
    p = rclone("copy", "-v", str(src_tree), f"{REMOTE}:{name}/data")
    assert b"Copied (new)" not in p.stderr and b"Copied (replaced" not in p.stderr

    down = tmp_path / "down"
    rclone("copy", f"{REMOTE}:{name}/data", str(down))
    assert md5_tree(down) == md5_tree(src_tree)
    p = rclone("copy", "-v", f"{REMOTE}:{name}/data", str(down))
    assert b"Copied" not in p.stderr

    # delete removes files (matching a filter) but leaves the bucket.
    rclone("delete", "--include", "*.bin", f"{REMOTE}:{name}/data")
    left = sorted(o["Key"] for o in s3.list_objects_v2(Bucket=name)["Contents"])
    assert left == sorted(f"data/{k}" for k in FILES if not k.endswith(".bin"))

    # purge removes everything under the path, and the bucket itself when given the root.
    rclone("purge", f"{REMOTE}:{name}")
    assert name not in [b["Name"] for b in s3.list_buckets()["Buckets"]]


def test_list_v2_and_rmdir(rclone, s3, tmp_path):
    """ListObjectsV2 explicitly (rclone's --s3-list-version 2), and rmdir of an empty bucket."""
    name = unique_bucket("rclone")
    rclone("mkdir", f"{REMOTE}:{name}")
    for i in range(5):
        make_file(tmp_path / "d" / f"f{i}.txt", i * 10)
    rclone("copy", str(tmp_path / "d"), f"{REMOTE}:{name}/x y/ü")
    listed = json.loads(rclone("lsjson", "-R", "--files-only", "--s3-list-version", "2",
                               "--s3-list-chunk", "2", f"{REMOTE}:{name}").stdout)
    assert sorted(e["Path"] for e in listed) == [f"x y/ü/f{i}.txt" for i in range(5)]
    rclone("check", "--s3-list-version", "2", str(tmp_path / "d"), f"{REMOTE}:{name}/x y/ü")
    rclone("delete", f"{REMOTE}:{name}")
    rclone("rmdir", f"{REMOTE}:{name}")
    assert name not in [b["Name"] for b in s3.list_buckets()["Buckets"]]


def test_rcat_and_cat_ranges(rclone, s3, tmp_path):
    """rcat streams stdin (multipart once past the streaming cutoff); cat reads ranges back."""
    name = unique_bucket("rclone")
    rclone("mkdir", f"{REMOTE}:{name}")
    data = os.urandom(12 * MiB + 123)
    rclone("rcat", "--streaming-upload-cutoff", "1Mi", f"{REMOTE}:{name}/streamed.bin",
           input=data)
    rclone("rcat", f"{REMOTE}:{name}/small.txt", input=b"hello rclone\n")
    head = s3.head_object(Bucket=name, Key="streamed.bin")
    assert head["ContentLength"] == len(data)
    assert "-" in head["ETag"]  # streamed in 5 MiB chunks -> multipart
    assert rclone("cat", f"{REMOTE}:{name}/streamed.bin").stdout == data
    assert rclone("cat", f"{REMOTE}:{name}/small.txt").stdout == b"hello rclone\n"
    part = rclone("cat", "--offset", str(5 * MiB - 10), "--count", "1000",
                  f"{REMOTE}:{name}/streamed.bin").stdout
    assert part == data[5 * MiB - 10:5 * MiB + 990]
    tail = rclone("cat", "--tail", "50", f"{REMOTE}:{name}/streamed.bin").stdout
    assert tail == data[-50:]
    rclone("purge", f"{REMOTE}:{name}")
    assert name not in [b["Name"] for b in s3.list_buckets()["Buckets"]]


def test_touched_file_recopy_updates_modtime_server_side(rclone, s3, tmp_path):
    """A source file whose mtime changed but whose content did not: rclone sees equal md5s
    and updates only the remote modtime, with an in-place server-side CopyObject
    (x-amz-metadata-directive: REPLACE). This used to need --no-update-modtime."""
    name = unique_bucket("rclone")
    rclone("mkdir", f"{REMOTE}:{name}")
    src = tmp_path / "src"
    make_file(src / "f.bin", 1000)
    make_file(src / "big.bin", 12 * MiB)  # multipart-uploaded (upload_cutoff = 10Mi)
    rclone("copy", str(src), f"{REMOTE}:{name}")
    past = int(time.time()) - 5000
    for f in ("f.bin", "big.bin"):
        os.utime(src / f, (past, past))
    p = rclone("copy", "-v", str(src), f"{REMOTE}:{name}")
    assert b"Copied" not in p.stderr
    assert p.stderr.count(b"Updated modification time in destination") == 2
    for k in ("f.bin", "big.bin"):
        head = s3.head_object(Bucket=name, Key=k)
        assert int(float(head["Metadata"]["mtime"])) == past
        # An in-place CopyObject rewrites the object as a single part: like AWS, its ETag is
        # then the plain md5 of the bytes (the multipart one loses its "-N" suffix).
        assert head["ETag"].strip('"') == md5_file(src / k)
    listed = {e["Path"]: e for e in json.loads(rclone("lsjson", f"{REMOTE}:{name}").stdout)}
    for k in ("f.bin", "big.bin"):
        assert listed[k]["ModTime"].startswith(
            time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(past)))
    rclone("check", "--download", str(src), f"{REMOTE}:{name}")
    # Now nothing differs: a third run does nothing at all.
    p = rclone("copy", "-v", str(src), f"{REMOTE}:{name}")
    assert b"Copied" not in p.stderr and b"Updated modification time" not in p.stderr
    # Content changed with the same size: re-uploaded.
    make_file(src / "f.bin", 1000)
    p = rclone("copy", "-v", str(src), f"{REMOTE}:{name}")
    assert b"Copied (replaced existing)" in p.stderr
    rclone("check", str(src), f"{REMOTE}:{name}")
    rclone("purge", f"{REMOTE}:{name}")
