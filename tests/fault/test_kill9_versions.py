"""kill -9 under concurrent writers on a versioned bucket, several times over: after each
restart every acknowledged version is listed once by ListObjectVersions and reads back
byte-exact by its version id, every acknowledged delete marker is there, every acknowledged
version delete is gone, and each key's newest entry is its current one."""
import collections
import concurrent.futures
import hashlib
import os
import random
import threading
import time

import botocore.exceptions
import pytest
import urllib3

from tests.support import ServerProcess

BUCKET = "vcrash"
KEYS = [f"k{i}" for i in range(6)]     # few keys, shared by the writers: long histories
FAILED = (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError,
          urllib3.exceptions.HTTPError, OSError)


class Ledger:
    """What the writers were told (acknowledged) and what they tried (maybe committed)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.versions = {}                          # version id -> (key, md5)
        self.markers = {}                           # version id -> key
        self.removed = set()                        # version ids deleted by id
        self.removing = set()                       # deletes sent, maybe not acknowledged
        self.tried = collections.defaultdict(set)   # key -> md5s of every body sent

    def acked_versions(self, key):
        with self.lock:
            return [vid for vid, (k, _) in self.versions.items()
                    if k == key and vid not in self.removed]


def _multipart(c, key, body):
    up = c.create_multipart_upload(Bucket=BUCKET, Key=key)["UploadId"]
    cut = 5 * 1024 * 1024
    etags = [c.upload_part(Bucket=BUCKET, Key=key, UploadId=up, PartNumber=n, Body=chunk)["ETag"]
             for n, chunk in ((1, body[:cut]), (2, body[cut:]))]
    return c.complete_multipart_upload(
        Bucket=BUCKET, Key=key, UploadId=up,
        MultipartUpload={"Parts": [{"PartNumber": n, "ETag": e}
                                   for n, e in enumerate(etags, 1)]})["VersionId"]


def _step(c, ledger, rng, n):
    key = rng.choice(KEYS)
    roll = rng.random()
    if roll < 0.12:
        vid = c.delete_object(Bucket=BUCKET, Key=key)["VersionId"]
        with ledger.lock:
            ledger.markers[vid] = key
    elif roll < 0.2:
        mine = ledger.acked_versions(key)
        if mine:
            vid = rng.choice(mine)
            with ledger.lock:
                ledger.removing.add(vid)
            c.delete_object(Bucket=BUCKET, Key=key, VersionId=vid)
            with ledger.lock:
                ledger.removed.add(vid)
    else:
        size = rng.choice([0, 100, 40_000, 200_000, 1_100_000])
        body = os.urandom(size)
        digest = hashlib.md5(body).hexdigest()
        multipart = n % 25 == 24
        if multipart:
            body += os.urandom(5 * 1024 * 1024)
            digest = hashlib.md5(body).hexdigest()
        with ledger.lock:
            ledger.tried[key].add(digest)
        if multipart:
            vid = _multipart(c, key, body)
        else:
            vid = c.put_object(Bucket=BUCKET, Key=key, Body=body)["VersionId"]
        with ledger.lock:
            ledger.versions[vid] = (key, digest)


def _writer(srv, ledger, wid, stop):
    c = srv.client()
    rng = random.Random(wid * 7919 + int(time.time()))
    n = 0
    while not stop.is_set():
        try:
            _step(c, ledger, rng, n)
        except FAILED:
            return
        n += 1


def _listing(c):
    """(versions, markers) as ListObjectVersions pages them (small pages: the markers
    between pages are exercised too)."""
    versions, markers = [], []
    pages = c.get_paginator("list_object_versions").paginate(
        Bucket=BUCKET, PaginationConfig={"PageSize": 7})
    for page in pages:
        versions += page.get("Versions", [])
        markers += page.get("DeleteMarkers", [])
    return versions, markers


def _check(c, ledger, data):
    versions, markers = _listing(c)
    ids = [v["VersionId"] for v in versions] + [m["VersionId"] for m in markers]
    assert len(ids) == len(set(ids)), "a version is listed twice"
    listed = {v["VersionId"]: v for v in versions}
    for vid, (key, digest) in ledger.versions.items():
        if vid in ledger.removed:
            assert vid not in listed, f"deleted version {vid} came back"
            continue
        if vid in ledger.removing and vid not in listed:
            continue                # its delete may have committed just before the kill
        assert vid in listed and listed[vid]["Key"] == key, f"acknowledged {key} {vid} lost"
    for v in versions:       # acknowledged or not, whatever is listed is whole
        body = c.get_object(Bucket=BUCKET, Key=v["Key"], VersionId=v["VersionId"])["Body"].read()
        digest = hashlib.md5(body).hexdigest()
        if v["VersionId"] in ledger.versions:
            assert digest == ledger.versions[v["VersionId"]][1], v
        else:
            assert digest in ledger.tried[v["Key"]], v
    marked = {m["VersionId"]: m["Key"] for m in markers}
    for vid, key in ledger.markers.items():
        if vid not in ledger.removed:
            assert marked.get(vid) == key, f"acknowledged delete marker {key} {vid} lost"
    by_key = collections.defaultdict(list)
    for e in versions + markers:
        by_key[e["Key"]].append(e)
    for key, entries in by_key.items():
        latest = [e["VersionId"] for e in entries if e["IsLatest"]]
        assert latest == [min(e["VersionId"] for e in entries)], key   # newest sorts first
    tmp = os.path.join(data, "tmp")
    assert not os.path.isdir(tmp) or os.listdir(tmp) == []


@pytest.mark.slow
@pytest.mark.parametrize("layout", ["folder", "drives"])
def test_kill9_versioned_writers(tmp_path, layout):
    data = str(tmp_path / "data") if layout == "folder" else \
        [str(tmp_path / f"d{i}") for i in range(1, 5)]
    first = data if layout == "folder" else data[0]
    srv = ServerProcess(data, str(tmp_path), workers=2).start()
    c = srv.client()
    c.create_bucket(Bucket=BUCKET)
    c.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    ledger = Ledger()
    for rnd in range(3):
        stop = threading.Event()
        goal = len(ledger.versions) + 25
        with concurrent.futures.ThreadPoolExecutor(6) as pool:
            futures = [pool.submit(_writer, srv, ledger, rnd * 10 + i, stop) for i in range(6)]
            deadline = time.time() + 8
            while len(ledger.versions) < goal and time.time() < deadline:
                time.sleep(0.02)
            time.sleep(random.uniform(0, 0.05))
            srv.kill9()
            stop.set()
            for f in futures:
                f.result()
        assert len(ledger.versions) >= goal, "too few writes acknowledged before the crash"
        srv = ServerProcess(data, str(tmp_path), workers=2).start()
        try:
            _check(srv.client(), ledger, first)
        except BaseException:
            srv.stop()
            raise
    assert ledger.markers and ledger.removed
    srv.stop()
