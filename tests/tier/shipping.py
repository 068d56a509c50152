"""Helpers of the shipping tests: a server started with tier flags against a remote (or the
fault proxy in front of it), its admin tier endpoints, the remote's manifest and keys."""
import json
import time

import requests

from s3ish.admin.client import sign_headers
from tests.support import ROOT_PASSWORD, ROOT_USER, ServerProcess


def tier_server(data, tmp, service, bucket, endpoint=None, prefix="t/", interval=1.0,
                extra=(), workers=1, env=None) -> ServerProcess:
    """A server on `data` shipping to `bucket` of `service` (through `endpoint`, e.g. a
    proxy). Not started."""
    args = ["--tier-endpoint", endpoint or service.endpoint, "--tier-bucket", bucket,
            "--tier-prefix", prefix, "--tier-ship-interval", str(interval), *extra]
    return ServerProcess(data, str(tmp), workers=workers, extra_args=args,
                         env={"S3ISH_TIER_ACCESS_KEY": service.access_key,
                              "S3ISH_TIER_SECRET_KEY": service.secret_key, **(env or {})})


def admin(srv, path: str, method: str = "GET") -> tuple[int, dict]:
    url = srv.endpoint + path
    r = requests.request(method, url, headers=sign_headers(method, url, ROOT_USER,
                                                           ROOT_PASSWORD, "us-east-1"),
                         data=b"" if method != "GET" else None, timeout=600)
    return r.status_code, r.json()


def status(srv) -> dict:
    code, doc = admin(srv, "/_admin/tier/status")
    assert code == 200, doc
    return doc


def verify(srv) -> dict:
    code, doc = admin(srv, "/_admin/tier/verify", "POST")
    assert code == 200, doc
    return doc


def wait_shipped(srv, timeout: float = 30.0) -> dict:
    """Until every record is in the tier (lag 0); returns the status."""
    deadline = time.time() + timeout
    while True:
        doc = status(srv)
        if doc["lag_records"] == 0 and doc["s3_hwm"] > 0:
            return doc
        if time.time() > deadline:
            raise AssertionError(f"not shipped within {timeout} s: {doc}\n{srv.read_log()}")
        time.sleep(0.2)


def manifest(service, bucket, prefix="t/") -> dict | None:
    s3 = service.boto()
    try:
        body = s3.get_object(Bucket=bucket, Key=prefix + "manifest.json")["Body"].read()
    except s3.exceptions.NoSuchKey:
        return None
    return json.loads(body)


def keys(service, bucket, prefix="t/") -> dict:
    out = {}
    for page in service.boto().get_paginator("list_objects_v2").paginate(Bucket=bucket,
                                                                         Prefix=prefix):
        for o in page.get("Contents", []):
            out[o["Key"][len(prefix):]] = o["Size"]
    return out
