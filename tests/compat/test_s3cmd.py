"""s3cmd against the real server, run as a user runs it: a subprocess with its own config file
(`-c`), path-style (host_bucket without %(bucket)s), plain HTTP, SigV4.
"""
import os
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.compat.conftest import MiB, clean_env, make_file, md5_file, md5_tree, run, tool
from tests.support import ROOT_PASSWORD, ROOT_USER, unique_bucket


def _runner(server, home, signature_v2=False, extra_config=""):
    exe = tool("s3cmd")
    cfg = home / "s3cfg"
    hostport = server.endpoint.split("://", 1)[1]
    cfg.write_text(
        "[default]\n"
        f"access_key = {ROOT_USER}\n"
        f"secret_key = {ROOT_PASSWORD}\n"
        f"host_base = {hostport}\n"
        f"host_bucket = {hostport}\n"
        "bucket_location = us-east-1\n"
        "use_https = False\n"
        f"signature_v2 = {signature_v2}\n"
        "check_ssl_certificate = False\n"
        "proxy_host =\n"
        "proxy_port = 0\n"
        "progress_meter = False\n"
        "socket_timeout = 120\n"
        "max_retries = 1\n" + extra_config)
    env = clean_env(home)

    def call(*args, check=True, timeout=300):
        return run([exe, "-c", str(cfg), *args], env, server=server, check=check,
                   timeout=timeout)
    return call


@pytest.fixture(scope="session")
def s3cmd(server, tmp_path_factory):
    """s3cmd(*args, check=True) -> CompletedProcess, with a SigV4 config file for the session."""
    return _runner(server, tmp_path_factory.mktemp("s3cmdhome"))


def out(p) -> str:
    return p.stdout.decode("utf-8")


def ls_keys(s3cmd, uri, *flags) -> list[str]:
    """Object URIs (and DIR entries) from `s3cmd ls`."""
    lines = out(s3cmd("ls", *flags, uri)).splitlines()
    return [line.split("s3://", 1)[1] for line in lines if "s3://" in line]


@pytest.fixture
def cmd_bucket(s3cmd, s3):
    """A bucket made and removed with s3cmd itself (mb / rb)."""
    name = unique_bucket("s3cmd")
    p = s3cmd("mb", f"s3://{name}")
    assert f"Bucket 's3://{name}/' created" in out(p)
    s3.head_bucket(Bucket=name)
    yield name
    s3cmd("del", "--recursive", "--force", f"s3://{name}", check=False)
    s3cmd("rb", f"s3://{name}")
    assert name not in [b["Name"] for b in s3.list_buckets()["Buckets"]]


def test_mb_ls_rb(s3cmd, s3):
    name = unique_bucket("s3cmd")
    s3cmd("mb", f"s3://{name}")
    assert f"s3://{name}" in out(s3cmd("ls")).split()
    s3cmd("rb", f"s3://{name}")
    assert f"s3://{name}" not in out(s3cmd("ls")).split()


def test_put_get_small(s3cmd, s3, cmd_bucket, tmp_path):
    srcs = {"empty.bin": 0, "one.bin": 1, "small.txt": 4096, "dir/ünï ファイル.txt": 77,
            "dir/100% sure+plus=&.txt": 5}
    for i, (key, size) in enumerate(srcs.items()):
        src = make_file(tmp_path / f"src{i}", size)
        s3cmd("put", src, f"s3://{cmd_bucket}/{key}")
        head = s3.head_object(Bucket=cmd_bucket, Key=key)
        assert head["ContentLength"] == size
        assert head["ETag"].strip('"') == md5_file(src)
        dst = tmp_path / f"dst{i}"
        s3cmd("get", f"s3://{cmd_bucket}/{key}", str(dst))
        assert md5_file(dst) == md5_file(src)

    assert sorted(ls_keys(s3cmd, f"s3://{cmd_bucket}", "--recursive")) == sorted(
        f"{cmd_bucket}/{k}" for k in srcs)
    top = ls_keys(s3cmd, f"s3://{cmd_bucket}")
    assert f"{cmd_bucket}/dir/" in top and f"{cmd_bucket}/small.txt" in top

    s3cmd("del", f"s3://{cmd_bucket}/small.txt")
    assert "small.txt" not in [o["Key"] for o in
                               s3.list_objects_v2(Bucket=cmd_bucket).get("Contents", [])]


def test_put_get_multipart(s3cmd, s3, cmd_bucket, tmp_path):
    src = make_file(tmp_path / "big.bin", 20 * MiB)
    s3cmd("put", "--multipart-chunk-size-mb=5", src, f"s3://{cmd_bucket}/big/20MiB.bin")
    head = s3.head_object(Bucket=cmd_bucket, Key="big/20MiB.bin")
    assert head["ContentLength"] == 20 * MiB
    assert head["ETag"].strip('"').endswith("-4")
    dst = tmp_path / "back.bin"
    s3cmd("get", f"s3://{cmd_bucket}/big/20MiB.bin", str(dst))
    assert md5_file(dst) == md5_file(src)
    # s3cmd stores the file's md5 in x-amz-meta-s3cmd-attrs for multipart uploads.
    assert "md5:" + md5_file(src) in head["Metadata"].get("s3cmd-attrs", "")
    s3cmd("del", f"s3://{cmd_bucket}/big/20MiB.bin")
    assert s3.list_objects_v2(Bucket=cmd_bucket)["KeyCount"] == 0


def test_sync_roundtrip(s3cmd, s3, cmd_bucket, tmp_path):
    up = tmp_path / "up"
    files = {"empty": 0, "a.txt": 10, "nested/b.bin": 300_000, "nested/deep/c.bin": 6 * MiB,
             "space dir/ünï ファイル.txt": 55}
    for rel, size in files.items():
        make_file(up / rel, size)
    s3cmd("sync", "--multipart-chunk-size-mb=5", f"{up}/", f"s3://{cmd_bucket}/tree/")
    keys = sorted(o["Key"] for o in s3.list_objects_v2(Bucket=cmd_bucket)["Contents"])
    assert keys == sorted(f"tree/{k}" for k in files)

    # Nothing changed: a second sync uploads nothing.
    again = out(s3cmd("sync", f"{up}/", f"s3://{cmd_bucket}/tree/"))
    assert "upload:" not in again

    down = tmp_path / "down"
    down.mkdir()
    s3cmd("sync", f"s3://{cmd_bucket}/tree/", f"{down}/")
    assert md5_tree(down) == md5_tree(up)
    assert "download:" not in out(s3cmd("sync", f"s3://{cmd_bucket}/tree/", f"{down}/"))

    # Modify, add, remove; sync --delete-removed mirrors exactly.
    make_file(up / "a.txt", 20)
    make_file(up / "added.txt", 5)
    os.remove(up / "empty")
    s3cmd("sync", "--delete-removed", f"{up}/", f"s3://{cmd_bucket}/tree/")
    down2 = tmp_path / "down2"
    down2.mkdir()
    s3cmd("sync", f"s3://{cmd_bucket}/tree/", f"{down2}/")
    assert md5_tree(down2) == md5_tree(up)


def test_del_recursive_and_rb_nonempty(s3cmd, s3, tmp_path):
    name = unique_bucket("s3cmd")
    s3cmd("mb", f"s3://{name}")
    src = make_file(tmp_path / "f", 100)
    for key in ["x/1", "x/2", "y"]:
        s3cmd("put", src, f"s3://{name}/{key}")
    p = s3cmd("rb", f"s3://{name}", check=False)
    assert p.returncode != 0
    assert b"BucketNotEmpty" in p.stderr + p.stdout
    s3cmd("del", "--recursive", "--force", f"s3://{name}/x/")
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=name)["Contents"]] == ["y"]
    s3cmd("rb", "--recursive", "--force", f"s3://{name}")
    assert name not in [b["Name"] for b in s3.list_buckets()["Buckets"]]


def test_signature_v2(server, s3, tmp_path, tmp_path_factory):
    """s3cmd with signature_v2 = True (still common in old configs): header-signed SigV2."""
    v2 = _runner(server, tmp_path_factory.mktemp("s3cmdhome-v2"), signature_v2=True)
    name = unique_bucket("s3cmd")
    v2("mb", f"s3://{name}")
    try:
        src = make_file(tmp_path / "f", 12345)
        v2("put", src, f"s3://{name}/dir/ünï v2.bin")
        src2 = make_file(tmp_path / "g", 20 * MiB)
        v2("put", "--multipart-chunk-size-mb=5", src2, f"s3://{name}/mp.bin")
        head = s3.head_object(Bucket=name, Key="mp.bin")
        assert head["ContentLength"] == 20 * MiB
        assert head["ETag"].strip('"').endswith("-4")  # 4 parts of 5 MiB, each SigV2-signed
        assert sorted(ls_keys(v2, f"s3://{name}", "--recursive")) == [
            f"{name}/dir/ünï v2.bin", f"{name}/mp.bin"]
        for key, orig in (("dir/ünï v2.bin", src), ("mp.bin", src2)):
            dst = tmp_path / "back"
            v2("get", "--force", f"s3://{name}/{key}", str(dst))
            assert md5_file(dst) == md5_file(orig)
        v2("del", "--recursive", "--force", f"s3://{name}")
    finally:
        v2("rb", "--recursive", "--force", f"s3://{name}", check=False)
    assert name not in [b["Name"] for b in s3.list_buckets()["Buckets"]]


def test_many_objects_ls_du_del(s3cmd, s3, cmd_bucket):
    """More than one 1000-key page: s3cmd follows list pagination and deletes in batches."""
    keys = [f"k/{i:05d}" for i in range(1010)]
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda k: s3.put_object(Bucket=cmd_bucket, Key=k, Body=b"xy"), keys))
    listed = ls_keys(s3cmd, f"s3://{cmd_bucket}", "--recursive")
    assert sorted(listed) == sorted(f"{cmd_bucket}/{k}" for k in keys)
    du = out(s3cmd("du", f"s3://{cmd_bucket}")).split()
    assert du[:2] == [str(2 * len(keys)), str(len(keys))]
    s3cmd("del", "--recursive", "--force", f"s3://{cmd_bucket}/k/")
    assert s3.list_objects_v2(Bucket=cmd_bucket)["KeyCount"] == 0
