"""The AWS CLI (`aws s3 ...` and `aws s3api ...`) against the real server, run as a user runs
it: a subprocess with its own config and credentials files (AWS_CONFIG_FILE,
AWS_SHARED_CREDENTIALS_FILE), `--endpoint-url` and region us-east-1.
"""
import json
import os
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from tests.compat.conftest import MiB, clean_env, make_file, md5_file, md5_tree, run, tool
from tests.support import ROOT_PASSWORD, ROOT_USER, unique_bucket


def _runner(server, home, signature_version=None):
    exe = tool("aws")
    config, creds = home / "config", home / "credentials"
    sig = f"    signature_version = {signature_version}\n" if signature_version else ""
    config.write_text("[default]\nregion = us-east-1\noutput = json\n"
                      "s3 =\n    addressing_style = path\n" + sig)
    creds.write_text(f"[default]\naws_access_key_id = {ROOT_USER}\n"
                     f"aws_secret_access_key = {ROOT_PASSWORD}\n")
    env = clean_env(home, AWS_CONFIG_FILE=str(config), AWS_SHARED_CREDENTIALS_FILE=str(creds),
                    AWS_EC2_METADATA_DISABLED="true", AWS_PAGER="")

    def call(*args, check=True, timeout=300, input=None):
        return run([exe, "--endpoint-url", server.endpoint, "--region", "us-east-1", *args],
                   env, server=server, check=check, timeout=timeout, input=input)
    return call


@pytest.fixture(scope="session")
def aws(server, tmp_path_factory):
    """aws(*args, check=True) -> CompletedProcess; runs the venv's `aws` against the server.
    SigV4 everywhere (`signature_version = s3v4`), as CLI v1 users configure for non-AWS S3."""
    return _runner(server, tmp_path_factory.mktemp("awshome"), "s3v4")


@pytest.fixture(scope="session")
def aws_default(server, tmp_path_factory):
    """The CLI with no signature_version: CLI v1 then presigns with SigV2 query auth."""
    return _runner(server, tmp_path_factory.mktemp("awshome-default"))


def out(p) -> str:
    return p.stdout.decode("utf-8")


def test_mb_ls_rb(aws, s3):
    name = unique_bucket("cli")
    aws("s3", "mb", f"s3://{name}")
    s3.head_bucket(Bucket=name)
    assert name in out(aws("s3", "ls")).split()
    aws("s3", "rb", f"s3://{name}")
    assert name not in out(aws("s3", "ls")).split()
    assert name not in [b["Name"] for b in s3.list_buckets()["Buckets"]]


@pytest.mark.parametrize("size", [0, 1, MiB, 20 * MiB], ids=["0B", "1B", "1MiB", "20MiB"])
def test_cp_roundtrip(aws, s3, bucket, tmp_path, size):
    src = make_file(tmp_path / "src.bin", size)
    aws("s3", "cp", src, f"s3://{bucket}/data/obj.bin")
    head = s3.head_object(Bucket=bucket, Key="data/obj.bin")
    assert head["ContentLength"] == size
    if size > 8 * MiB:  # default multipart_threshold / chunksize of 8 MiB -> 3 parts
        assert head["ETag"].strip('"').endswith("-3")
    dst = tmp_path / "dst.bin"
    aws("s3", "cp", f"s3://{bucket}/data/obj.bin", str(dst))
    assert os.path.getsize(dst) == size
    assert md5_file(dst) == md5_file(src)


@pytest.mark.slow
def test_cp_100mib(aws, s3, bucket, tmp_path, big_file):
    src, digest = big_file
    aws("s3", "cp", src, f"s3://{bucket}/big.bin")
    head = s3.head_object(Bucket=bucket, Key="big.bin")
    assert head["ContentLength"] == 100 * MiB
    assert head["ETag"].strip('"').endswith("-13")  # ceil(100 / 8)
    dst = tmp_path / "big.bin"
    aws("s3", "cp", f"s3://{bucket}/big.bin", str(dst))
    assert md5_file(dst) == digest
    os.remove(dst)


TRICKY = ["with space.txt", "dir/ünïcødé ファイル.txt", "a/b/c/deep.txt",
          "dir/plus+and&amp=.txt", "dir/sub dir/x y.txt", "dir/100% sure?#~!$'()*,;@[].txt"]


def test_cp_tricky_keys_and_ls(aws, s3, bucket, tmp_path):
    srcs = {}
    for i, key in enumerate(TRICKY):
        srcs[key] = make_file(tmp_path / f"src{i}", 100 + i)
        aws("s3", "cp", srcs[key], f"s3://{bucket}/{key}")
    assert sorted(o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]) == sorted(TRICKY)

    for i, key in enumerate(TRICKY):
        dst = tmp_path / f"dst{i}"
        aws("s3", "cp", f"s3://{bucket}/{key}", str(dst))
        assert md5_file(dst) == md5_file(srcs[key])

    # Recursive listing: every key, in full.
    lines = out(aws("s3", "ls", "--recursive", f"s3://{bucket}")).splitlines()
    listed = sorted(line.split(None, 3)[3] for line in lines if line.strip())
    assert listed == sorted(TRICKY)

    # Non-recursive listing at the root: common prefixes as PRE, plus the top-level object.
    top = out(aws("s3", "ls", f"s3://{bucket}/")).splitlines()
    pres = sorted(line.split("PRE", 1)[1].strip() for line in top if "PRE " in line)
    objs = [line.split(None, 3)[3] for line in top if "PRE " not in line and line.strip()]
    assert pres == ["a/", "dir/"]
    assert objs == ["with space.txt"]

    # One level down, inside "dir/".
    sub = out(aws("s3", "ls", f"s3://{bucket}/dir/")).splitlines()
    assert sorted(line.split("PRE", 1)[1].strip() for line in sub if "PRE " in line) == [
        "sub dir/"]
    assert sorted(line.split(None, 3)[3] for line in sub if "PRE " not in line and line.strip()
                  ) == sorted(["plus+and&amp=.txt", "ünïcødé ファイル.txt",
                               "100% sure?#~!$'()*,;@[].txt"])


def _tree(root, files):
    for rel, size in files.items():
        make_file(os.path.join(root, rel), size)


def test_sync_roundtrip(aws, s3, bucket, tmp_path):
    up = tmp_path / "up"
    files = {"empty": 0, "one": 1, "top.txt": 1234, "nested/a.bin": 64 * 1024,
             "nested/deeper/b.bin": 9 * MiB, "spaced dir/ünï ファイル.txt": 777}
    _tree(up, files)
    aws("s3", "sync", str(up), f"s3://{bucket}/mirror")
    keys = sorted(o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"])
    assert keys == sorted(f"mirror/{k}" for k in files)

    # A second sync of an unchanged tree uploads nothing.
    assert out(aws("s3", "sync", str(up), f"s3://{bucket}/mirror")).strip() == ""

    down = tmp_path / "down"
    down.mkdir()
    aws("s3", "sync", f"s3://{bucket}/mirror", str(down))
    assert md5_tree(down) == md5_tree(up)
    # Downloaded files carry the objects' LastModified: a second sync down is a no-op.
    assert out(aws("s3", "sync", f"s3://{bucket}/mirror", str(down))).strip() == ""

    # Change one file, add one, delete one: sync --delete mirrors exactly.
    make_file(up / "top.txt", 4321)
    make_file(up / "new.txt", 10)
    os.remove(up / "one")
    aws("s3", "sync", "--delete", str(up), f"s3://{bucket}/mirror")
    down2 = tmp_path / "down2"
    down2.mkdir()
    aws("s3", "sync", f"s3://{bucket}/mirror", str(down2))
    assert md5_tree(down2) == md5_tree(up)


def test_rm_recursive(aws, s3, bucket, tmp_path):
    src = make_file(tmp_path / "f", 10)
    for key in ["keep/x", "gone/a", "gone/b/c", "gone/ü d"]:
        aws("s3", "cp", src, f"s3://{bucket}/{key}")
    aws("s3", "rm", "--recursive", f"s3://{bucket}/gone/")
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]] == ["keep/x"]
    aws("s3", "rm", f"s3://{bucket}/keep/x")
    assert s3.list_objects_v2(Bucket=bucket)["KeyCount"] == 0


def test_rb_force(aws, s3, tmp_path):
    name = unique_bucket("cli")
    aws("s3", "mb", f"s3://{name}")
    src = make_file(tmp_path / "f", 10)
    for key in ["a", "b/c"]:
        aws("s3", "cp", src, f"s3://{name}/{key}")
    p = aws("s3", "rb", f"s3://{name}", check=False)
    assert p.returncode != 0 and b"BucketNotEmpty" in p.stderr
    aws("s3", "rb", "--force", f"s3://{name}")
    assert name not in [b["Name"] for b in s3.list_buckets()["Buckets"]]


def test_presign(aws, bucket, tmp_path):
    key = "pre/ünï file.bin"
    src = make_file(tmp_path / "p", 5000)
    aws("s3", "cp", src, f"s3://{bucket}/{key}")
    url = out(aws("s3", "presign", f"s3://{bucket}/{key}", "--expires-in", "300")).strip()
    assert "X-Amz-Signature=" in url
    r = requests.get(url, timeout=30)
    assert r.status_code == 200, r.text
    with open(src, "rb") as f:
        assert r.content == f.read()
    # Tampering with the signature is refused.
    bad = url.replace("X-Amz-Signature=", "X-Amz-Signature=0")
    assert requests.get(bad, timeout=30).status_code == 403


def test_s3api_metadata_head_and_delimiter(aws, bucket, tmp_path):
    body = make_file(tmp_path / "body", 321)
    p = aws("s3api", "put-object", "--bucket", bucket, "--key", "docs/readme.txt",
            "--body", body, "--content-type", "text/plain",
            "--metadata", "color=blue,owner=alice")
    assert json.loads(out(p))["ETag"].strip('"') == md5_file(body)

    head = json.loads(out(aws("s3api", "head-object", "--bucket", bucket,
                              "--key", "docs/readme.txt")))
    assert head["ContentLength"] == 321
    assert head["ContentType"] == "text/plain"
    assert head["Metadata"] == {"color": "blue", "owner": "alice"}
    assert head["ETag"].strip('"') == md5_file(body)

    for key in ["docs/a/1", "docs/a/2", "docs/b/1", "top"]:
        aws("s3api", "put-object", "--bucket", bucket, "--key", key, "--body", body)
    listing = json.loads(out(aws("s3api", "list-objects-v2", "--bucket", bucket,
                                 "--delimiter", "/", "--prefix", "docs/")))
    assert [c["Prefix"] for c in listing["CommonPrefixes"]] == ["docs/a/", "docs/b/"]
    assert [o["Key"] for o in listing["Contents"]] == ["docs/readme.txt"]
    root = json.loads(out(aws("s3api", "list-objects-v2", "--bucket", bucket,
                              "--delimiter", "/")))
    assert [c["Prefix"] for c in root["CommonPrefixes"]] == ["docs/"]
    assert [o["Key"] for o in root["Contents"]] == ["top"]

    # Paginated by the CLI with a tiny page size: every key, once.
    allkeys = json.loads(out(aws("s3api", "list-objects-v2", "--bucket", bucket,
                                 "--page-size", "2")))
    assert sorted(o["Key"] for o in allkeys["Contents"]) == sorted(
        ["docs/readme.txt", "docs/a/1", "docs/a/2", "docs/b/1", "top"])

    p = aws("s3api", "head-object", "--bucket", bucket, "--key", "nope", check=False)
    assert p.returncode != 0 and b"404" in p.stderr


def test_presign_default_sigv2(aws_default, bucket, tmp_path):
    """AWS CLI v1's default `s3 presign` (no signature_version configured) is SigV2."""
    key = "pre/v2 ünï.bin"
    src = make_file(tmp_path / "p", 3000)
    aws_default("s3", "cp", src, f"s3://{bucket}/{key}")
    url = out(aws_default("s3", "presign", f"s3://{bucket}/{key}", "--expires-in", "300")
              ).strip()
    assert "AWSAccessKeyId=" in url and "Signature=" in url
    r = requests.get(url, timeout=30)
    assert r.status_code == 200, r.text
    with open(src, "rb") as f:
        assert r.content == f.read()
    bad = url.replace("Signature=", "Signature=A")
    assert requests.get(bad, timeout=30).status_code == 403


def test_cp_recursive_and_stdin_stream(aws, s3, bucket, tmp_path):
    tree = tmp_path / "tree"
    files = {"x.txt": 10, "d/y.bin": 2 * MiB, "d/e/z ü.bin": 0}
    _tree(tree, files)
    aws("s3", "cp", "--recursive", str(tree), f"s3://{bucket}/rec/")
    back = tmp_path / "back"
    aws("s3", "cp", "--recursive", f"s3://{bucket}/rec/", str(back))
    assert md5_tree(back) == md5_tree(tree)

    # `aws s3 cp - s3://...` streams stdin; past 8 MiB it goes multipart.
    data = os.urandom(9 * MiB + 1)
    aws("s3", "cp", "-", f"s3://{bucket}/stdin.bin", input=data)
    head = s3.head_object(Bucket=bucket, Key="stdin.bin")
    assert head["ContentLength"] == len(data) and "-" in head["ETag"]
    got = aws("s3", "cp", f"s3://{bucket}/stdin.bin", "-").stdout
    assert got == data


def test_s3api_multipart_and_ranges(aws, s3, bucket, tmp_path):
    key = "mp/low level ü.bin"
    up = json.loads(out(aws("s3api", "create-multipart-upload", "--bucket", bucket,
                            "--key", key, "--metadata", "k=v")))
    uid = up["UploadId"]
    p1 = make_file(tmp_path / "p1", 5 * MiB)
    p2 = make_file(tmp_path / "p2", 1234)
    parts = []
    for n, f in ((1, p1), (2, p2)):
        r = json.loads(out(aws("s3api", "upload-part", "--bucket", bucket, "--key", key,
                               "--upload-id", uid, "--part-number", str(n), "--body", f)))
        parts.append({"PartNumber": n, "ETag": r["ETag"]})
    listed = json.loads(out(aws("s3api", "list-parts", "--bucket", bucket, "--key", key,
                                "--upload-id", uid)))
    assert [(p["PartNumber"], p["Size"]) for p in listed["Parts"]] == [(1, 5 * MiB), (2, 1234)]
    mpu = tmp_path / "mpu.json"
    mpu.write_text(json.dumps({"Parts": parts}))
    aws("s3api", "complete-multipart-upload", "--bucket", bucket, "--key", key,
        "--upload-id", uid, "--multipart-upload", f"file://{mpu}")
    head = json.loads(out(aws("s3api", "head-object", "--bucket", bucket, "--key", key)))
    assert head["ContentLength"] == 5 * MiB + 1234 and head["ETag"].endswith('-2"')
    assert head["Metadata"] == {"k": "v"}

    whole = open(p1, "rb").read() + open(p2, "rb").read()
    dst = tmp_path / "range"
    r = json.loads(out(aws("s3api", "get-object", "--bucket", bucket, "--key", key,
                           "--range", f"bytes={5 * MiB - 5}-{5 * MiB + 4}", str(dst))))
    assert r["ContentLength"] == 10 and dst.read_bytes() == whole[5 * MiB - 5:5 * MiB + 5]

    # An aborted upload leaves nothing behind.
    uid2 = json.loads(out(aws("s3api", "create-multipart-upload", "--bucket", bucket,
                              "--key", "aborted")))["UploadId"]
    aws("s3api", "upload-part", "--bucket", bucket, "--key", "aborted", "--upload-id", uid2,
        "--part-number", "1", "--body", p2)
    aws("s3api", "abort-multipart-upload", "--bucket", bucket, "--key", "aborted",
        "--upload-id", uid2)
    p = aws("s3api", "list-parts", "--bucket", bucket, "--key", "aborted", "--upload-id", uid2,
            check=False)
    assert p.returncode != 0 and b"NoSuchUpload" in p.stderr
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]] == [key]

    loc = json.loads(out(aws("s3api", "get-bucket-location", "--bucket", bucket)))
    assert loc.get("LocationConstraint") in (None, "", "us-east-1")
    ver = json.loads(out(aws("s3api", "get-bucket-versioning", "--bucket", bucket)) or "{}")
    assert "Status" not in ver


def test_many_objects_ls_and_rm(aws, s3, bucket):
    """More than one 1000-key page: `aws s3 ls` follows continuation tokens and
    `aws s3 rm --recursive` deletes in several DeleteObjects batches."""
    keys = [f"many/{i:05d}" for i in range(1010)] + ["many/sub/x"]
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda k: s3.put_object(Bucket=bucket, Key=k, Body=b"m"), keys))
    lines = out(aws("s3", "ls", "--recursive", f"s3://{bucket}/many/")).splitlines()
    assert sorted(line.split(None, 3)[3] for line in lines if line.strip()) == sorted(keys)
    top = out(aws("s3", "ls", f"s3://{bucket}/many/")).splitlines()
    assert sum("PRE sub/" in line for line in top) == 1 and len(top) == 1011
    aws("s3", "rm", "--recursive", "--quiet", f"s3://{bucket}/many/")
    assert s3.list_objects_v2(Bucket=bucket)["KeyCount"] == 0


def test_cp_headers_and_conditional_get(aws, bucket, tmp_path):
    src = make_file(tmp_path / "h.html", 500)
    aws("s3", "cp", src, f"s3://{bucket}/page.html", "--content-type", "text/html",
        "--cache-control", "max-age=60", "--content-disposition", 'attachment; filename="p.html"',
        "--metadata", "origin=cli")
    head = json.loads(out(aws("s3api", "head-object", "--bucket", bucket, "--key", "page.html")))
    assert head["ContentType"] == "text/html"
    assert head["CacheControl"] == "max-age=60"
    assert head["ContentDisposition"] == 'attachment; filename="p.html"'
    assert head["Metadata"] == {"origin": "cli"}
    etag = head["ETag"]

    dst = tmp_path / "g"
    ok = aws("s3api", "get-object", "--bucket", bucket, "--key", "page.html", "--if-match", etag,
             str(dst))
    assert json.loads(out(ok))["ETag"] == etag and md5_file(dst) == md5_file(src)
    p = aws("s3api", "get-object", "--bucket", bucket, "--key", "page.html",
            "--if-none-match", etag, str(dst), check=False)
    assert p.returncode != 0 and b"304" in p.stderr
    p = aws("s3api", "get-object", "--bucket", bucket, "--key", "page.html",
            "--if-match", '"0123"', str(dst), check=False)
    assert p.returncode != 0 and b"PreconditionFailed" in p.stderr
