"""A server with --protocol grpc and TLS: gRPC is served over TLS with the server's
certificate (a client trusting its CA works, a plaintext one does not), and the HTTP listener
keeps only the reserved endpoints (S3 requests are answered 404)."""
import re

import grpc
import pytest
import requests

from s3ish.grpc.client import Client
from tests.pki import make_pki
from tests.support import ROOT_PASSWORD, ROOT_USER, ServerProcess


def test_grpc_only_over_tls(tmp_path):
    ca, cert, key = make_pki(str(tmp_path))
    srv = ServerProcess(":memory:", str(tmp_path), verify=ca,
                        extra_args=["--protocol", "grpc", "--grpc-listen", "127.0.0.1:0",
                                    "--tls-cert", cert, "--tls-key", key]).start()
    try:
        target = re.search(r"grpcs://(127\.0\.0\.1:\d+)", srv.banner).group(1)
        with Client("grpcs://" + target, ROOT_USER, ROOT_PASSWORD, ca_file=ca) as c:
            c.create_bucket("tls-bucket")
            c.put("tls-bucket", "k", b"over tls")
            assert b"".join(c.read("tls-bucket", "k")[2]) == b"over tls"
        with Client(target, ROOT_USER, ROOT_PASSWORD) as plain:
            with pytest.raises(grpc.RpcError) as e:
                plain.list_buckets()
            assert e.value.code() == grpc.StatusCode.UNAVAILABLE
        assert requests.get(srv.endpoint + "/_ready", verify=ca).status_code == 200
        s3 = requests.get(srv.endpoint + "/tls-bucket/k", verify=ca)
        assert s3.status_code == 404 and b"gRPC only" in s3.content
    finally:
        srv.stop()
