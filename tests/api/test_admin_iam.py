"""`s3ish admin user|key|policy ...` against the real server: the operator's commands for
users, access keys and identity policies, through the IAM API, with and without --json."""
import json
import os
import subprocess
import sys

from tests.api.test_iam import everywhere
from tests.support import ROOT_PASSWORD, ROOT_USER, unique_bucket


def admin(server, *args, password=ROOT_PASSWORD, stdin=None):
    env = {**os.environ, "S3ISH_ROOT_USER": ROOT_USER, "S3ISH_ROOT_PASSWORD": password}
    return subprocess.run([sys.executable, "-m", "s3ish", "admin", "--endpoint",
                           server.endpoint, *args], env=env, capture_output=True, text=True,
                          timeout=60, input=stdin)


def ok(r) -> str:
    assert r.returncode == 0, r.stderr
    return r.stdout


def test_admin_users_keys_and_policies(server, tmp_path):
    name = unique_bucket("op")
    user = json.loads(ok(admin(server, "--json", "user", "create", name)))["User"]
    assert user["UserName"] == name and len(user["UserId"]) == 64
    assert name in ok(admin(server, "user", "list"))
    key = json.loads(ok(admin(server, "--json", "key", "create", name)))["AccessKey"]
    assert "shown only now" in ok(admin(server, "key", "create", name))
    listed = json.loads(ok(admin(server, "--json", "key", "list", name)))
    assert key["AccessKeyId"] in [k["AccessKeyId"] for k in listed["AccessKeyMetadata"]]

    assert everywhere(server, key) == {""}
    ok(admin(server, "key", "disable", name, key["AccessKeyId"]))
    assert "Inactive" in ok(admin(server, "key", "list", name))
    assert everywhere(server, key) == {"InvalidAccessKeyId"}
    ok(admin(server, "key", "enable", name, key["AccessKeyId"]))
    assert everywhere(server, key) == {""}

    doc = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::x/*"}]}
    path = tmp_path / "doc.json"
    path.write_text(json.dumps(doc))
    ok(admin(server, "policy", "put", name, "read-x", "--document", str(path)))
    assert json.loads(ok(admin(server, "policy", "get", name, "read-x"))) == doc
    ok(admin(server, "policy", "create", name + "-m", "--document", "-", stdin=json.dumps(doc)))
    ok(admin(server, "policy", "attach", name, name + "-m"))
    listed = ok(admin(server, "policy", "list", name))
    assert "inline   read-x" in listed and f"attached {name}-m" in listed
    assert json.loads(ok(admin(server, "policy", "get", name + "-m"))) == doc
    bad = admin(server, "policy", "put", name, "bad", "--document", "-", stdin="{}")
    assert bad.returncode == 1 and "MalformedPolicyDocument" in bad.stderr

    refusal = admin(server, "user", "delete", name)
    assert refusal.returncode == 1 and refusal.stderr.startswith("DeleteConflict")
    ok(admin(server, "policy", "detach", name, name + "-m"))
    ok(admin(server, "policy", "delete", name + "-m"))
    ok(admin(server, "policy", "delete", name, "read-x"))
    for k in json.loads(ok(admin(server, "--json", "key", "list", name)))["AccessKeyMetadata"]:
        ok(admin(server, "key", "delete", name, k["AccessKeyId"]))
    ok(admin(server, "user", "delete", name))
    missing = admin(server, "user", "get", name)
    assert missing.returncode == 1 and missing.stderr.startswith("NoSuchEntity")
    wrong = admin(server, "user", "list", password="wrong-secret")
    assert wrong.returncode == 1 and "SignatureDoesNotMatch" in wrong.stderr
    usage = admin(server, "key", "disable", name)
    assert usage.returncode == 2 and "USER KEY" in usage.stderr
