"""`s3ish server --follow-tier`: a writer ships to a second s3ish (or moto), a follower on
other folders bootstraps from the tier and applies what is shipped after: byte-exact, with
the same version ids, within a bounded lag; writes to it are refused; it resumes after a
restart, rides out a remote that is down, follows a takeover that continues its timeline
and stops, loudly, on one that does not."""
import json
import os
import time
import uuid

import pytest

from tests.tier.following import (PREFIX, follower_server, keyring, start_refused,
                                  wait_applied)
from tests.tier.shipping import manifest, status, tier_server, wait_shipped
from tests.tier.test_restore import (MiB, _phase_a1, _phase_a2, _phase_b, _phase_c,
                                     _iam_user, state)


@pytest.fixture
def tier_bucket(service):
    name = f"follow-{uuid.uuid4().hex[:12]}"
    service.boto().create_bucket(Bucket=name)
    return name


def _encrypted(c) -> bool:
    """Encrypted objects (SSE-S3, SSE-KMS with the keyring's key), where this s3ish has
    server-side encryption (issue 11's branch); False where it refuses the header."""
    c.create_bucket(Bucket="sse")
    try:
        c.put_object(Bucket="sse", Key="s3", Body=os.urandom(300 * 1024),
                     ServerSideEncryption="AES256")
    except c.exceptions.ClientError as e:
        if e.response["Error"]["Code"] == "NotImplemented":
            return False
        raise
    c.put_object(Bucket="sse", Key="kms", Body=b"small and sealed " * 10,
                 ServerSideEncryption="aws:kms", SSEKMSKeyId="follow-key")
    return True


def _sse(c) -> dict:
    out = {}
    for key in ("s3", "kms"):
        got = c.head_object(Bucket="sse", Key=key)
        out[key] = (got["ServerSideEncryption"], got.get("SSEKMSKeyId"))
    return out


@pytest.mark.parametrize("service", ["s3ish", "moto"], indirect=True)
def test_a_follower_catches_up_from_zero_then_follows(service, tier_bucket, tmp_path):
    """Objects written before the follower started (multipart, versions, deletes, tags,
    ACLs, compressed and encrypted objects, an IAM user) come back byte-exact with the same
    version ids; what is written after reaches it too."""
    ring = keyring(tmp_path)
    common = ["--compression", "on", "--kms-keyring", ring, "--scrub-rate", "0"]
    writer = tier_server(str(tmp_path / "writer"), tmp_path, service, tier_bucket,
                         prefix=PREFIX, extra=common).start()
    follower = None
    try:
        w = writer.client()
        user_key = _iam_user(writer)
        _phase_a1(w)
        _phase_a2(w)
        sse = _encrypted(w)
        hwm = wait_shipped(writer)["s3_hwm"]

        follower = follower_server(str(tmp_path / "follower"), tmp_path, service,
                                   tier_bucket, extra=["--kms-keyring", ring]).start()
        assert "bootstrapping" in follower.read_log()
        doc = wait_applied(follower, hwm)
        assert doc["role"] == "follower" and doc["state"] == "following"
        f = follower.client()
        assert state(f) == state(w)
        if sse:
            assert _sse(f) == _sse(w) == {"s3": ("AES256", None),
                                          "kms": ("aws:kms", _sse(w)["kms"][1])}
        # A user made through the writer's IAM API reads on the follower.
        got = follower.client(*user_key).get_object(Bucket="plain", Key="small")
        assert got["Body"].read() == b"ten bytes!"

        _phase_b(w)
        _phase_c(w)
        if sse:
            w.put_object(Bucket="sse", Key="s3", Body=b"overwritten, sealed",
                         ServerSideEncryption="AES256")
        wait_applied(follower, wait_shipped(writer)["s3_hwm"])
        assert state(f) == state(w)
        if sse:
            assert f.get_object(Bucket="sse", Key="s3")["Body"].read() == \
                b"overwritten, sealed"
            assert _sse(f) == _sse(w)
        with open(os.path.join(str(tmp_path / "follower"), ".s3ish", "tier",
                               "follower.json")) as fh:
            marker = json.load(fh)
        assert marker["bootstrap_lsn"] == hwm and marker["generation"] == 1
        assert not os.path.exists(os.path.join(str(tmp_path / "follower"), ".s3ish", "tier",
                                               "restored.json"))
    finally:
        if follower is not None:
            follower.stop()
        writer.stop()
