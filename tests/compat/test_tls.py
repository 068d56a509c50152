"""HTTPS: `--tls-cert/--tls-key` on a 2-worker server, with a certificate from a CA the module
creates; boto3, the AWS CLI, s3cmd, rclone and minio-py each trust that CA (as their users
configure it) and round-trip an object. One server start for the module.
"""
import hashlib

import pytest
import requests
import urllib3
from minio import Minio

from tests.compat.conftest import clean_env, make_file, md5_file, run, tool
from tests.pki import make_pki
from tests.support import ROOT_PASSWORD, ROOT_USER, ServerProcess, unique_bucket


@pytest.fixture(scope="module")
def tls(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("tls")
    ca, cert, key = make_pki(str(tmp))
    srv = ServerProcess(str(tmp / "data"), str(tmp), workers=2, verify=ca,
                        extra_args=["--tls-cert", cert, "--tls-key", key]).start()
    srv.ca = ca
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def payload(tmp_path_factory):
    path = make_file(tmp_path_factory.mktemp("tlsfile") / "payload.bin", 300_000)
    return path, md5_file(path)


def test_https_only_with_the_ca(tls):
    assert tls.endpoint.startswith("https://")
    # Fresh connections land on both workers: every one speaks TLS.
    for _ in range(12):
        assert requests.get(tls.endpoint + "/_health", verify=tls.ca).status_code == 200
    with pytest.raises(requests.exceptions.SSLError):
        requests.get(tls.endpoint + "/_health")       # the system CAs do not know ours
    with pytest.raises(requests.ConnectionError):
        requests.get(tls.endpoint.replace("https:", "http:") + "/_health", timeout=5)
    # The bounds on request heads hold behind TLS too.
    r = requests.get(tls.endpoint + "/_health", headers={"X-Big": "a" * 100_000},
                     verify=tls.ca, timeout=10)
    assert r.status_code == 400 and b"RequestHeaderSectionTooLarge" in r.content


def test_boto3(tls, payload):
    c = tls.client()
    bucket = unique_bucket("tls")
    c.create_bucket(Bucket=bucket)
    with open(payload[0], "rb") as f:
        c.put_object(Bucket=bucket, Key="k", Body=f)
    body = c.get_object(Bucket=bucket, Key="k")["Body"].read()
    assert hashlib.md5(body).hexdigest() == payload[1]
    url = c.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "k"})
    assert url.startswith("https://")
    assert requests.get(url, verify=tls.ca).content == body
    c.delete_object(Bucket=bucket, Key="k")
    c.delete_bucket(Bucket=bucket)


def test_aws_cli(tls, payload, tmp_path):
    exe = tool("aws")
    (tmp_path / "config").write_text("[default]\nregion = us-east-1\noutput = json\n"
                                     "s3 =\n    addressing_style = path\n"
                                     "    signature_version = s3v4\n")
    (tmp_path / "credentials").write_text(f"[default]\naws_access_key_id = {ROOT_USER}\n"
                                          f"aws_secret_access_key = {ROOT_PASSWORD}\n")
    env = clean_env(tmp_path, AWS_CONFIG_FILE=str(tmp_path / "config"),
                    AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "credentials"),
                    AWS_EC2_METADATA_DISABLED="true", AWS_PAGER="", AWS_CA_BUNDLE=tls.ca)

    def aws(*args):
        return run([exe, "--endpoint-url", tls.endpoint, *args], env, server=tls, timeout=120)
    bucket = unique_bucket("tlscli")
    aws("s3", "mb", f"s3://{bucket}")
    aws("s3", "cp", payload[0], f"s3://{bucket}/k")
    aws("s3", "cp", f"s3://{bucket}/k", str(tmp_path / "back"))
    assert md5_file(tmp_path / "back") == payload[1]
    aws("s3", "rb", "--force", f"s3://{bucket}")


def test_s3cmd(tls, payload, tmp_path):
    exe = tool("s3cmd")
    hostport = tls.endpoint.split("://", 1)[1]
    cfg = tmp_path / "s3cfg"
    cfg.write_text(f"[default]\naccess_key = {ROOT_USER}\nsecret_key = {ROOT_PASSWORD}\n"
                   f"host_base = {hostport}\nhost_bucket = {hostport}\n"
                   "bucket_location = us-east-1\nuse_https = True\n"
                   "check_ssl_certificate = True\ncheck_ssl_hostname = True\n"
                   "signature_v2 = False\nproxy_host =\nproxy_port = 0\n"
                   "progress_meter = False\nmax_retries = 1\n")
    env = clean_env(tmp_path)

    def s3cmd(*args):
        return run([exe, "-c", str(cfg), f"--ca-certs={tls.ca}", *args], env, server=tls,
                   timeout=120)
    bucket = unique_bucket("tlss3cmd")
    s3cmd("mb", f"s3://{bucket}")
    s3cmd("put", payload[0], f"s3://{bucket}/k")
    s3cmd("get", f"s3://{bucket}/k", str(tmp_path / "back"))
    assert md5_file(tmp_path / "back") == payload[1]
    s3cmd("del", f"s3://{bucket}/k")
    s3cmd("rb", f"s3://{bucket}")


def test_rclone(tls, payload, tmp_path):
    exe = tool("rclone")
    cfg = tmp_path / "rclone.conf"
    cfg.write_text(f"[tls]\ntype = s3\nprovider = Other\nenv_auth = false\n"
                   f"access_key_id = {ROOT_USER}\nsecret_access_key = {ROOT_PASSWORD}\n"
                   f"endpoint = {tls.endpoint}\nregion = us-east-1\nforce_path_style = true\n")
    env = clean_env(tmp_path)

    def rclone(*args):
        return run([exe, "--config", str(cfg), "--ca-cert", tls.ca, "--retries", "1",
                    "--low-level-retries", "1", *args], env, server=tls, timeout=120)
    bucket = unique_bucket("tlsrclone")
    rclone("mkdir", f"tls:{bucket}")
    rclone("copyto", payload[0], f"tls:{bucket}/k")
    rclone("copyto", f"tls:{bucket}/k", str(tmp_path / "back"))
    assert md5_file(tmp_path / "back") == payload[1]
    rclone("purge", f"tls:{bucket}")


def test_minio(tls, payload, tmp_path):
    http = urllib3.PoolManager(cert_reqs="CERT_REQUIRED", ca_certs=tls.ca)
    mc = Minio(tls.endpoint.split("://", 1)[1], access_key=ROOT_USER, secret_key=ROOT_PASSWORD,
               secure=True, region="us-east-1", http_client=http)
    bucket = unique_bucket("tlsminio")
    mc.make_bucket(bucket)
    mc.fput_object(bucket, "k", payload[0])
    mc.fget_object(bucket, "k", str(tmp_path / "back"))
    assert md5_file(tmp_path / "back") == payload[1]
    mc.remove_object(bucket, "k")
    mc.remove_bucket(bucket)
