"""Virtual-host style addressing (`bucket.DOMAIN`) with boto3, SigV4 and SigV2."""
import socket

import pytest
import requests
from botocore.config import Config as BotoConfig
import boto3

from tests.support import ROOT_PASSWORD, ROOT_USER, VHOST_DOMAIN


@pytest.fixture
def vhost_dns(monkeypatch):
    """Resolve *.VHOST_DOMAIN to 127.0.0.1 inside this test process."""
    real = socket.getaddrinfo

    def fake(host, *args, **kwargs):
        if isinstance(host, str) and (host == VHOST_DOMAIN or host.endswith("." + VHOST_DOMAIN)):
            host = "127.0.0.1"
        return real(host, *args, **kwargs)
    monkeypatch.setattr(socket, "getaddrinfo", fake)


@pytest.mark.parametrize("sigver", ["s3v4", "s3"])
def test_virtual_host_style(server, vhost_dns, sigver, bucket):
    c = boto3.client("s3", endpoint_url=f"http://{VHOST_DOMAIN}:{server.port}",
                     aws_access_key_id=ROOT_USER, aws_secret_access_key=ROOT_PASSWORD,
                     region_name="us-east-1",
                     config=BotoConfig(signature_version=sigver,
                                       s3={"addressing_style": "virtual"}))
    c.put_object(Bucket=bucket, Key="dir/v key", Body=b"virtual")
    assert c.get_object(Bucket=bucket, Key="dir/v key")["Body"].read() == b"virtual"
    assert [o["Key"] for o in c.list_objects_v2(Bucket=bucket)["Contents"]] == ["dir/v key"]
    c.head_bucket(Bucket=bucket)
    url = c.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "dir/v key"})
    assert f"{bucket}.{VHOST_DOMAIN}" in url
    assert requests.get(url).content == b"virtual"
    c.delete_object(Bucket=bucket, Key="dir/v key")
