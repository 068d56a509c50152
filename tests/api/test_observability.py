"""/_metrics (Prometheus text, access rules), structured logs, health and readiness."""
import base64
import json
import os
import shutil
import uuid

import requests

from tests.support import ROOT_PASSWORD, ROOT_USER, ServerProcess, send, signed_request


def _scrape(server, **kw):
    return requests.get(server.endpoint + "/_metrics", **kw)


def _signed_scrape(server):
    url, headers = signed_request(server, "GET", "/_metrics")
    return send("GET", url, headers)


def _value(text: str, name: str, **labels) -> float:
    want = ",".join(f'{k}="{v}"' for k, v in labels.items())
    for line in text.splitlines():
        if line.startswith(name + "{") and all(f'{k}="{v}"' in line for k, v in labels.items()):
            return float(line.rsplit(" ", 1)[1])
        if not labels and line.startswith(name + " "):
            return float(line.rsplit(" ", 1)[1])
    raise KeyError(f"{name}{{{want}}}")


def test_metrics_require_credentials(server):
    assert _scrape(server).status_code == 401
    assert _scrape(server, headers={"Authorization": "Bearer wrong"}).status_code == 401
    basic = base64.b64encode(f"{ROOT_USER}:{ROOT_PASSWORD}".encode()).decode()
    assert _scrape(server, headers={"Authorization": f"Basic {basic}"}).status_code == 401
    url, headers = signed_request(server, "GET", "/_metrics")
    assert send("GET", url, headers).status_code == 200


def test_metrics_content(server, s3, bucket):
    s3.put_object(Bucket=bucket, Key="a", Body=b"x" * 1000)
    s3.put_object(Bucket=bucket, Key="b", Body=b"y" * 500)
    s3.get_object(Bucket=bucket, Key="a")["Body"].read()
    try:
        s3.get_object(Bucket=bucket, Key="missing")
    except s3.exceptions.NoSuchKey:
        pass
    r = _signed_scrape(server)
    text = r.text
    assert r.headers["Content-Type"].startswith("text/plain")
    assert _value(text, "s3ish_requests_total", operation="PutObject", status_class="2xx") >= 2
    assert _value(text, "s3ish_request_errors_total", operation="GetObject",
                  code="NoSuchKey") >= 1
    assert _value(text, "s3ish_request_duration_seconds_count", operation="GetObject") >= 2
    assert _value(text, "s3ish_received_bytes_total", operation="PutObject") >= 1500
    assert _value(text, "s3ish_sent_bytes_total", operation="GetObject") >= 1000
    assert _value(text, "s3ish_bucket_objects", bucket=bucket) == 2
    assert _value(text, "s3ish_bucket_bytes", bucket=bucket) == 1500
    assert "s3ish_meta_duration_seconds_bucket" in text
    assert "s3ish_event_loop_lag_seconds_bucket" in text
    assert "s3ish_requests_in_flight" in text and "s3ish_io_pool_queue_depth" in text
    # Disk space of the data folder, read at scrape time, and readiness.
    st = os.statvfs(server.data)
    free = _value(text, "s3ish_drive_free_bytes", drive=server.data)
    assert _value(text, "s3ish_drive_total_bytes", drive=server.data) == \
        st.f_blocks * st.f_frsize
    assert abs(free - st.f_bavail * st.f_frsize) < 256 * 1024 * 1024   # others write too
    assert _value(text, "s3ish_ready") == 1
    s3.delete_object(Bucket=bucket, Key="a")
    text = _signed_scrape(server).text
    assert _value(text, "s3ish_bucket_objects", bucket=bucket) == 1
    assert _value(text, "s3ish_bucket_bytes", bucket=bucket) == 500


def test_public_metrics_token_and_json_logs(tmp_path):
    srv = ServerProcess(str(tmp_path / "data"), str(tmp_path),
                        extra_args=["--metrics-token", "sekrit", "--log-format", "json"]).start()
    try:
        assert _scrape(srv, headers={"Authorization": "Bearer sekrit"}).status_code == 200
        c = srv.client()
        name = f"logs-{uuid.uuid4().hex[:8]}"
        c.create_bucket(Bucket=name)
        r = c.put_object(Bucket=name, Key="some key", Body=b"logged")
        rid = r["ResponseMetadata"]["RequestId"]
        srv.stop()
        lines = [json.loads(line) for line in srv.read_log().splitlines()
                 if line.startswith("{")]
        access = [entry for entry in lines if entry.get("request_id") == rid]
        assert access, "no log line carries the request id"
        entry = access[-1]
        assert entry["operation"] == "PutObject" and entry["bucket"] == name
        assert entry["key"] == "some key" and entry["status"] == 200
        assert entry["bytes_in"] == 6 and entry["user"] == ROOT_USER
        assert entry["duration_ms"] >= 0
    finally:
        srv.stop()
    pub = ServerProcess(":memory:", str(tmp_path), extra_args=["--metrics-public"]).start()
    try:
        assert _scrape(pub).status_code == 200
    finally:
        pub.stop()


def test_ready_reports_unusable_data_folder(tmp_path):
    data = tmp_path / "data"
    srv = ServerProcess(str(data), str(tmp_path)).start()
    try:
        assert requests.get(srv.endpoint + "/_ready").status_code == 200
        shutil.rmtree(data / "tmp")
        r = requests.get(srv.endpoint + "/_ready")
        assert r.status_code == 503 and "not writable" in r.text
        url, headers = signed_request(srv, "GET", "/_metrics")
        assert _value(send("GET", url, headers).text, "s3ish_ready") == 0
        assert requests.get(srv.endpoint + "/_health").status_code == 200
        os.makedirs(data / "tmp")
        assert requests.get(srv.endpoint + "/_ready").status_code == 200
    finally:
        srv.stop()
