"""`s3ish admin kms ...` (admin/kms_cli.py): the keyring of server-side encryption keys,
edited offline with the real command line; a running server follows the file's changes."""
import json
import os
import sqlite3
import subprocess
import sys
import time

from tests.support import (ALT_PASSWORD, ALT_USER, ROOT_PASSWORD, ROOT_USER, ServerProcess,
                           make_keyring, send, signed_request, sse_c)

from s3ish.storage import kms

ADMIN = [sys.executable, "-m", "s3ish", "admin", "kms"]
CUSTOMER = os.urandom(32)


def run(*args) -> subprocess.CompletedProcess:
    return subprocess.run([*ADMIN, *args], capture_output=True, text=True, timeout=60,
                          env={k: v for k, v in os.environ.items() if not k.startswith("S3ISH_")})


def test_create_list_set_default_rotate(tmp_path):
    ring = str(tmp_path / "keys" / "keyring.json")
    os.makedirs(os.path.dirname(ring))
    first = run("create-key", "--keyring", ring)
    assert first.returncode == 0, first.stderr
    first_id = first.stdout.strip()
    assert len(first_id) == 36 and kms.normalize_key_id(first_id) == first_id
    r = run("create-key", "--keyring", ring, "--id", "prod")
    assert r.returncode == 0 and r.stdout.strip() == "prod"

    listed = json.loads(run("list", "--keyring", ring, "--json").stdout)
    assert [(k["id"], k["versions"], k["default"]) for k in listed] == \
        sorted([(first_id, 1, True), ("prod", 1, False)])
    table = run("list", "--keyring", ring).stdout.splitlines()
    assert "id" in table[0] and any(line.startswith("*") and first_id in line
                                    for line in table[1:])

    r = run("set-default", "--keyring", ring, "arn:aws:kms:us-east-1:000000000000:key/prod")
    assert r.returncode == 0 and "prod" in r.stdout
    assert kms.LocalKeyring(ring).default_key_id == "prod"

    r = run("rotate", "--keyring", ring)                    # the default key
    assert r.returncode == 0 and "key prod: version 2 added" in r.stdout
    assert "reseal" in r.stdout
    r = run("rotate", "--keyring", ring, first_id)
    assert r.returncode == 0 and f"key {first_id}: version 2 added" in r.stdout
    r = run("rotate", "--keyring", ring, "prod")
    assert "version 3" in r.stdout
    versions = {k["id"]: k["versions"] for k in kms.describe(ring)}
    assert versions == {first_id: 2, "prod": 3}
    assert oct(os.stat(ring).st_mode & 0o777) == "0o600"
    assert "versions\": [" not in run("list", "--keyring", ring, "--json").stdout


def test_mistakes_are_one_line_and_change_nothing(tmp_path):
    ring = str(tmp_path / "keyring.json")
    r = run("list", "--keyring", ring)
    assert r.returncode == 1 and "does not exist" in r.stderr and not os.path.exists(ring)
    assert run("create-key", "--keyring", ring, "--id", "k").returncode == 0
    before = open(ring).read()
    for args, code, text in [
            (("create-key", "--keyring", ring, "--id", "k"), 1, "already exists"),
            (("create-key", "--keyring", ring, "--id", "bad:id"), 1, "invalid KMS key id"),
            (("set-default", "--keyring", ring, "nope"), 1, "no key 'nope'"),
            (("rotate", "--keyring", ring, "nope"), 1, "no key 'nope'"),
            (("set-default", "--keyring", ring), 2, "usage"),
            (("rotate", "--keyring", ring, "a", "b"), 2, "usage"),
            (("list",), 2, "usage"),
            (("rotate", "--keyring", ring, "--default"), 2, "usage"),
            (("frobnicate", "--keyring", ring), 2, "create-key")]:
        r = run(*args)
        assert r.returncode == code and text in r.stderr, (args, r.stderr)
        assert len(r.stderr.strip().splitlines()) == 1 and "Traceback" not in r.stderr
    assert open(ring).read() == before


def test_a_running_server_follows_the_keyring(tmp_path):
    ring = str(tmp_path / "keyring.json")
    assert run("create-key", "--keyring", ring, "--id", "k1").returncode == 0
    srv = ServerProcess(str(tmp_path / "data"), str(tmp_path),
                        extra_args=["--kms-keyring", ring]).start()
    try:
        assert run("rotate", "--keyring", ring).returncode == 0
        deadline = time.time() + 20
        while "KMS keyring" not in srv.read_log() and time.time() < deadline:
            time.sleep(0.2)
        assert f"KMS keyring {ring} re-read: keys k1, default k1" in srv.read_log()
    finally:
        srv.stop()


def _admin(srv, *args) -> subprocess.CompletedProcess:
    """`s3ish admin --endpoint SERVER kms ARGS` with the root credentials."""
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("S3ISH_")},
           "S3ISH_ROOT_USER": ROOT_USER, "S3ISH_ROOT_PASSWORD": ROOT_PASSWORD}
    return subprocess.run([*ADMIN[:-1], "--endpoint", srv.endpoint, "kms", *args],
                          capture_output=True, text=True, timeout=120, env=env)


def metric(srv, name: str) -> float:
    url, headers = signed_request(srv, "GET", "/_metrics")
    return sum(float(line.split()[-1]) for line in send("GET", url, headers).text.splitlines()
               if line.startswith(name + " ") or line.startswith(name + "{"))


def _sealed_keys(db: str) -> dict:
    """{data id: sse_key} of every unit in a server's index (read-only, beside the server)."""
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        out = {p["data_id"]: p["sse_key"] for table in ("objects", "versions")
               for (meta,) in con.execute(f"SELECT meta FROM {table}")
               for p in json.loads(meta).get("parts", [])}
        out.update(con.execute("SELECT data_id, sse_key FROM parts").fetchall())
    finally:
        con.close()
    return out


def test_rotate_and_reseal_a_running_server(tmp_path):
    ring = make_keyring(str(tmp_path), "k1", "k2")
    data = str(tmp_path / "data")
    srv = ServerProcess(data, str(tmp_path), workers=2, extra_args=[
        "--kms-keyring", ring, "--allow-insecure-sse-c"]).start()
    try:
        c = srv.client()
        c.create_bucket(Bucket="enc")
        c.put_bucket_versioning(Bucket="enc", VersioningConfiguration={"Status": "Enabled"})
        want = {}
        for i in range(2):                             # a noncurrent version of each
            for key, args in (("s3", {"ServerSideEncryption": "AES256"}),
                              ("kms", {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": "k2"}),
                              ("ssec", sse_c(CUSTOMER))):
                body = os.urandom(200_000 + i)
                vid = c.put_object(Bucket="enc", Key=key, Body=body, **args)["VersionId"]
                want[(key, vid)] = (body, sse_c(CUSTOMER) if key == "ssec" else {})
        parts = [os.urandom(5 * 1024 * 1024), os.urandom(1000)]
        uid = c.create_multipart_upload(Bucket="enc", Key="mp", ServerSideEncryption="aws:kms",
                                        SSEKMSKeyId="k1")["UploadId"]
        done = [{"PartNumber": n, "ETag": c.upload_part(Bucket="enc", Key="mp", UploadId=uid,
                                                        PartNumber=n, Body=p)["ETag"]}
                for n, p in enumerate(parts, 1)]
        vid = c.complete_multipart_upload(Bucket="enc", Key="mp", UploadId=uid,
                                          MultipartUpload={"Parts": done})["VersionId"]
        want[("mp", vid)] = (b"".join(parts), {})
        open_body = os.urandom(300_000)
        open_id = c.create_multipart_upload(Bucket="enc", Key="open",
                                            ServerSideEncryption="AES256")["UploadId"]
        open_etag = c.upload_part(Bucket="enc", Key="open", UploadId=open_id, PartNumber=1,
                                  Body=open_body)["ETag"]
        before = _sealed_keys(os.path.join(data, "meta.sqlite3"))
        kms_units = {d for d, k in before.items() if k.startswith("v1:")}
        assert len(kms_units) == 2 + 2 + 2 + 1 and len(before) == len(kms_units) + 2
        resealed_before = metric(srv, "s3ish_kms_resealed_keys_total")

        r = _admin(srv, "rotate", "--keyring", ring, "--reseal")   # the default key, k1
        assert r.returncode == 0, r.stderr
        assert "key k1: version 2 added" in r.stdout and "kms reseal`" not in r.stdout
        # k1's units (SSE-S3 and the multipart object's and the open upload's parts) moved.
        moved = {d for d in kms_units if before[d].startswith("v1:k1:")}
        assert f"resealed                 {len(moved)}" in r.stdout
        assert f"current                  {len(kms_units) - len(moved)}" in r.stdout
        r = _admin(srv, "rotate", "--keyring", ring, "k2")       # without --reseal: a hint
        assert r.returncode == 0 and "`s3ish admin kms reseal`" in r.stdout
        r = _admin(srv, "reseal", "--json")
        assert r.returncode == 0, r.stderr
        report = json.loads(r.stdout)
        assert (report["resealed"], report["sse_c"], report["failed"]) == \
            (len(kms_units) - len(moved), 2, 0)
        assert json.loads(_admin(srv, "reseal", "--json").stdout)["resealed"] == 0
        assert metric(srv, "s3ish_kms_resealed_keys_total") - resealed_before == \
            len(kms_units)

        after = _sealed_keys(os.path.join(data, "meta.sqlite3"))
        for d in kms_units:
            assert after[d].split(":")[2] == "2" and after[d] != before[d]
        assert {d: after[d] for d in before if d not in kms_units} == \
            {d: before[d] for d in before if d not in kms_units}     # SSE-C: untouched
        for _ in range(2):                          # both workers, whichever answers
            for (key, vid), (body, args) in want.items():
                got = c.get_object(Bucket="enc", Key=key, VersionId=vid, **args)
                assert got["Body"].read() == body, key
        c.complete_multipart_upload(Bucket="enc", Key="open", UploadId=open_id, MultipartUpload={
            "Parts": [{"PartNumber": 1, "ETag": open_etag}]})
        assert c.get_object(Bucket="enc", Key="open")["Body"].read() == open_body
    finally:
        srv.stop()
    # After a restart too (the records are in the index; new processes read the keyring).
    srv.start()
    try:
        c = srv.client()
        for (key, vid), (body, args) in want.items():
            assert c.get_object(Bucket="enc", Key=key, VersionId=vid, **args)["Body"].read() \
                == body
    finally:
        srv.stop()


def test_reseal_needs_a_key_service_and_root(tmp_path):
    srv = ServerProcess(str(tmp_path / "data"), str(tmp_path)).start()
    try:
        r = _admin(srv, "reseal")
        assert r.returncode == 1 and "no key service" in r.stderr and "Traceback" not in r.stderr
        url, headers = signed_request(srv, "POST", "/_admin/kms/reseal", user=ALT_USER,
                                      password=ALT_PASSWORD)
        assert send("POST", url, headers).status_code == 403
        r = run("reseal", "--endpoint", srv.endpoint)              # no credentials
        assert r.returncode == 2 and "S3ISH_ROOT_USER" in r.stderr
    finally:
        srv.stop()
