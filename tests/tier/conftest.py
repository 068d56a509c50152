"""The cold tier's remotes: moto in server mode and a second s3ish, each a subprocess on
127.0.0.1 for the session, and a fault-injecting proxy (tests/tierproxy.py) per test."""
import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass

import boto3
import pytest
from botocore.config import Config as BotoConfig

from s3ish.tier.config import TierConfig
from s3ish.tier.remote import Remote
from tests.support import ROOT_PASSWORD, ROOT_USER, VHOST_DOMAIN, ServerProcess
from tests.tierproxy import FaultProxy


@dataclass
class RemoteService:
    name: str
    port: int
    access_key: str
    secret_key: str

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def boto(self):
        return boto3.client("s3", endpoint_url=self.endpoint, aws_access_key_id=self.access_key,
                            aws_secret_access_key=self.secret_key, region_name="us-east-1",
                            config=BotoConfig(s3={"addressing_style": "path"},
                                              retries={"max_attempts": 1}))

    def config(self, bucket: str, endpoint: str | None = None, **options) -> TierConfig:
        return TierConfig(endpoint or self.endpoint, bucket, self.access_key, self.secret_key,
                          **options)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_http(url: str, timeout: float = 30) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            urllib.request.urlopen(url, timeout=2)
            return
        except urllib.error.HTTPError:
            return  # it answers: up
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not come up")


@pytest.fixture(scope="session")
def moto_service(tmp_path_factory):
    port = _free_port()
    log = open(tmp_path_factory.mktemp("moto") / "moto.log", "wb")
    proc = subprocess.Popen([os.path.join(os.path.dirname(sys.executable), "moto_server"),
                             "-H", "127.0.0.1", "-p", str(port)], stdout=log, stderr=log,
                            start_new_session=True)
    try:
        _wait_http(f"http://127.0.0.1:{port}/")
        # moto checks no signature: any key pair is accepted.
        yield RemoteService("moto", port, "moto-key", "moto-secret")
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=15)
        log.close()


@pytest.fixture(scope="session")
def s3ish_service(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("tier-remote")
    srv = ServerProcess(str(tmp / "data"), str(tmp),
                        extra_args=["--domain", VHOST_DOMAIN]).start()
    yield RemoteService("s3ish", srv.port, ROOT_USER, ROOT_PASSWORD)
    srv.stop()


@pytest.fixture(params=["moto", "s3ish"])
def service(request) -> RemoteService:
    return request.getfixturevalue(f"{request.param}_service")


@pytest.fixture
def bucket(service):
    name = f"tier-{uuid.uuid4().hex[:12]}"
    s3 = service.boto()
    s3.create_bucket(Bucket=name)
    yield name
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=name):
        keys = [{"Key": o["Key"]} for o in page.get("Contents", [])]
        if keys:
            s3.delete_objects(Bucket=name, Delete={"Objects": keys, "Quiet": True})
    s3.delete_bucket(Bucket=name)


@pytest.fixture
def proxy(service):
    p = FaultProxy(service.port).start()
    yield p
    p.stop()


def run(coro_fn, *args, **kwargs):
    """Run `coro_fn(remote, ...)`-style test bodies on a fresh default asyncio loop."""
    return asyncio.run(coro_fn(*args, **kwargs))


async def with_remote(config: TierConfig, body):
    async with Remote(config) as remote:
        return await body(remote)
