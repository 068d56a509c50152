"""A response that fails after it started is logged with its real outcome, not the status its
headers announced."""
import glob
import json
import os

import pytest
import requests

from tests.support import ServerProcess


def test_cut_off_response_is_logged_as_failed(tmp_path):
    srv = ServerProcess(str(tmp_path / "data"), str(tmp_path),
                        extra_args=["--log-format", "json"]).start()
    try:
        c = srv.client()
        c.create_bucket(Bucket="outcome")
        c.put_object(Bucket="outcome", Key="big", Body=os.urandom(3 * 1024 * 1024))
        data = max((p for p in glob.glob(str(tmp_path / "data" / "objects" / "**"),
                                         recursive=True) if os.path.isfile(p)),
                   key=os.path.getsize)
        os.truncate(data, 1536 * 1024)         # the data unit ends early: the GET fails late
        url = c.generate_presigned_url("get_object", Params={"Bucket": "outcome",
                                                             "Key": "big"})
        r = requests.get(url, stream=True)
        assert r.status_code == 200             # the headers were already out
        rid = r.headers["x-amz-request-id"]
        with pytest.raises(requests.exceptions.RequestException):
            r.content                           # the body stops short: never a short object
    finally:
        srv.stop()
    lines = [json.loads(line) for line in srv.read_log().splitlines() if line.startswith("{")]
    (entry,) = [e for e in lines if e.get("request_id") == rid and e["logger"] == "s3ish.access"]
    assert entry["operation"] == "GetObject"
    assert entry["status"] == 500 and entry["error"].startswith("ResponseFailed")
    assert 0 < entry["bytes_out"] < 3 * 1024 * 1024
