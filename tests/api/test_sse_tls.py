"""SSE-C over TLS: a server with --tls-cert (and without --allow-insecure-sse-c) takes customer
keys over HTTPS, for every operation that carries one; the same server's plain-HTTP refusal
is tested on the shared server (tests/api/test_objects.py)."""
import os

import botocore
import pytest

from tests.pki import make_pki
from tests.support import ServerProcess, make_keyring, sse_c

KEY = os.urandom(32)


@pytest.fixture(scope="module")
def tls(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("ssetls")
    ca, cert, key = make_pki(str(tmp))
    ring = make_keyring(str(tmp), "testkey-1")
    srv = ServerProcess(str(tmp / "data"), str(tmp), verify=ca,
                        extra_args=["--tls-cert", cert, "--tls-key", key,
                                    "--kms-keyring", ring]).start()
    yield srv
    srv.stop()


def test_sse_c_over_https(tls):
    assert tls.endpoint.startswith("https://")
    c = tls.client()
    c.create_bucket(Bucket="tls-sse")
    body = os.urandom(300_000)
    c.put_object(Bucket="tls-sse", Key="k", Body=body, **sse_c(KEY))
    assert c.get_object(Bucket="tls-sse", Key="k", Range="bytes=70000-70100",
                        **sse_c(KEY))["Body"].read() == body[70000:70101]
    with pytest.raises(botocore.exceptions.ClientError) as e:
        c.get_object(Bucket="tls-sse", Key="k")
    assert e.value.response["Error"]["Code"] == "InvalidRequest"
    c.copy_object(Bucket="tls-sse", Key="copy", CopySource="tls-sse/k",
                  ServerSideEncryption="AES256", **sse_c(KEY, "CopySourceSSECustomer"))
    assert c.get_object(Bucket="tls-sse", Key="copy")["Body"].read() == body
    uid = c.create_multipart_upload(Bucket="tls-sse", Key="mp", **sse_c(KEY))["UploadId"]
    etag = c.upload_part(Bucket="tls-sse", Key="mp", UploadId=uid, PartNumber=1, Body=body,
                         **sse_c(KEY))["ETag"]
    c.complete_multipart_upload(Bucket="tls-sse", Key="mp", UploadId=uid,
                                MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": etag}]},
                                **sse_c(KEY))
    assert c.get_object(Bucket="tls-sse", Key="mp", **sse_c(KEY))["Body"].read() == body


def test_a_tls_server_stops_at_once_beside_an_idle_client(tmp_path):
    """SIGTERM with a keep-alive HTTPS client idle: the server stops in a moment, not after
    asyncio's 30 s wait for a close_notify the idle client never sends."""
    import signal
    import time
    ca, cert, key = make_pki(str(tmp_path))
    srv = ServerProcess(str(tmp_path / "data"), str(tmp_path), verify=ca,
                        extra_args=["--tls-cert", cert, "--tls-key", key]).start()
    try:
        c = srv.client()
        c.create_bucket(Bucket="idle")
        c.put_object(Bucket="idle", Key="k", Body=b"kept")     # the connection stays open
        started = time.monotonic()
        os.killpg(srv.proc.pid, signal.SIGTERM)
        srv.proc.wait(timeout=30)
        assert time.monotonic() - started < 5
    finally:
        srv.stop()
    srv = ServerProcess(str(tmp_path / "data"), str(tmp_path), verify=ca,
                        extra_args=["--tls-cert", cert, "--tls-key", key]).start()
    try:
        assert srv.client().get_object(Bucket="idle", Key="k")["Body"].read() == b"kept"
    finally:
        srv.stop()
