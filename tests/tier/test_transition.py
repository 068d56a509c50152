"""Lifecycle transitions to the cold tier, end to end: a server with tier flags (against moto
or a second s3ish, through the fault proxy), a lifecycle day of a second
(--lifecycle-day-seconds 1), Transition rules to GLACIER_IR. The data leaves the folder, the
tier holds data/<id>, GET and HEAD read through (ranges fetch only what they need, counted at
the proxy), encrypted and compressed units leave as stored, versions keep their ids,
RestoreObject keeps a copy for its days; a kill -9 between the upload and the record, the
tier down, a racing overwrite, and `s3ish restore` after transitions."""
import hashlib
import json
import os
import shutil
import sqlite3
import threading
import time
import uuid

import pytest
import requests
from botocore.exceptions import ClientError

from s3ish.storage import kms as kms_mod
from tests.support import signed_request
from tests.tier.shipping import admin, tier_server, wait_shipped
from tests.tier.test_restore import restore

DAY = 1.0
GIR = "GLACIER_IR"
PREFIX = "t/"
MIB = 1 << 20


@pytest.fixture
def tier_bucket(service):
    name = f"tr-{uuid.uuid4().hex[:12]}"
    service.boto().create_bucket(Bucket=name)
    return name


def server(data, tmp_path, service, tier_bucket, proxy=None, extra=(), env=None):
    return tier_server(str(data), tmp_path, service, tier_bucket,
                       endpoint=proxy.endpoint if proxy else None, prefix=PREFIX,
                       interval=0.5, extra=["--lifecycle-day-seconds", str(DAY), *extra],
                       env=env)


def transition_rule(c, bucket, prefix="", days=1, noncurrent=None):
    rule = {"ID": "to-tier", "Filter": {"Prefix": prefix}, "Status": "Enabled",
            "Transitions": [{"Days": days, "StorageClass": GIR}]}
    if noncurrent is not None:
        rule["NoncurrentVersionTransitions"] = [noncurrent]
        del rule["Transitions"]
    c.put_bucket_lifecycle_configuration(Bucket=bucket,
                                         LifecycleConfiguration={"Rules": [rule]})


def parts(folder, bucket, key, version_id=None) -> list[dict]:
    """The record's data units of a version, read from the index."""
    db = sqlite3.connect(f"file:{os.path.join(folder, 'meta.sqlite3')}?mode=ro", uri=True)
    try:
        rows = db.execute("SELECT meta FROM objects WHERE bucket=? AND key=? UNION ALL "
                          "SELECT meta FROM versions WHERE bucket=? AND key=?",
                          (bucket, key, bucket, key)).fetchall()
    finally:
        db.close()
    for (meta,) in rows:
        doc = json.loads(meta)
        if version_id is None or doc["version_id"] == version_id:
            return doc["parts"]
    raise KeyError(key)


def local_units(*folders) -> set[str]:
    """Data ids with a file in the folders (a unit's own, or a shard `<id>.<n>` on drives)."""
    out = set()
    for folder in folders:
        root = os.path.join(folder, "objects")
        out |= {name.split(".")[0] for sub in os.listdir(root)
                for name in os.listdir(os.path.join(root, sub))}
    return out


def remote_size(service, tier_bucket, data_id) -> int | None:
    try:
        return service.boto().head_object(Bucket=tier_bucket,
                                          Key=f"{PREFIX}data/{data_id}")["ContentLength"]
    except ClientError:
        return None


def wait_for(predicate, timeout=30.0, what=""):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    assert predicate(), f"timed out waiting for {what or predicate}"


def storage_class(c, bucket, key, **kw) -> str:
    return c.head_object(Bucket=bucket, Key=key, **kw).get("StorageClass", "STANDARD")


def moved(c, bucket, key, **kw) -> bool:
    return storage_class(c, bucket, key, **kw) == GIR


def lifecycle_pass(srv) -> dict:
    code, doc = admin(srv, "/_admin/lifecycle", "POST")
    assert code == 200, doc
    return doc["lifecycle"]


def data_gets(proxy) -> list[tuple[str, str | None, int]]:
    """(data id, Range, body bytes) of each GET of a data unit that went through the proxy."""
    return [(target.rsplit("/", 1)[-1], rng, size)
            for method, target, rng, status, size in proxy.exchanges
            if method == "GET" and "/data/" in target]


def multipart(c, bucket, key, pieces) -> None:
    up = c.create_multipart_upload(Bucket=bucket, Key=key)["UploadId"]
    done = [{"PartNumber": n, "ETag": c.upload_part(Bucket=bucket, Key=key, UploadId=up,
                                                    PartNumber=n, Body=p)["ETag"]}
            for n, p in enumerate(pieces, 1)]
    c.complete_multipart_upload(Bucket=bucket, Key=key, UploadId=up,
                                MultipartUpload={"Parts": done})


# ---- the main flow, on both remotes ----

def test_transition_moves_the_data_and_reads_through(service, tier_bucket, proxy, tmp_path):
    data = tmp_path / "data"
    srv = server(data, tmp_path, service, tier_bucket, proxy).start()
    try:
        c = srv.client()
        c.create_bucket(Bucket="bkt")
        big = os.urandom(3 * MIB + 17)
        pieces = [os.urandom(5 * MIB), os.urandom(5 * MIB), os.urandom(MIB + 3)]
        whole = b"".join(pieces)
        c.put_object(Bucket="bkt", Key="big", Body=big, ContentType="application/x-test",
                     Metadata={"color": "blue"}, Tagging="t=1")
        multipart(c, "bkt", "multi", pieces)
        c.put_object(Bucket="bkt", Key="small", Body=b"a small object, kept in its record")
        before = {k: c.head_object(Bucket="bkt", Key=k) for k in ("big", "multi")}
        units = {k: [p["data_id"] for p in parts(data, "bkt", k)] for k in ("big", "multi")}
        transition_rule(c, "bkt")
        wait_for(lambda: moved(c, "bkt", "big") and moved(c, "bkt", "multi"), what="transition")
        assert storage_class(c, "bkt", "small") == "STANDARD"      # under 128 KiB: stays
        for key, ids in units.items():
            assert all(p["remote"] for p in parts(data, "bkt", key))
            for data_id in ids:
                assert remote_size(service, tier_bucket, data_id) is not None
        # The local copies go once the shipper is past the record (the graveyard).
        gone = set(units["big"] + units["multi"])
        wait_for(lambda: not gone & local_units(data), what="local units freed")
        # Metadata, ETag, version and tags as they were; the class is the tier's.
        for key in ("big", "multi"):
            h = c.head_object(Bucket="bkt", Key=key)
            assert (h["ETag"], h["ContentLength"], h["LastModified"]) == \
                (before[key]["ETag"], before[key]["ContentLength"],
                 before[key]["LastModified"])
            assert h["StorageClass"] == GIR and "Restore" not in h
        assert c.head_object(Bucket="bkt", Key="big")["Metadata"] == {"color": "blue"}
        assert c.get_object_tagging(Bucket="bkt", Key="big")["TagSet"] == \
            [{"Key": "t", "Value": "1"}]
        listed = {o["Key"]: o["StorageClass"]
                  for o in c.list_objects_v2(Bucket="bkt")["Contents"]}
        assert listed == {"big": GIR, "multi": GIR, "small": "STANDARD"}
        # Read-through, byte-exact.
        assert c.get_object(Bucket="bkt", Key="big")["Body"].read() == big
        assert c.get_object(Bucket="bkt", Key="multi")["Body"].read() == whole
        # A range inside the second part fetches those bytes of that unit only.
        proxy.exchanges.clear()
        start = 5 * MIB + 1000
        got = c.get_object(Bucket="bkt", Key="multi",
                           Range=f"bytes={start}-{start + 99_999}")
        assert got["Body"].read() == whole[start:start + 100_000]
        assert data_gets(proxy) == [(units["multi"][1], "bytes=1000-100999", 100_000)]
        proxy.exchanges.clear()
        got = c.get_object(Bucket="bkt", Key="multi", PartNumber=3)
        assert got["Body"].read() == pieces[2]
        reads = data_gets(proxy)          # 1 MiB blocks, of that unit only
        assert {i for i, _, _ in reads} == {units["multi"][2]}
        assert sum(n for _, _, n in reads) == MIB + 3
        assert c.get_object(Bucket="bkt", Key="big", Range="bytes=-10")["Body"].read() == \
            big[-10:]
        # A copy reads through too and lands here, STANDARD.
        c.copy_object(Bucket="bkt", Key="copy", CopySource={"Bucket": "bkt", "Key": "big"})
        assert c.get_object(Bucket="bkt", Key="copy")["Body"].read() == big
        assert storage_class(c, "bkt", "copy") == "STANDARD"
    finally:
        srv.stop()


# ---- on a second s3ish ----

@pytest.fixture
def s3ish_bucket(s3ish_service):
    name = f"tr-{uuid.uuid4().hex[:12]}"
    s3ish_service.boto().create_bucket(Bucket=name)
    return name


@pytest.fixture
def s3ish_proxy(s3ish_service):
    from tests.tierproxy import FaultProxy
    p = FaultProxy(s3ish_service.port).start()
    yield p
    p.stop()


MARKER = b"PLAINTEXT-MARKER-0123456789"
TEXT = b"".join(MARKER + b" %08d a compressible line\n" % i for i in range(60000))   # 3 MB


def remote_bytes(service, tier_bucket, data_id) -> bytes:
    return service.boto().get_object(Bucket=tier_bucket,
                                     Key=f"{PREFIX}data/{data_id}")["Body"].read()


def test_encrypted_and_compressed_objects_leave_as_stored(s3ish_service, s3ish_bucket,
                                                          s3ish_proxy, tmp_path):
    keyring = str(tmp_path / "keyring.json")
    kms_mod.create_key(keyring, "key-one")
    data = tmp_path / "data"
    srv = server(data, tmp_path, s3ish_service, s3ish_bucket, s3ish_proxy,
                 extra=["--kms-keyring", keyring, "--compression", "on",
                        "--allow-insecure-sse-c"]).start()
    customer = {"SSECustomerAlgorithm": "AES256", "SSECustomerKey": os.urandom(32)}
    try:
        c = srv.client()
        c.create_bucket(Bucket="enc")
        c.put_object(Bucket="enc", Key="sse-s3", Body=TEXT, ServerSideEncryption="AES256")
        c.put_object(Bucket="enc", Key="sse-c", Body=TEXT, **customer)
        c.put_object(Bucket="enc", Key="zstd", Body=TEXT)
        double = TEXT + TEXT
        up = c.create_multipart_upload(Bucket="enc", Key="mp", ServerSideEncryption="AES256")
        done = [{"PartNumber": n, "ETag": c.upload_part(
            Bucket="enc", Key="mp", UploadId=up["UploadId"], PartNumber=n, Body=p)["ETag"]}
            for n, p in enumerate((double[:5 * MIB], double[5 * MIB:]), 1)]
        c.complete_multipart_upload(Bucket="enc", Key="mp", UploadId=up["UploadId"],
                                    MultipartUpload={"Parts": done})
        units = {k: parts(data, "enc", k) for k in ("sse-s3", "sse-c", "zstd")}
        mp_units = {p["data_id"] for p in parts(data, "enc", "mp")}
        assert units["zstd"][0]["compression"] == "zstd" and units["sse-s3"][0]["sse_key"]
        transition_rule(c, "enc")
        wait_for(lambda: all(moved(c, "enc", k, **({"SSECustomerAlgorithm": "AES256",
                                                    "SSECustomerKey": customer[
                                                        "SSECustomerKey"]}
                                                   if k == "sse-c" else {}))
                             for k in units), what="transitions")
        for key, [p] in units.items():
            stored = remote_bytes(s3ish_service, s3ish_bucket, p["data_id"])
            assert MARKER not in stored                   # sealed, or compressed
            assert len(stored) < len(TEXT)                # compressed before sealing
        wait_for(lambda: moved(c, "enc", "mp"), what="multipart transition")
        gone = {u[0]["data_id"] for u in units.values()} | mp_units
        wait_for(lambda: not gone & local_units(data), what="local units freed")
        edge = 5 * MIB - 50          # a range across the two sealed, compressed parts
        got = c.get_object(Bucket="enc", Key="mp", Range=f"bytes={edge}-{edge + 99}")
        assert got["Body"].read() == double[edge:edge + 100]
        assert c.get_object(Bucket="enc", Key="mp")["Body"].read() == double
        for key in ("sse-s3", "zstd"):
            assert c.get_object(Bucket="enc", Key=key)["Body"].read() == TEXT
            got = c.get_object(Bucket="enc", Key=key, Range="bytes=2000000-2000099")
            assert got["Body"].read() == TEXT[2000000:2000100]
        assert c.head_object(Bucket="enc", Key="sse-s3")["ServerSideEncryption"] == "AES256"
        assert c.get_object(Bucket="enc", Key="sse-c", **customer)["Body"].read() == TEXT
        got = c.get_object(Bucket="enc", Key="sse-c", Range="bytes=100-199", **customer)
        assert got["Body"].read() == TEXT[100:200]
        with pytest.raises(ClientError) as e:
            c.get_object(Bucket="enc", Key="sse-c")           # the key is still needed
        assert e.value.response["Error"]["Code"] == "InvalidRequest"
    finally:
        srv.stop()


def test_versions_keep_their_ids_and_noncurrent_versions_move(s3ish_service, s3ish_bucket,
                                                              tmp_path):
    data = tmp_path / "data"
    srv = server(data, tmp_path, s3ish_service, s3ish_bucket).start()
    try:
        c = srv.client()
        c.create_bucket(Bucket="ver")
        c.put_bucket_versioning(Bucket="ver", VersioningConfiguration={"Status": "Enabled"})
        bodies = [os.urandom(200_000 + i) for i in range(3)]
        ids = [c.put_object(Bucket="ver", Key="k", Body=b)["VersionId"] for b in bodies]
        transition_rule(c, "ver", noncurrent={"NoncurrentDays": 1, "StorageClass": GIR,
                                              "NewerNoncurrentVersions": 1})
        # The oldest moves; the newest noncurrent one is kept in place, the current too.
        wait_for(lambda: moved(c, "ver", "k", VersionId=ids[0]), what="noncurrent move")
        time.sleep(3 * DAY)
        lifecycle_pass(srv)
        assert storage_class(c, "ver", "k", VersionId=ids[1]) == "STANDARD"
        assert storage_class(c, "ver", "k") == "STANDARD"
        listed = c.list_object_versions(Bucket="ver")["Versions"]
        assert [(v["VersionId"], v["StorageClass"]) for v in listed] == \
            [(ids[2], "STANDARD"), (ids[1], "STANDARD"), (ids[0], GIR)]
        for vid, body in zip(ids, bodies):
            assert c.get_object(Bucket="ver", Key="k", VersionId=vid)["Body"].read() == body
        # A delete marker on top: the moved version is still there, by its id.
        c.delete_object(Bucket="ver", Key="k")
        assert c.get_object(Bucket="ver", Key="k", VersionId=ids[0])["Body"].read() == \
            bodies[0]
    finally:
        srv.stop()


def error_of(call, **kw) -> tuple[int, str]:
    with pytest.raises(ClientError) as e:
        call(**kw)
    return e.value.response["ResponseMetadata"]["HTTPStatusCode"], \
        e.value.response["Error"]["Code"]


def test_restore_object_keeps_a_copy_for_its_days(s3ish_service, s3ish_bucket, s3ish_proxy,
                                                  tmp_path):
    data = tmp_path / "data"
    srv = server(data, tmp_path, s3ish_service, s3ish_bucket, s3ish_proxy).start()
    proxy = s3ish_proxy
    try:
        c = srv.client()
        c.create_bucket(Bucket="rst")
        body = os.urandom(700_000)
        c.put_object(Bucket="rst", Key="cold/k", Body=body)
        c.put_object(Bucket="rst", Key="warm", Body=body)
        [unit] = parts(data, "rst", "cold/k")
        transition_rule(c, "rst", prefix="cold/")
        wait_for(lambda: moved(c, "rst", "cold/k"), what="transition")
        wait_for(lambda: unit["data_id"] not in local_units(data), what="local unit freed")
        assert error_of(c.restore_object, Bucket="rst", Key="warm",
                        RestoreRequest={"Days": 1}) == (403, "InvalidObjectState")
        for bad in ({"Days": 0}, {"Days": -3}):
            assert error_of(c.restore_object, Bucket="rst", Key="cold/k",
                            RestoreRequest=bad) == (400, "InvalidArgument")
        assert error_of(c.restore_object, Bucket="rst", Key="cold/k",
                        RestoreRequest={"GlacierJobParameters": {"Tier": "Bulk"}}) == \
            (400, "MalformedXML")
        # The tier down: the restore stays in progress, and a read through fails with 503.
        proxy.down()
        r = c.restore_object(Bucket="rst", Key="cold/k",
                             RestoreRequest={"Days": 2,
                                             "GlacierJobParameters": {"Tier": "Standard"}})
        assert r["ResponseMetadata"]["HTTPStatusCode"] == 202
        assert c.head_object(Bucket="rst", Key="cold/k")["Restore"] == 'ongoing-request="true"'
        assert error_of(c.restore_object, Bucket="rst", Key="cold/k",
                        RestoreRequest={"Days": 2}) == (409, "RestoreAlreadyInProgress")
        assert error_of(c.get_object, Bucket="rst", Key="cold/k") == \
            (503, "ServiceUnavailable")
        proxy.up()
        wait_for(lambda: c.head_object(Bucket="rst", Key="cold/k").get("Restore", "")
                 .startswith('ongoing-request="false", expiry-date="'), what="restored")
        [p] = parts(data, "rst", "cold/k")
        assert p["remote"] and p["restored"] in local_units(data)
        # Reads use the copy: nothing from the tier, even while it is down.
        proxy.exchanges.clear()
        proxy.down()
        assert c.get_object(Bucket="rst", Key="cold/k")["Body"].read() == body
        got = c.get_object(Bucket="rst", Key="cold/k", Range="bytes=100-199")
        assert got["Body"].read() == body[100:200]
        proxy.up()
        assert data_gets(proxy) == []
        # Asked again while it is kept: 200, kept Days from now.
        r = c.restore_object(Bucket="rst", Key="cold/k", RestoreRequest={"Days": 3})
        assert r["ResponseMetadata"]["HTTPStatusCode"] == 200
        assert c.head_object(Bucket="rst", Key="cold/k")["StorageClass"] == GIR
        # Its time up, the copy goes; the tier's stays and is read again.
        wait_for(lambda: "Restore" not in c.head_object(Bucket="rst", Key="cold/k"),
                 timeout=20, what="restore expiry")
        wait_for(lambda: not parts(data, "rst", "cold/k")[0]["restored"],
                 what="ExpireRestore recorded")
        wait_for(lambda: p["restored"] not in local_units(data), what="copy freed")
        proxy.exchanges.clear()
        assert c.get_object(Bucket="rst", Key="cold/k")["Body"].read() == body
        assert {i for i, _, _ in data_gets(proxy)} == {unit["data_id"]}
        assert remote_size(s3ish_service, s3ish_bucket, unit["data_id"]) == len(body)
    finally:
        srv.stop()


def test_on_four_drives(s3ish_service, s3ish_bucket, tmp_path):
    """Erasure-coded drives: every shard of a moved unit goes; a restored copy is a unit of
    its own there (shard headers of kind "copy")."""
    drives = [str(tmp_path / f"d{i}") for i in range(4)]
    srv = tier_server(drives, tmp_path, s3ish_service, s3ish_bucket, prefix=PREFIX,
                      interval=0.5, extra=["--lifecycle-day-seconds", str(DAY),
                                           "--scrub-rate", "0"]).start()
    pieces = [os.urandom(5 * MIB), os.urandom(MIB + 1)]
    whole = b"".join(pieces)
    try:
        c = srv.client()
        c.create_bucket(Bucket="drv")
        multipart(c, "drv", "m", pieces)
        ids = {p["data_id"] for p in parts(drives[0], "drv", "m")}
        assert ids <= local_units(*drives)
        transition_rule(c, "drv")
        wait_for(lambda: moved(c, "drv", "m"), what="transition")
        wait_for(lambda: not ids & local_units(*drives), what="shards freed")
        assert c.get_object(Bucket="drv", Key="m")["Body"].read() == whole
        got = c.get_object(Bucket="drv", Key="m", Range=f"bytes={5 * MIB - 5}-{5 * MIB + 4}")
        assert got["Body"].read() == whole[5 * MIB - 5:5 * MIB + 5]
        r = c.restore_object(Bucket="drv", Key="m", RestoreRequest={"Days": 5})
        assert r["ResponseMetadata"]["HTTPStatusCode"] == 202
        wait_for(lambda: 'ongoing-request="false"' in
                 c.head_object(Bucket="drv", Key="m").get("Restore", ""), what="restored")
        copies = {p["restored"] for p in parts(drives[0], "drv", "m")}
        assert len(copies) == 2 and copies <= local_units(*drives)
        assert c.get_object(Bucket="drv", Key="m")["Body"].read() == whole
    finally:
        srv.stop()


# ---- failures ----

HOLD = "S3ISH_TEST_TRANSITION_HOLD"


def wait_log(srv, text: str, timeout: float = 30.0) -> None:
    wait_for(lambda: text in srv.read_log(), timeout, what=text)


def test_kill9_between_the_upload_and_the_record(s3ish_service, s3ish_bucket, s3ish_proxy,
                                                 tmp_path):
    """Killed after the upload, before the record: the object is read from the folder; the
    next run finds the unit in the tier (HEAD, no second upload) and completes."""
    data = tmp_path / "data"
    srv = server(data, tmp_path, s3ish_service, s3ish_bucket, s3ish_proxy,
                 env={HOLD: "60"}).start()
    body = os.urandom(2 * MIB + 5)
    try:
        c = srv.client()
        c.create_bucket(Bucket="kill")
        c.put_object(Bucket="kill", Key="k", Body=body)
        [unit] = parts(data, "kill", "k")
        transition_rule(c, "kill")
        wait_log(srv, "holding")
        assert remote_size(s3ish_service, s3ish_bucket, unit["data_id"]) == len(body)
    finally:
        srv.kill9()
    assert not parts(data, "kill", "k")[0]["remote"]
    assert unit["data_id"] in local_units(data)
    s3ish_proxy.exchanges.clear()
    srv = server(data, tmp_path, s3ish_service, s3ish_bucket, s3ish_proxy).start()
    try:
        c = srv.client()
        assert c.get_object(Bucket="kill", Key="k")["Body"].read() == body
        wait_for(lambda: moved(c, "kill", "k"), what="transition after the restart")
        assert not [x for x in s3ish_proxy.exchanges
                    if x[0] == "PUT" and x[1].endswith(unit["data_id"])]
        wait_for(lambda: unit["data_id"] not in local_units(data), what="local unit freed")
        assert c.get_object(Bucket="kill", Key="k")["Body"].read() == body
    finally:
        srv.stop()


def test_a_local_copy_left_after_the_record_is_swept(s3ish_service, s3ish_bucket, tmp_path):
    """Killed after the record, before the free: the local copy is garbage; the start-up
    sweep buries it (the graveyard) and the shipper removes it."""
    data = tmp_path / "data"
    srv = server(data, tmp_path, s3ish_service, s3ish_bucket).start()
    body = os.urandom(300_000)
    try:
        c = srv.client()
        c.create_bucket(Bucket="left")
        c.put_object(Bucket="left", Key="k", Body=body)
        [unit] = parts(data, "left", "k")
        path = os.path.join(data, "objects", unit["data_id"][-2:], unit["data_id"])
        kept = open(path, "rb").read()
        transition_rule(c, "left")
        wait_for(lambda: moved(c, "left", "k"), what="transition")
        wait_for(lambda: unit["data_id"] not in local_units(data), what="local unit freed")
    finally:
        srv.kill9()
    with open(path, "wb") as f:           # as if the free had never happened
        f.write(kept)
    srv = server(data, tmp_path, s3ish_service, s3ish_bucket).start()
    try:
        wait_for(lambda: unit["data_id"] not in local_units(data), what="swept")
        assert srv.client().get_object(Bucket="left", Key="k")["Body"].read() == body
    finally:
        srv.stop()


def test_tier_down_during_a_transition_frees_nothing(s3ish_service, s3ish_bucket,
                                                     s3ish_proxy, tmp_path):
    data = tmp_path / "data"
    srv = server(data, tmp_path, s3ish_service, s3ish_bucket, s3ish_proxy).start()
    body = os.urandom(MIB)
    try:
        c = srv.client()
        c.create_bucket(Bucket="down")
        c.put_object(Bucket="down", Key="k", Body=body)
        [unit] = parts(data, "down", "k")
        s3ish_proxy.down()
        transition_rule(c, "down")
        time.sleep(2.5 * DAY)
        assert lifecycle_pass(srv)["transitioned"] == 0
        assert storage_class(c, "down", "k") == "STANDARD"
        assert unit["data_id"] in local_units(data)
        assert c.get_object(Bucket="down", Key="k")["Body"].read() == body
        assert "lifecycle: transition of down/k" in srv.read_log()
        s3ish_proxy.up()
        wait_for(lambda: moved(c, "down", "k"), timeout=90, what="transition once up")
        assert c.get_object(Bucket="down", Key="k")["Body"].read() == body
    finally:
        srv.stop()


def test_a_racing_overwrite_wins(s3ish_service, s3ish_bucket, tmp_path):
    """The key is overwritten while its old version's units are being moved: the new version
    is the key's, whole; the old one's record does nothing."""
    data = tmp_path / "data"
    srv = server(data, tmp_path, s3ish_service, s3ish_bucket, env={HOLD: "3"}).start()
    old, new = os.urandom(400_000), os.urandom(500_000)
    try:
        c = srv.client()
        c.create_bucket(Bucket="race")
        c.put_object(Bucket="race", Key="k", Body=old)
        [first] = parts(data, "race", "k")
        transition_rule(c, "race")
        wait_log(srv, "holding")
        etag = c.put_object(Bucket="race", Key="k", Body=new)["ETag"]
        [second] = parts(data, "race", "k")
        wait_for(lambda: srv.read_log().count("holding") >= 2 or
                 "moved to the cold tier" in srv.read_log(), timeout=20,
                 what="the first transition over")
        h = c.head_object(Bucket="race", Key="k")
        assert h["ETag"] == etag and h["ContentLength"] == len(new)
        assert c.get_object(Bucket="race", Key="k")["Body"].read() == new
        assert second["data_id"] in local_units(data) or \
            parts(data, "race", "k")[0]["remote"]
        # The new version moves in its turn; nothing of it is lost.
        wait_for(lambda: moved(c, "race", "k"), timeout=30, what="the new version moved")
        assert c.get_object(Bucket="race", Key="k")["Body"].read() == new
        assert parts(data, "race", "k")[0]["data_id"] == second["data_id"] != \
            first["data_id"]
    finally:
        srv.stop()


# ---- s3ish restore ----

def test_s3ish_restore_brings_transitioned_objects_back(s3ish_service, s3ish_bucket,
                                                        tmp_path):
    """Their data stays in the tier (data/<id>): the restore does not fetch it, the restored
    server reads it through."""
    src = tmp_path / "src"
    srv = server(src, tmp_path, s3ish_service, s3ish_bucket).start()
    cold_body, warm_body = os.urandom(2 * MIB), os.urandom(300_000)
    try:
        c = srv.client()
        c.create_bucket(Bucket="rsb")
        c.put_object(Bucket="rsb", Key="cold/k", Body=cold_body)
        c.put_object(Bucket="rsb", Key="warm", Body=warm_body)
        [unit] = parts(src, "rsb", "cold/k")
        transition_rule(c, "rsb", prefix="cold/")
        wait_for(lambda: moved(c, "rsb", "cold/k"), what="transition")
        wait_shipped(srv)
    finally:
        srv.stop()
    shutil.rmtree(src)
    back = tmp_path / "back"
    summary, _ = restore(s3ish_service, s3ish_bucket, [str(back)], prefix=PREFIX)
    assert summary["units"] == 1                        # the warm object's only
    assert unit["data_id"] not in local_units(back)
    srv = server(back, tmp_path, s3ish_service, s3ish_bucket).start()
    try:
        c = srv.client()
        assert c.head_object(Bucket="rsb", Key="cold/k")["StorageClass"] == GIR
        assert c.get_object(Bucket="rsb", Key="cold/k")["Body"].read() == cold_body
        assert c.get_object(Bucket="rsb", Key="warm")["Body"].read() == warm_body
        digest = hashlib.sha256(cold_body).hexdigest()
        got = c.get_object(Bucket="rsb", Key="cold/k", Range="bytes=1000-1999")["Body"]
        assert got.read() == cold_body[1000:2000] and digest
    finally:
        srv.stop()
