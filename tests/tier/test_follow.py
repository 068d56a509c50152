"""`s3ish server --follow-tier`: a writer ships to a second s3ish (or moto), a follower on
other folders bootstraps from the tier and applies what is shipped after: byte-exact, with
the same version ids, within a bounded lag; writes to it are refused; it resumes after a
restart, rides out a remote that is down, follows a takeover that continues its timeline
and stops, loudly, on one that does not."""
import json
import os
import subprocess
import sys
import time
import uuid

import pytest

from tests.tier.following import (PREFIX, follower_server, keyring, start_refused,
                                  wait_applied)
from tests.support import ROOT_PASSWORD, ROOT_USER
from tests.tier.shipping import manifest, status, tier_server, verify, wait_shipped
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


def _refusals(c, iam, upload_id) -> dict:
    """One call of every class of write: object, multipart, tagging, ACL, policy and the
    other bucket configurations, bucket creation and deletion, IAM."""
    policy = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
         "Resource": "arn:aws:s3:::plain/*"}]})
    b, k = "plain", "small"
    return {
        "PutObject": lambda: c.put_object(Bucket=b, Key="new", Body=b"x"),
        "CopyObject": lambda: c.copy_object(Bucket=b, Key="copy",
                                            CopySource={"Bucket": b, "Key": k}),
        "DeleteObject": lambda: c.delete_object(Bucket=b, Key=k),
        "DeleteObjects": lambda: c.delete_objects(Bucket=b, Delete={"Objects": [{"Key": k}]}),
        "CreateMultipartUpload": lambda: c.create_multipart_upload(Bucket=b, Key="mp2"),
        "UploadPart": lambda: c.upload_part(Bucket=b, Key="open", PartNumber=2,
                                            UploadId=upload_id, Body=b"part"),
        "UploadPartCopy": lambda: c.upload_part_copy(Bucket=b, Key="open", PartNumber=3,
                                                     UploadId=upload_id,
                                                     CopySource={"Bucket": b, "Key": k}),
        "CompleteMultipartUpload": lambda: c.complete_multipart_upload(
            Bucket=b, Key="open", UploadId=upload_id,
            MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": "x"}]}),
        "AbortMultipartUpload": lambda: c.abort_multipart_upload(Bucket=b, Key="open",
                                                                 UploadId=upload_id),
        "PutObjectTagging": lambda: c.put_object_tagging(
            Bucket=b, Key=k, Tagging={"TagSet": [{"Key": "a", "Value": "b"}]}),
        "DeleteObjectTagging": lambda: c.delete_object_tagging(Bucket=b, Key=k),
        "PutObjectAcl": lambda: c.put_object_acl(Bucket=b, Key=k, ACL="private"),
        "PutBucketAcl": lambda: c.put_bucket_acl(Bucket=b, ACL="private"),
        "PutBucketPolicy": lambda: c.put_bucket_policy(Bucket=b, Policy=policy),
        "DeleteBucketPolicy": lambda: c.delete_bucket_policy(Bucket=b),
        "PutBucketTagging": lambda: c.put_bucket_tagging(
            Bucket=b, Tagging={"TagSet": [{"Key": "t", "Value": "v"}]}),
        "DeleteBucketTagging": lambda: c.delete_bucket_tagging(Bucket=b),
        "PutBucketVersioning": lambda: c.put_bucket_versioning(
            Bucket=b, VersioningConfiguration={"Status": "Enabled"}),
        "PutBucketLifecycleConfiguration": lambda: c.put_bucket_lifecycle_configuration(
            Bucket=b, LifecycleConfiguration={"Rules": [{
                "ID": "r", "Status": "Enabled", "Filter": {"Prefix": ""},
                "Expiration": {"Days": 1}}]}),
        "PutBucketCors": lambda: c.put_bucket_cors(Bucket=b, CORSConfiguration={
            "CORSRules": [{"AllowedMethods": ["GET"], "AllowedOrigins": ["*"]}]}),
        "PutPublicAccessBlock": lambda: c.put_public_access_block(
            Bucket=b, PublicAccessBlockConfiguration={"BlockPublicAcls": True}),
        "PutBucketOwnershipControls": lambda: c.put_bucket_ownership_controls(
            Bucket=b, OwnershipControls={"Rules": [{"ObjectOwnership": "ObjectWriter"}]}),
        "CreateBucket": lambda: c.create_bucket(Bucket="another"),
        "DeleteBucket": lambda: c.delete_bucket(Bucket="ver"),
        "IAM.CreateUser": lambda: iam.create_user(UserName="on-the-follower"),
        "IAM.CreateAccessKey": lambda: iam.create_access_key(UserName="restored-user"),
        "IAM.DeleteUserPolicy": lambda: iam.delete_user_policy(UserName="restored-user",
                                                               PolicyName="all"),
    }


def test_writes_to_a_follower_are_refused_reads_work(s3ish_service, tmp_path):
    import requests

    from tests.api.test_iam import iam_client
    from tests.tier.shipping import admin
    service = s3ish_service
    bucket = f"follow-{uuid.uuid4().hex[:12]}"
    service.boto().create_bucket(Bucket=bucket)
    writer = tier_server(str(tmp_path / "writer"), tmp_path, service, bucket,
                         prefix=PREFIX).start()
    follower = None
    try:
        w = writer.client()
        _iam_user(writer)
        _phase_a1(w)
        _phase_a2(w)
        upload_id = w.list_multipart_uploads(Bucket="plain")["Uploads"][0]["UploadId"]
        hwm = wait_shipped(writer)["s3_hwm"]
        follower = follower_server(str(tmp_path / "follower"), tmp_path, service,
                                   bucket).start()
        wait_applied(follower, hwm)
        f = follower.client()
        before = state(f)
        assert before == state(w)
        for name, call in _refusals(f, iam_client(follower), upload_id).items():
            with pytest.raises(f.exceptions.ClientError) as refused:
                call()
            err = refused.value.response
            assert err["ResponseMetadata"]["HTTPStatusCode"] == 403, name
            assert err["Error"]["Code"] == "AccessDenied", name
            assert "read-only follower of the cold tier" in err["Error"]["Message"], name
        # Presigned writes and browser uploads: the same answer.
        url = f.generate_presigned_url("put_object", Params={"Bucket": "plain", "Key": "p"})
        r = requests.put(url, data=b"presigned", timeout=30)
        assert r.status_code == 403 and b"read-only follower" in r.content
        post = f.generate_presigned_post("plain", "posted")
        r = requests.post(post["url"], data=post["fields"],
                          files={"file": ("x", b"form upload")}, timeout=30)
        assert r.status_code == 403 and b"read-only follower" in r.content
        code, doc = admin(follower, "/_admin/compression/plain/on", "POST")
        assert code == 403 and "read-only follower" in doc["error"]
        code, doc = admin(follower, "/_admin/lifecycle", "POST")
        assert code == 403 and "read-only follower" in doc["error"]
        assert state(f) == before                    # nothing changed
        # Reads: ranges, HEAD, listings, presigned GETs, IAM reads.
        got = f.get_object(Bucket="plain", Key="random", Range="bytes=1000-1999")
        assert got["Body"].read() == w.get_object(Bucket="plain", Key="random",
                                                  Range="bytes=1000-1999")["Body"].read()
        assert f.head_object(Bucket="plain", Key="mp")["ContentLength"] == 5 * MiB + 300 * 1024
        url = f.generate_presigned_url("get_object", Params={"Bucket": "plain",
                                                             "Key": "small"})
        assert requests.get(url, timeout=30).content == b"ten bytes!"
        assert "restored-user" in [u["UserName"] for u in
                                   iam_client(follower).list_users()["Users"]]
        # The writer still writes, and the follower still follows.
        w.put_object(Bucket="plain", Key="after", Body=b"from the writer")
        end = wait_shipped(writer)["s3_hwm"]
        wait_applied(follower, end)
        assert f.get_object(Bucket="plain", Key="after")["Body"].read() == b"from the writer"
        # `s3ish admin tier status` and `verify` on a follower.
        r = subprocess.run([sys.executable, "-m", "s3ish", "admin", "tier", "status",
                            "--endpoint", follower.endpoint], capture_output=True, text=True,
                           timeout=60, env={**os.environ, "S3ISH_ROOT_USER": ROOT_USER,
                                            "S3ISH_ROOT_PASSWORD": ROOT_PASSWORD})
        assert r.returncode == 0, r.stderr
        shown = {(words := line.split(None, 1))[0]: words[1] if len(words) > 1 else ""
                 for line in r.stdout.splitlines()}
        assert shown["applied_lsn"] == shown["s3_hwm"] == str(end)
        assert shown["role"] == "follower" and shown["lag_records"] == "0"
        assert verify(follower)["ok"]
    finally:
        if follower is not None:
            follower.stop()
        writer.stop()


def test_a_follower_stays_within_a_bounded_lag_under_load(s3ish_service, tmp_path):
    """A writer thread PUTs (and overwrites and deletes) for ~10 s (20 s in the bench,
    scripts/bench_tier.py): the follower's
    lag_seconds stays below its interval + the ship interval + slack, every status shows
    it, and once writes stop it reaches 0 with the same objects. Two worker processes: one
    follows, both serve what it applied."""
    import random
    import threading
    service = s3ish_service
    bucket = f"follow-{uuid.uuid4().hex[:12]}"
    service.boto().create_bucket(Bucket=bucket)
    ship, follow = 1.0, 1.0
    writer = tier_server(str(tmp_path / "writer"), tmp_path, service, bucket, prefix=PREFIX,
                         interval=ship, extra=["--scrub-rate", "0"]).start()
    follower = None
    try:
        w = writer.client()
        w.create_bucket(Bucket="load")
        w.put_object(Bucket="load", Key="first", Body=b"before the follower")
        wait_shipped(writer)
        follower = follower_server(str(tmp_path / "follower"), tmp_path, service, bucket,
                                   interval=follow, workers=2).start()
        wait_applied(follower, status(writer)["s3_hwm"])
        stop, errors = threading.Event(), []

        def load():
            rng, n = random.Random(5), 0
            c = writer.client()
            try:
                while not stop.is_set():
                    key = f"k{rng.randrange(200)}"
                    if rng.random() < 0.1:
                        c.delete_object(Bucket="load", Key=key)
                    else:
                        c.put_object(Bucket="load", Key=key,
                                     Body=os.urandom(rng.choice([100, 20_000, 300_000])))
                    n += 1
            except Exception as e:      # reported by the test, not lost in the thread
                errors.append(e)
        thread = threading.Thread(target=load)
        thread.start()
        lags, started = [], time.time()
        try:
            while time.time() - started < 10:
                doc = status(follower)
                lags.append(doc["lag_seconds"])
                assert doc["state"] == "following", doc
                time.sleep(0.5)
        finally:
            stop.set()
            thread.join()
        assert not errors, errors
        bound = follow + ship + 6.0
        assert max(lags) < bound, (max(lags), lags)
        assert any(lag > 0 for lag in lags)          # it did measure something
        end = wait_shipped(writer)["s3_hwm"]
        doc = wait_applied(follower, end, timeout=30)
        assert doc["lag_seconds"] == 0 and doc["lag_records"] == 0 and doc["lag_bytes"] == 0
        assert doc["s3_hwm"] == doc["log_end_lsn"] == doc["applied_lsn"] == end
        assert doc["pending_uploads"] == 0 and doc["failing_uploads"] == 0
        f, expected = follower.client(), state(w)
        for _ in range(2):                    # whichever worker process answers
            assert state(f) == expected
        print(f"follower lag under load: max {max(lags):.2f} s, bound {bound} s")
    finally:
        if follower is not None:
            follower.stop()
        writer.stop()


def test_a_follower_resumes_after_a_restart_and_refuses_what_is_not_its(s3ish_service,
                                                                       tmp_path):
    """A follower on four drives, stopped while the writer goes on: started again it
    resumes from its position (no new bootstrap) and catches up. Refused with one line: a
    server without --follow-tier on its drives, --follow-tier on another tier or on a
    folder with data of its own, and a follower's folder written since without it."""
    import shutil
    service = s3ish_service
    bucket = f"follow-{uuid.uuid4().hex[:12]}"
    service.boto().create_bucket(Bucket=bucket)
    writer = tier_server(str(tmp_path / "writer"), tmp_path, service, bucket, prefix=PREFIX,
                         extra=["--compression", "on", "--scrub-rate", "0"]).start()
    drives = [str(tmp_path / f"f{i}") for i in range(1, 5)]
    tier_args = ["--tier-endpoint", service.endpoint, "--tier-bucket", bucket,
                 "--tier-prefix", PREFIX]
    tier_env = {"S3ISH_TIER_ACCESS_KEY": service.access_key,
                "S3ISH_TIER_SECRET_KEY": service.secret_key}
    try:
        w = writer.client()
        _phase_a1(w)
        _phase_a2(w)
        follower = follower_server(drives, tmp_path, service, bucket).start()
        try:
            wait_applied(follower, wait_shipped(writer)["s3_hwm"])
            assert state(follower.client()) == state(w)
        finally:
            follower.stop()
        marker = os.path.join(drives[0], ".s3ish", "tier", "follower.json")
        with open(marker) as fh:
            bootstrapped = json.load(fh)["bootstrap_lsn"]
        _phase_b(w)
        _phase_c(w)
        hwm = wait_shipped(writer)["s3_hwm"]

        line = start_refused(drives, [])
        assert "read-only follower of the cold tier" in line and "--follow-tier" in line
        line = start_refused(drives, [*tier_args[:-1], "other/", "--follow-tier"], tier_env)
        assert "follows the cold tier" in line and "not" in line
        line = start_refused(str(tmp_path / "writer2"), ["--follow-tier"])
        assert "--follow-tier needs the tier" in line
        os.makedirs(str(tmp_path / "own"))
        with open(str(tmp_path / "own" / "meta.sqlite3"), "wb"):
            pass
        line = start_refused(str(tmp_path / "own"), [*tier_args, "--follow-tier"], tier_env)
        assert "holds data of its own" in line

        follower = follower_server(drives, tmp_path, service, bucket).start()
        try:
            wait_applied(follower, hwm)
            assert state(follower.client()) == state(w)
            assert "bootstrapping" not in follower.read_log().split("listening on")[-1]
        finally:
            follower.stop()
        with open(marker) as fh:
            doc = json.load(fh)
        assert doc["bootstrap_lsn"] == bootstrapped and doc["applied_lsn"] == hwm

        # Written since without --follow-tier (its marker put aside): never a follower again.
        shutil.move(marker, marker + ".aside")
        from tests.support import ServerProcess
        plain = ServerProcess(drives, str(tmp_path), extra_args=["--scrub-rate", "0"]).start()
        try:
            plain.client().put_object(Bucket="plain", Key="local", Body=b"of its own")
        finally:
            plain.stop()
        shutil.move(marker + ".aside", marker)
        line = start_refused(drives, [*tier_args, "--follow-tier"], tier_env)
        assert "holds writes of its own" in line
    finally:
        writer.stop()


def test_a_follower_rides_out_a_remote_that_is_down(s3ish_service, tmp_path):
    """The follower reaches the tier through the fault proxy, which goes down while the
    writer (which reaches it directly) goes on: the follower keeps serving what it has, its
    status shows the failing reads and a growing lag; once the tier answers again it
    catches up."""
    from tests.tierproxy import FaultProxy
    service = s3ish_service
    bucket = f"follow-{uuid.uuid4().hex[:12]}"
    service.boto().create_bucket(Bucket=bucket)
    proxy = FaultProxy(service.port).start()
    writer = tier_server(str(tmp_path / "writer"), tmp_path, service, bucket, prefix=PREFIX,
                         extra=["--scrub-rate", "0"]).start()
    follower = None
    try:
        w = writer.client()
        _phase_a1(w)
        hwm = wait_shipped(writer)["s3_hwm"]
        follower = follower_server(str(tmp_path / "follower"), tmp_path, service, bucket,
                                   endpoint=proxy.endpoint).start()
        wait_applied(follower, hwm)
        before = state(follower.client())
        proxy.down()
        _phase_a2(w)
        _phase_b(w)
        end = wait_shipped(writer)["s3_hwm"]
        deadline = time.time() + 30
        while True:
            doc = status(follower)
            if doc["failing_uploads"] >= 1 and doc["lag_seconds"] > 3:
                break
            assert time.time() < deadline, doc
            time.sleep(0.3)
        assert doc["applied_lsn"] == hwm < end and doc["state"] == "following"
        assert state(follower.client()) == before        # serving what it has
        time.sleep(1.5)
        assert status(follower)["lag_seconds"] > doc["lag_seconds"]     # and growing
        proxy.up()
        doc = wait_applied(follower, end, timeout=90)
        assert doc["failing_uploads"] == 0 and doc["lag_seconds"] < 5
        assert state(follower.client()) == state(w)
    finally:
        if follower is not None:
            follower.stop()
        writer.stop()
        proxy.stop()


def test_a_follower_follows_a_takeover_and_stops_on_a_fork(s3ish_service, tmp_path):
    """The writer is lost and restored from the tier at its high-water mark: the restored
    server ships as generation 2, and the follower, whose records that timeline keeps,
    follows it. Restored again to an earlier position (generation 3 from there), the
    tier's timeline no longer holds records the follower applied: it stops following,
    says so in its status, log and metrics, and serves what it has."""
    import requests

    from s3ish.admin.client import sign_headers
    from tests.tier.test_restore import restore
    service = s3ish_service
    bucket = f"follow-{uuid.uuid4().hex[:12]}"
    service.boto().create_bucket(Bucket=bucket)
    writer = tier_server(str(tmp_path / "a"), tmp_path, service, bucket, prefix=PREFIX,
                         extra=["--scrub-rate", "0"]).start()
    follower = None
    try:
        w = writer.client()
        _phase_a1(w)
        _phase_a2(w)
        first = wait_shipped(writer)["s3_hwm"]
        writer.stop()
        follower = follower_server(str(tmp_path / "follower"), tmp_path, service,
                                   bucket).start()
        wait_applied(follower, first)

        restore(service, bucket, [str(tmp_path / "b")], prefix=PREFIX)
        writer = tier_server(str(tmp_path / "b"), tmp_path, service, bucket, prefix=PREFIX,
                             extra=["--scrub-rate", "0"]).start()
        w = writer.client()
        _phase_b(w)
        second = wait_shipped(writer)["s3_hwm"]
        assert manifest(service, bucket, PREFIX)["generation"] == 2
        doc = wait_applied(follower, second)
        assert doc["generation"] == 2 and state(follower.client()) == state(w)
        assert "following generation 2" in follower.read_log()
        followed = state(follower.client())
        writer.stop()

        restore(service, bucket, [str(tmp_path / "c")], "--to-lsn", str(first),
                prefix=PREFIX)
        writer = tier_server(str(tmp_path / "c"), tmp_path, service, bucket, prefix=PREFIX,
                             extra=["--scrub-rate", "0"]).start()
        writer.client().put_object(Bucket="plain", Key="third", Body=b"generation 3")
        wait_shipped(writer)
        assert manifest(service, bucket, PREFIX)["generation"] == 3
        deadline = time.time() + 30
        while (doc := status(follower))["state"] != "stopped":
            assert time.time() < deadline, doc
            time.sleep(0.3)
        assert "does not hold them" in doc["error"] and "fresh bootstrap" in doc["error"]
        assert doc["applied_lsn"] == second
        assert "following stopped for good" in follower.read_log()
        url = follower.endpoint + "/_metrics"
        text = requests.get(url, headers=sign_headers("GET", url, ROOT_USER, ROOT_PASSWORD,
                                                      "us-east-1"), timeout=30).text
        assert "s3ish_tier_follow_stopped 1.0" in text
        assert state(follower.client()) == followed      # what it had, still served
    finally:
        if follower is not None:
            follower.stop()
        writer.stop()
