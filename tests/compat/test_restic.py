"""restic backing up to a versioned, object-locked bucket (default GOVERNANCE retention), run as
a user runs it: the Debian `restic` binary as a subprocess with its own HOME and cache.

Immutable backups: every object restic writes gets the bucket's retention; `forget --prune`
only lays delete markers over them, and the versions underneath stay readable and cannot be
deleted without the governance bypass."""
import shutil

import botocore.exceptions
import pytest

from tests.compat.conftest import MiB, clean_env, make_file, md5_tree, run
from tests.support import ROOT_PASSWORD, ROOT_USER, unique_bucket


@pytest.fixture(scope="module")
def restic(server, tmp_path_factory):
    exe = shutil.which("restic")
    if exe is None:
        pytest.skip("the restic binary is not installed (Debian: apt-get install restic)")
    home = tmp_path_factory.mktemp("restichome")
    env = clean_env(home, AWS_ACCESS_KEY_ID=ROOT_USER, AWS_SECRET_ACCESS_KEY=ROOT_PASSWORD,
                    RESTIC_PASSWORD="restic-test-password",
                    RESTIC_CACHE_DIR=str(home / "cache"))

    def call(repo, *args, check=True):
        return run([exe, "-r", f"s3:{server.endpoint}/{repo}", "--quiet", *args], env,
                   server=server, check=check, timeout=300)
    return call


def _versions(s3, bucket: str) -> dict[str, str]:
    """{key: current version id} of every object in the bucket."""
    out = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        for o in page.get("Contents", []):
            out[o["Key"]] = s3.head_object(Bucket=bucket, Key=o["Key"])["VersionId"]
    return out


def test_backup_to_locked_bucket(restic, s3, tmp_path):
    bucket = unique_bucket("restic")
    s3.create_bucket(Bucket=bucket, ObjectLockEnabledForBucket=True)
    s3.put_object_lock_configuration(Bucket=bucket, ObjectLockConfiguration={
        "ObjectLockEnabled": "Enabled",
        "Rule": {"DefaultRetention": {"Mode": "GOVERNANCE", "Days": 1}}})
    src = tmp_path / "src"
    make_file(src / "big.bin", 3 * MiB)
    make_file(src / "sub" / "small.txt", 1000)
    (src / "empty").write_bytes(b"")
    repo = f"{bucket}/repo"

    restic(repo, "init")
    restic(repo, "backup", str(src))
    restic(repo, "check", "--read-data")
    restic(repo, "restore", "latest", "--target", str(tmp_path / "out"))
    assert md5_tree(tmp_path / "out" / src.relative_to("/")) == md5_tree(src)

    first = _versions(s3, bucket)
    assert any(k.startswith("repo/data/") for k in first)
    for key, vid in first.items():
        assert s3.head_object(Bucket=bucket, Key=key, VersionId=vid)[
            "ObjectLockMode"] == "GOVERNANCE", key

    # A second snapshot, then forget the first and prune what only it used.
    make_file(src / "big.bin", 3 * MiB)
    restic(repo, "backup", str(src))
    restic(repo, "forget", "--keep-last", "1", "--prune")
    restic(repo, "check", "--read-data")
    restic(repo, "restore", "latest", "--target", str(tmp_path / "out2"))
    assert md5_tree(tmp_path / "out2" / src.relative_to("/")) == md5_tree(src)

    # What prune removed is only hidden: every first-backup version is still there, locked.
    gone = [k for k in first if k not in _versions(s3, bucket)]
    assert any(k.startswith("repo/data/") for k in gone)
    for key in gone:
        vid = first[key]
        assert s3.head_object(Bucket=bucket, Key=key, VersionId=vid)["ContentLength"] >= 0
        with pytest.raises(botocore.exceptions.ClientError) as e:
            s3.delete_object(Bucket=bucket, Key=key, VersionId=vid)
        assert e.value.response["Error"]["Code"] == "AccessDenied"
