"""kill -9 during UploadPart and during CompleteMultipartUpload: after restart either the whole
object is there, or the upload is still there to complete or abort; nothing torn."""
import hashlib
import os
import random
import threading
import time

import botocore.exceptions
import pytest

from tests.support import ServerProcess

MiB = 1024 * 1024


def _fire(fn):
    """Run a request in a thread; its failure (the server dies under it) is expected."""
    def target():
        try:
            fn()
        except Exception:   # connection reset by the kill
            pass
    t = threading.Thread(target=target)
    t.start()
    return t


@pytest.mark.slow
def test_kill9_during_complete(tmp_path):
    data = str(tmp_path / "data")
    srv = ServerProcess(data, str(tmp_path)).start()
    c = srv.client()
    c.create_bucket(Bucket="mpbucket")
    parts = [os.urandom(5 * MiB) for _ in range(3)]
    whole = hashlib.md5(b"".join(parts)).hexdigest()
    outcomes = set()
    for attempt in range(4):
        key = f"obj{attempt}"
        uid = c.create_multipart_upload(Bucket="mpbucket", Key=key)["UploadId"]
        done = [{"PartNumber": i, "ETag": c.upload_part(Bucket="mpbucket", Key=key, UploadId=uid,
                                                        PartNumber=i, Body=p)["ETag"]}
                for i, p in enumerate(parts, 1)]
        t = _fire(lambda: c.complete_multipart_upload(Bucket="mpbucket", Key=key, UploadId=uid,
                                                      MultipartUpload={"Parts": done}))
        time.sleep(random.uniform(0, 0.01))
        srv.kill9()
        t.join()
        srv = ServerProcess(data, str(tmp_path)).start()
        c = srv.client()
        try:
            body = c.get_object(Bucket="mpbucket", Key=key)["Body"].read()
            assert hashlib.md5(body).hexdigest() == whole
            with pytest.raises(botocore.exceptions.ClientError):
                c.list_parts(Bucket="mpbucket", Key=key, UploadId=uid)
            outcomes.add("completed")
        except botocore.exceptions.ClientError as e:
            assert e.response["Error"]["Code"] == "NoSuchKey"
            assert len(c.list_parts(Bucket="mpbucket", Key=key, UploadId=uid)["Parts"]) == 3
            c.complete_multipart_upload(Bucket="mpbucket", Key=key, UploadId=uid,
                                        MultipartUpload={"Parts": done})
            body = c.get_object(Bucket="mpbucket", Key=key)["Body"].read()
            assert hashlib.md5(body).hexdigest() == whole
            outcomes.add("still-open")
    srv.stop()
    assert outcomes   # at least one crash point was exercised


@pytest.mark.slow
def test_kill9_during_upload_part(tmp_path):
    data = str(tmp_path / "data")
    srv = ServerProcess(data, str(tmp_path)).start()
    c = srv.client()
    c.create_bucket(Bucket="mpbucket")
    first = os.urandom(5 * MiB)
    uid = c.create_multipart_upload(Bucket="mpbucket", Key="k")["UploadId"]
    e1 = c.upload_part(Bucket="mpbucket", Key="k", UploadId=uid, PartNumber=1, Body=first)["ETag"]
    big = os.urandom(40 * MiB)
    t = _fire(lambda: c.upload_part(Bucket="mpbucket", Key="k", UploadId=uid, PartNumber=2, Body=big))
    time.sleep(0.3)     # the part is streaming in
    srv.kill9()
    t.join()
    srv = ServerProcess(data, str(tmp_path)).start()
    c = srv.client()
    listed = c.list_parts(Bucket="mpbucket", Key="k", UploadId=uid)["Parts"]
    assert listed[0]["ETag"] == e1
    for p in listed[1:]:   # a part is either absent or whole
        assert p["ETag"] == f'"{hashlib.md5(big).hexdigest()}"'
    tail = b"tail"
    e2 = c.upload_part(Bucket="mpbucket", Key="k", UploadId=uid, PartNumber=2, Body=tail)["ETag"]
    c.complete_multipart_upload(Bucket="mpbucket", Key="k", UploadId=uid, MultipartUpload={
        "Parts": [{"PartNumber": 1, "ETag": e1}, {"PartNumber": 2, "ETag": e2}]})
    assert c.get_object(Bucket="mpbucket", Key="k")["Body"].read() == first + tail
    assert os.listdir(os.path.join(data, "tmp")) == []
    # an interrupted upload can also simply be aborted
    uid2 = c.create_multipart_upload(Bucket="mpbucket", Key="k2")["UploadId"]
    c.abort_multipart_upload(Bucket="mpbucket", Key="k2", UploadId=uid2)
    srv.stop()
