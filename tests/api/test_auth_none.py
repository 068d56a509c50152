"""`--auth none`: development mode; refused on open addresses unless explicitly allowed."""
import subprocess
import sys

import requests

from tests.support import ServerProcess


def test_auth_none_accepts_everything(tmp_path):
    srv = ServerProcess(":memory:", str(tmp_path), extra_args=["--auth", "none"]).start()
    try:
        assert requests.put(srv.endpoint + "/open-bucket").status_code == 200
        r = requests.put(srv.endpoint + "/open-bucket/k", data=b"no auth at all")
        assert r.status_code == 200
        assert requests.get(srv.endpoint + "/open-bucket/k").content == b"no auth at all"
        c = srv.client("whoever", "whatever-secret")      # any signature is accepted too
        assert c.get_object(Bucket="open-bucket", Key="k")["Body"].read() == b"no auth at all"
        c.put_object(Bucket="open-bucket", Key="signed", Body=b"x" * 100_000)
        from tests.api.test_iam import iam_client
        iam = iam_client(srv, "whoever", "whatever-secret")     # the IAM API too, as root
        assert iam.create_user(UserName="dev")["User"]["UserName"] == "dev"
        assert "authentication is disabled" in requests.get(srv.endpoint + "/_ready").text
        assert "authentication is DISABLED" in srv.read_log()
    finally:
        srv.stop()


def test_auth_none_refused_on_open_address(tmp_path):
    r = subprocess.run([sys.executable, "-m", "s3ish", "server", "--listen", "0.0.0.0:0",
                        "--data", ":memory:", "--auth", "none"], capture_output=True,
                       text=True, timeout=30)
    assert r.returncode != 0 and "--i-know-this-is-open" in r.stderr
