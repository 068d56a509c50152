"""The seed design's simple header auth (x-access-key / x-secret-key, `--allow-header-auth`),
its PATCH copy alias, and `--config FILE` at start-up, against real servers."""
import os
import subprocess
import sys
import uuid

import pytest
import requests

from tests.pki import make_pki
from tests.support import (ALT_PASSWORD, ALT_USER, ROOT_PASSWORD, ROOT_USER, ServerProcess,
                           error_code, signed_request, unique_bucket)

ENV = {**os.environ, "S3ISH_ROOT_USER": ROOT_USER, "S3ISH_ROOT_PASSWORD": ROOT_PASSWORD}
SERVER = [sys.executable, "-m", "s3ish", "server"]


def _auth(user=ROOT_USER, password=ROOT_PASSWORD) -> dict:
    return {"x-access-key": user, "x-secret-key": password}


@pytest.fixture(scope="module")
def hsrv(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("header-auth")
    srv = ServerProcess(":memory:", str(tmp), extra_args=["--allow-header-auth"]).start()
    yield srv
    srv.stop()


@pytest.fixture
def hbucket(hsrv):
    name = unique_bucket("hdr")
    assert requests.put(f"{hsrv.endpoint}/{name}", headers=_auth()).status_code == 200
    return name


def test_header_auth_acts_as_the_user(hsrv, hbucket):
    url = f"{hsrv.endpoint}/{hbucket}/note.txt"
    assert requests.put(url, data=b"by curl", headers=_auth()).status_code == 200
    got = requests.get(url, headers=_auth())
    assert (got.status_code, got.content) == (200, b"by curl")
    # The same object as seen by a SigV4 client of the same user: one identity, one store.
    body = hsrv.client().get_object(Bucket=hbucket, Key="note.txt")["Body"].read()
    assert body == b"by curl"
    assert f"{ROOT_USER} PutObject PUT /{hbucket}/note.txt 200" in hsrv.read_log()


def test_header_auth_goes_through_authorization(hsrv, hbucket):
    """Another user authenticated by headers is refused the root user's private bucket, as a
    signed request would be; anonymous requests too."""
    url = f"{hsrv.endpoint}/{hbucket}/private.txt"
    assert requests.put(url, data=b"x", headers=_auth()).status_code == 200
    r = requests.get(url, headers=_auth(ALT_USER, ALT_PASSWORD))
    assert (r.status_code, error_code(r)) == (403, "AccessDenied")
    r = requests.get(url)
    assert (r.status_code, error_code(r)) == (403, "AccessDenied")


def test_wrong_secret_and_unknown_key(hsrv, hbucket):
    url = f"{hsrv.endpoint}/{hbucket}"
    wrong = "wrong-" + uuid.uuid4().hex
    r = requests.get(url, headers=_auth(ROOT_USER, wrong))
    assert (r.status_code, error_code(r)) == (403, "SignatureDoesNotMatch")
    assert wrong not in r.text
    r = requests.get(url, headers=_auth("nobody-" + uuid.uuid4().hex[:6], ROOT_PASSWORD))
    assert (r.status_code, error_code(r)) == (403, "InvalidAccessKeyId")
    log = hsrv.read_log()
    assert wrong not in log and ROOT_PASSWORD not in log      # secrets are never logged


def test_half_a_pair_and_two_mechanisms_are_refused(hsrv, hbucket):
    url = f"{hsrv.endpoint}/{hbucket}"
    r = requests.get(url, headers={"x-access-key": ROOT_USER})
    assert (r.status_code, error_code(r)) == (400, "InvalidArgument")
    assert "x-secret-key" in r.text
    signed_url, headers = signed_request(hsrv, "GET", f"/{hbucket}")
    r = requests.get(signed_url, headers={**headers, **_auth()})
    assert (r.status_code, error_code(r)) == (400, "InvalidArgument")
    assert "Only one auth mechanism allowed" in r.text


def test_a_declared_payload_hash_is_checked(hsrv, hbucket):
    r = requests.put(f"{hsrv.endpoint}/{hbucket}/h.txt", data=b"abc",
                     headers={**_auth(), "x-amz-content-sha256": "0" * 64})
    assert (r.status_code, error_code(r)) == (400, "XAmzContentSHA256Mismatch")
    r = requests.head(f"{hsrv.endpoint}/{hbucket}/h.txt", headers=_auth())
    assert r.status_code == 404


def test_without_the_flag_the_headers_mean_nothing(server, s3, bucket):
    """The shared server runs without --allow-header-auth: the request is anonymous."""
    s3.put_object(Bucket=bucket, Key="k", Body=b"v")
    r = requests.get(f"{server.endpoint}/{bucket}/k", headers=_auth())
    assert (r.status_code, error_code(r)) == (403, "AccessDenied")
    r = requests.get(f"{server.endpoint}/{bucket}/k", headers=_auth(ROOT_USER, "wrong"))
    assert (r.status_code, error_code(r)) == (403, "AccessDenied")


# --- PATCH + x-amz-copy-source: CopyObject ------------------------------------------------

def test_patch_copy_with_header_auth_and_with_sigv4(hsrv, hbucket):
    base = f"{hsrv.endpoint}/{hbucket}"
    assert requests.put(f"{base}/src", data=b"source bytes",
                        headers={**_auth(), "x-amz-meta-colour": "blue"}).status_code == 200
    r = requests.patch(f"{base}/dst1", headers={**_auth(),
                                                "x-amz-copy-source": f"/{hbucket}/src"})
    assert r.status_code == 200 and b"<CopyObjectResult" in r.content
    url, headers = signed_request(hsrv, "PATCH", f"/{hbucket}/dst2",
                                  headers={"x-amz-copy-source": f"{hbucket}/src",
                                           "x-amz-metadata-directive": "REPLACE",
                                           "x-amz-meta-colour": "red"})
    r = requests.patch(url, headers=headers)
    assert r.status_code == 200, r.text
    s3 = hsrv.client()
    one, two = (s3.get_object(Bucket=hbucket, Key=k) for k in ("dst1", "dst2"))
    assert one["Body"].read() == two["Body"].read() == b"source bytes"
    assert (one["Metadata"], two["Metadata"]) == ({"colour": "blue"}, {"colour": "red"})
    assert "CopyObject PATCH" in hsrv.read_log()


def test_patch_copy_is_authorized_as_copyobject(hsrv, hbucket):
    """The source is authorized as CopyObject's: a user who cannot read it cannot copy it."""
    assert requests.put(f"{hsrv.endpoint}/{hbucket}/secret", data=b"s",
                        headers=_auth()).status_code == 200
    alt = _auth(ALT_USER, ALT_PASSWORD)
    own = unique_bucket("alt")
    assert requests.put(f"{hsrv.endpoint}/{own}", headers=alt).status_code == 200
    r = requests.patch(f"{hsrv.endpoint}/{own}/stolen",
                       headers={**alt, "x-amz-copy-source": f"{hbucket}/secret"})
    assert (r.status_code, error_code(r)) == (403, "AccessDenied")
    r = requests.patch(f"{hsrv.endpoint}/{hbucket}/dst",
                       headers={**alt, "x-amz-copy-source": f"{own}/whatever"})
    assert (r.status_code, error_code(r)) == (403, "AccessDenied")


def test_patch_without_copy_source_is_not_allowed(hsrv, hbucket):
    r = requests.patch(f"{hsrv.endpoint}/{hbucket}/x", data=b"x", headers=_auth())
    assert (r.status_code, error_code(r)) == (405, "MethodNotAllowed")
    r = requests.patch(f"{hsrv.endpoint}/{hbucket}", headers=_auth())
    assert (r.status_code, error_code(r)) == (405, "MethodNotAllowed")


# --- start-up: the flag's listener rule, --config errors ------------------------------------

def _refused(args) -> str:
    r = subprocess.run([*SERVER, *args], env=ENV, capture_output=True, text=True, timeout=60)
    assert r.returncode != 0 and "listening" not in r.stdout, r.stdout + r.stderr
    assert "Traceback" not in r.stderr, r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    return lines[0]


def test_header_auth_refused_on_a_non_loopback_listener_without_tls(tmp_path):
    line = _refused(["--listen", "0.0.0.0:0", "--data", ":memory:", "--allow-header-auth"])
    assert "refusing --allow-header-auth" in line and "0.0.0.0" in line and "TLS" in line
    config = tmp_path / "config.toml"
    config.write_text('listen_addr = "0.0.0.0:0"\nstorage_backend = "memory"\n'
                      "allow_header_auth = true\n")
    assert "refusing --allow-header-auth" in _refused(["--config", str(config)])


def test_header_auth_with_tls_on_any_address(tmp_path):
    ca, cert, key = make_pki(str(tmp_path))
    proc = subprocess.Popen([*SERVER, "--listen", "0.0.0.0:0", "--data", ":memory:",
                             "--allow-header-auth", "--tls-cert", cert, "--tls-key", key],
                            env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            start_new_session=True)
    try:
        line = proc.stdout.readline().decode()
        assert "listening on https://0.0.0.0:" in line, proc.stderr.read1().decode()
    finally:
        proc.terminate()
        proc.wait(timeout=15)


def test_config_file_errors_stop_the_start(tmp_path):
    config = tmp_path / "config.toml"
    config.write_text('storage_backend = "memory"\nlisten_port = 9000\n')
    line = _refused(["--config", str(config)])
    assert "unknown key 'listen_port'" in line and str(config) in line
    config.write_text('storage_backend = "memory"\nworkers = "two"\n')
    assert ": workers: expected an integer" in _refused(["--config", str(config)])


def test_server_from_a_config_file(tmp_path):
    """A server configured by the design's keys only (plus the environment's root user)."""
    config = tmp_path / "config.toml"
    config.write_text(f'listen_addr = "127.0.0.1:0"\nstorage_root = "{tmp_path}/store"\n'
                      "enable_erasure_coding = true\nerasure_data_blocks = 2\n"
                      "erasure_parity_blocks = 1\nallow_header_auth = true\n")
    srv = ServerProcess([], str(tmp_path), extra_args=["--config", str(config)])
    srv.start()
    try:
        name = unique_bucket("cfg")
        assert requests.put(f"{srv.endpoint}/{name}", headers=_auth()).status_code == 200
        r = requests.put(f"{srv.endpoint}/{name}/k", data=b"x" * 300_000, headers=_auth())
        assert r.status_code == 200
        assert sorted(os.listdir(tmp_path / "store")) == ["d1", "d2", "d3"]
        assert requests.get(f"{srv.endpoint}/{name}/k", headers=_auth()).content == \
            b"x" * 300_000
    finally:
        srv.stop()
