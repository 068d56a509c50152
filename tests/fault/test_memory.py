"""Memory stays bounded whatever the object size: a big PUT and GET never hold the object."""
import hashlib
import os
import threading
import time

import psutil
import pytest

from tests.support import ServerProcess

MiB = 1024 * 1024


def _tree_rss(pid: int) -> int:
    proc = psutil.Process(pid)
    total = 0
    for p in [proc] + proc.children(recursive=True):
        try:
            total += p.memory_info().rss
        except psutil.NoSuchProcess:
            pass
    return total


def peak_rss_during(pid: int, fn):
    peak, done = [0], threading.Event()

    def sample():
        while not done.is_set():
            peak[0] = max(peak[0], _tree_rss(pid))
            time.sleep(0.02)
    t = threading.Thread(target=sample)
    t.start()
    try:
        result = fn()
    finally:
        done.set()
        t.join()
    return peak[0], result


@pytest.mark.slow
def test_big_object_memory_is_bounded(tmp_path):
    size = int(os.environ.get("S3ISH_RSS_TEST_MIB", "512")) * MiB
    src = tmp_path / "big.bin"
    md5 = hashlib.md5()
    with open(src, "wb") as f:
        block = os.urandom(MiB)
        for i in range(size // MiB):
            chunk = block[:-8] + i.to_bytes(8, "big")
            md5.update(chunk)
            f.write(chunk)
    srv = ServerProcess(str(tmp_path / "data"), str(tmp_path), workers=1).start()
    try:
        c = srv.client()
        c.create_bucket(Bucket="big")

        def put():
            with open(src, "rb") as f:
                c.put_object(Bucket="big", Key="obj", Body=f)

        def get():
            h = hashlib.md5()
            body = c.get_object(Bucket="big", Key="obj")["Body"]
            for chunk in body.iter_chunks(MiB):
                h.update(chunk)
            return h.hexdigest()

        put_peak, _ = peak_rss_during(srv.proc.pid, put)
        get_peak, got = peak_rss_during(srv.proc.pid, get)
        assert got == md5.hexdigest()
        print(f"peak server RSS: PUT {put_peak / MiB:.0f} MiB, GET {get_peak / MiB:.0f} MiB "
              f"for a {size // MiB} MiB object")
        assert put_peak < 256 * MiB and get_peak < 256 * MiB
    finally:
        srv.stop()
