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


def test_virtual_host_every_operation(server, vhost_dns, bucket):
    import io
    import os
    c = boto3.client("s3", endpoint_url=f"http://{VHOST_DOMAIN}:{server.port}",
                     aws_access_key_id=ROOT_USER, aws_secret_access_key=ROOT_PASSWORD,
                     region_name="us-east-1",
                     config=BotoConfig(signature_version="s3v4",
                                       s3={"addressing_style": "virtual"}))
    assert c.get_bucket_location(Bucket=bucket)["LocationConstraint"] is None
    part = os.urandom(5 * 1024 * 1024)
    uid = c.create_multipart_upload(Bucket=bucket, Key="mp")["UploadId"]
    assert [u["UploadId"] for u in c.list_multipart_uploads(Bucket=bucket)["Uploads"]] == [uid]
    e1 = c.upload_part(Bucket=bucket, Key="mp", UploadId=uid, PartNumber=1, Body=part)["ETag"]
    assert c.list_parts(Bucket=bucket, Key="mp", UploadId=uid)["Parts"][0]["ETag"] == e1
    c.put_object(Bucket=bucket, Key="src", Body=b"tail")
    e2 = c.upload_part_copy(Bucket=bucket, Key="mp", UploadId=uid, PartNumber=2,
                            CopySource=f"{bucket}/src")["CopyPartResult"]["ETag"]
    c.complete_multipart_upload(Bucket=bucket, Key="mp", UploadId=uid, MultipartUpload={
        "Parts": [{"PartNumber": 1, "ETag": e1}, {"PartNumber": 2, "ETag": e2}]})
    assert c.get_object(Bucket=bucket, Key="mp")["Body"].read() == part + b"tail"
    c.copy_object(Bucket=bucket, Key="copy", CopySource=f"{bucket}/src", IfNoneMatch="*")
    c.put_object_tagging(Bucket=bucket, Key="copy", Tagging={"TagSet": [{"Key": "a",
                                                                         "Value": "b"}]})
    assert c.get_object_tagging(Bucket=bucket, Key="copy")["TagSet"] == [{"Key": "a",
                                                                          "Value": "b"}]
    post = c.generate_presigned_post(bucket, "posted")
    assert f"{bucket}.{VHOST_DOMAIN}" in post["url"]
    r = requests.post(post["url"], data=post["fields"], files={"file": ("f", io.BytesIO(b"p"))})
    assert r.status_code == 204, r.text
    uid2 = c.create_multipart_upload(Bucket=bucket, Key="ab")["UploadId"]
    c.abort_multipart_upload(Bucket=bucket, Key="ab", UploadId=uid2)
    r = c.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": k} for k in
                                                            ("mp", "copy", "src", "posted")]})
    assert len(r["Deleted"]) == 4
    assert "Contents" not in c.list_objects(Bucket=bucket)
