"""Operator endpoints (/_admin/, /_metrics): SigV4 signed by root or a bearer token for
metrics; HTTP Basic carrying the root secret is refused."""
import base64
import datetime
import json
import os
import subprocess
import sys

import pytest
import requests

from tests.support import (ALT_PASSWORD, ALT_USER, ROOT_PASSWORD, ROOT_USER, ServerProcess,
                           send, signed_request)


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("admin")
    s = ServerProcess(":memory:", str(tmp), extra_args=["--metrics-token", "tok3n"]).start()
    yield s
    s.stop()


def _basic(user=ROOT_USER, password=ROOT_PASSWORD):
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode())
            .decode()}


@pytest.mark.parametrize("path", ["/_admin/drives", "/_metrics"])
def test_basic_with_the_root_secret_is_refused(srv, path):
    r = requests.get(srv.endpoint + path, headers=_basic(), timeout=10)
    assert r.status_code == 401
    assert "HTTP Basic" in r.text and "SigV4" in r.text


def test_unauthenticated_admin_is_refused(srv):
    r = requests.get(srv.endpoint + "/_admin/drives", timeout=10)
    assert r.status_code == 401 and "SigV4" in r.text


def test_signed_admin_request_is_accepted(srv):
    url, headers = signed_request(srv, "GET", "/_admin/drives")
    r = send("GET", url, headers)
    assert r.status_code == 200, r.text
    assert r.json()["drives"][0]["state"] == "ok"
    url, headers = signed_request(srv, "POST", "/_admin/scrub")
    r = send("POST", url, headers)       # a request that acts, signed: it reaches the API
    assert r.status_code == 400 and "erasure-coded drives" in r.json()["error"]


def test_presigned_admin_url_is_accepted(srv):
    client = srv.client(signature_version="s3v4")
    url = client.generate_presigned_url("get_object", Params={"Bucket": "_admin",
                                                              "Key": "heal"}, ExpiresIn=60)
    r = requests.get(url, timeout=10)
    assert r.status_code == 200, r.text
    assert "heal_queue" in r.json()


def test_bad_signature_is_refused(srv):
    url, headers = signed_request(srv, "GET", "/_admin/drives")
    sig = headers["Authorization"][-64:]
    headers["Authorization"] = headers["Authorization"][:-64] + \
        ("0" if sig[0] != "0" else "1") + sig[1:]
    r = send("GET", url, headers)
    assert r.status_code == 403 and "SignatureDoesNotMatch" in r.text
    url, headers = signed_request(srv, "GET", "/_metrics", password="not-the-secret")
    r = send("GET", url, headers)
    assert r.status_code == 403 and "SignatureDoesNotMatch" in r.text


def test_signature_checks_time_and_user(srv):
    old = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None) - \
        datetime.timedelta(hours=1)
    url, headers = signed_request(srv, "GET", "/_admin/drives", when=old)
    r = send("GET", url, headers)
    assert r.status_code == 403 and "RequestTimeTooSkewed" in r.text
    url, headers = signed_request(srv, "GET", "/_admin/drives", user=ALT_USER,
                                  password=ALT_PASSWORD)
    r = send("GET", url, headers)          # a valid signature, but not the root user's
    assert r.status_code == 403 and "only the root user" in r.text
    url, headers = signed_request(srv, "GET", "/_admin/drives", user="nobody")
    r = send("GET", url, headers)
    assert r.status_code == 403 and "InvalidAccessKeyId" in r.text


def test_metrics_bearer_token_and_signed_root(srv):
    r = requests.get(srv.endpoint + "/_metrics", headers={"Authorization": "Bearer tok3n"},
                     timeout=10)
    assert r.status_code == 200 and "s3ish_requests_in_flight" in r.text
    r = requests.get(srv.endpoint + "/_metrics", headers={"Authorization": "Bearer nope"},
                     timeout=10)
    assert r.status_code == 401
    url, headers = signed_request(srv, "GET", "/_metrics")
    assert send("GET", url, headers).status_code == 200


def _admin_cli(srv, *args, password=ROOT_PASSWORD):
    env = {**os.environ, "S3ISH_ROOT_USER": ROOT_USER, "S3ISH_ROOT_PASSWORD": password}
    return subprocess.run([sys.executable, "-m", "s3ish", "admin", "--endpoint", srv.endpoint,
                           *args], env=env, capture_output=True, text=True, timeout=60)


def test_admin_cli_signs_its_requests(srv):
    r = _admin_cli(srv, "--json", "drives")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["drives"][0]["path"] == ":memory:"
    r = _admin_cli(srv, "heal")
    assert r.returncode == 0 and "heal_queue" in r.stdout
    r = _admin_cli(srv, "drives", password="wrong-secret")
    assert r.returncode == 1 and "SignatureDoesNotMatch" in r.stderr

