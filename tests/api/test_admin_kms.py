"""`s3ish admin kms ...` (admin/kms_cli.py): the keyring of server-side encryption keys,
edited offline with the real command line; a running server follows the file's changes."""
import json
import os
import subprocess
import sys
import time

from tests.support import ServerProcess

from s3ish.storage import kms

ADMIN = [sys.executable, "-m", "s3ish", "admin", "kms"]


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
