"""Test support: run a real s3ish server subprocess on 127.0.0.1:0 and make clients for it."""
import os
import re
import signal
import subprocess
import sys
import time
import uuid

import boto3
import requests
from botocore.config import Config as BotoConfig

ROOT_USER, ROOT_PASSWORD = "testroot", "testroot-secret-key"
ALT_USER, ALT_PASSWORD = "altuser", "altuser-secret-key"
VHOST_DOMAIN = "s3.localtest"


class ServerProcess:
    def __init__(self, data, tmp: str, workers: int = 1, extra_args=(), env=None,
                 verify=True):
        """`data`: a folder, ":memory:", or a list of folders (erasure-coded drives).
        `verify`: for a server started with --tls-cert, the CA bundle clients trust."""
        self.data = data
        if isinstance(data, list):
            # A new set's folders exist before the first start (the server never creates a
            # missing drive folder: see storage/drives.py); later starts leave them alone.
            for d in data:
                if not os.path.exists(os.path.join(d, ".s3ish-drive.json")):
                    os.makedirs(d, exist_ok=True)
        self.verify = verify
        self.scheme = "http"
        self.workers = workers
        self.extra_args = list(extra_args)
        self.auth_file = os.path.join(tmp, f"auth-{uuid.uuid4().hex[:6]}.txt")
        with open(self.auth_file, "w") as f:
            f.write(f"{ALT_USER}:{ALT_PASSWORD}:Alt User\n")
        self.env = {**os.environ, "S3ISH_ROOT_USER": ROOT_USER,
                    "S3ISH_ROOT_PASSWORD": ROOT_PASSWORD, **(env or {})}
        self.log_path = os.path.join(tmp, f"server-{uuid.uuid4().hex[:6]}.log")
        self.proc = None
        self.port = None
        self.banner = ""        # the first line the server printed (its addresses)

    @property
    def endpoint(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self.port}"

    def start(self, port: int = 0) -> "ServerProcess":
        self._log = open(self.log_path, "ab")
        data = self.data if isinstance(self.data, list) else [self.data]
        cmd = [sys.executable, "-m", "s3ish", "server", "--listen", f"127.0.0.1:{port}",
               *[a for d in data for a in ("--data", d)], "--auth-file", self.auth_file,
               "--workers", str(self.workers), *self.extra_args]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=self._log,
                                     env=self.env, start_new_session=True)
        line = self.banner = self.proc.stdout.readline().decode()
        if "listening on" not in line:
            self.proc.kill()
            raise RuntimeError(f"server did not start: {line!r}\n{self.read_log()}")
        url = re.search(r"listening on (https?)://127\.0\.0\.1:(\d+)", line)
        self.scheme, self.port = url.group(1), int(url.group(2))
        deadline = time.time() + 30
        while time.time() < deadline:
            try:
                if requests.get(self.endpoint + "/_ready", timeout=2,
                                verify=self.verify).status_code == 200:
                    return self
            except (requests.ConnectionError, requests.Timeout):
                pass        # a worker still starting (the socket accepts before it serves)
            time.sleep(0.05)
        raise RuntimeError("server not ready\n" + self.read_log())

    def read_log(self) -> str:
        with open(self.log_path, "rb") as f:
            return f.read().decode(errors="replace")

    def kill9(self) -> None:
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait()

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill9()

    def client(self, user=ROOT_USER, password=ROOT_PASSWORD, **cfg):
        return boto3.client("s3", endpoint_url=self.endpoint, aws_access_key_id=user,
                            aws_secret_access_key=password, region_name="us-east-1",
                            verify=self.verify,
                            config=BotoConfig(s3={"addressing_style": "path"},
                                              retries={"max_attempts": 1}, **cfg))


def unique_bucket(prefix: str = "b") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def signed_request(server, method: str, path: str, body: bytes = b"", headers=None,
                   user=ROOT_USER, password=ROOT_PASSWORD, when=None, region="us-east-1",
                   service="s3"):
    """Sign with botocore's own S3 SigV4 signer and return the prepared (url, headers), so a
    test can tamper with any part before sending it with `requests`."""
    from unittest import mock

    from botocore.auth import S3SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials
    req = AWSRequest(method=method, url=server.endpoint + path, data=body,
                     headers=dict(headers or {}))
    req.context["payload_signing_enabled"] = True
    auth = S3SigV4Auth(Credentials(user, password), service, region)
    if when is not None:
        with mock.patch("botocore.auth.get_current_datetime", return_value=when):
            auth.add_auth(req)
    else:
        auth.add_auth(req)
    return req.url, dict(req.headers.items())


def send(method, url, headers, body=b""):
    return requests.request(method, url, headers=headers, data=body, timeout=30)


def error_code(resp) -> str:
    import xml.etree.ElementTree as ET
    return ET.fromstring(resp.content).findtext("Code")


def make_keyring(folder: str, *key_ids: str) -> str:
    """A KMS keyring file (for --kms-keyring) holding `key_ids`, the first the default."""
    from s3ish.storage import kms
    path = os.path.join(folder, f"keyring-{uuid.uuid4().hex[:6]}.json")
    for key_id in key_ids:
        kms.create_key(path, key_id)
    return path


def sse_c(key: bytes, prefix: str = "SSECustomer") -> dict:
    """boto3's arguments of an SSE-C customer key, in the form every operation takes as it
    is (base64 and its MD5; prefix "CopySourceSSECustomer" for a copy's source)."""
    import base64
    import hashlib
    return {f"{prefix}Algorithm": "AES256", f"{prefix}Key": base64.b64encode(key).decode(),
            f"{prefix}KeyMD5": base64.b64encode(hashlib.md5(key).digest()).decode()}
