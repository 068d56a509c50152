"""Measure CompleteMultipartUpload time for 10 and 1000 parts, and peak server RSS while
completing 1000 parts and while copying a 2 GiB object. Run: .venv/bin/python
scripts/measure_multipart.py (needs ~10 GiB of free disk; prints a small report)."""
import concurrent.futures
import os
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from tests.fault.test_memory import peak_rss_during  # noqa: E402
from tests.support import ServerProcess  # noqa: E402

MiB = 1024 * 1024


def upload_parts(c, key, n, part):
    uid = c.create_multipart_upload(Bucket="measure", Key=key)["UploadId"]

    def one(i):
        return {"PartNumber": i, "ETag": c.upload_part(Bucket="measure", Key=key, UploadId=uid,
                                                       PartNumber=i, Body=part)["ETag"]}
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        done = list(pool.map(one, range(1, n + 1)))
    return uid, done


def main():
    tmp = tempfile.mkdtemp(prefix="s3ish-measure-")
    srv = ServerProcess(os.path.join(tmp, "data"), tmp, workers=1).start()
    try:
        c = srv.client(max_pool_connections=16)
        c.create_bucket(Bucket="measure")
        part = os.urandom(5 * MiB)
        for n in (10, 1000):
            times = []
            for rep in range(3 if n == 10 else 1):
                uid, done = upload_parts(c, f"k{n}-{rep}", n, part)

                def complete():
                    t0 = time.perf_counter()
                    c.complete_multipart_upload(Bucket="measure", Key=f"k{n}-{rep}", UploadId=uid,
                                                MultipartUpload={"Parts": done})
                    return time.perf_counter() - t0
                peak, took = peak_rss_during(srv.proc.pid, complete)
                times.append(took)
            print(f"CompleteMultipartUpload {n} parts: median {statistics.median(times) * 1000:.1f}"
                  f" ms (runs: {', '.join(f'{t * 1000:.1f}' for t in times)}), peak RSS "
                  f"{peak / MiB:.0f} MiB")
            for rep in range(3 if n == 10 else 1):
                c.delete_object(Bucket="measure", Key=f"k{n}-{rep}")
        src = os.path.join(tmp, "src.bin")
        with open(src, "wb") as f:
            for i in range(2048):
                f.write(part[: MiB - 8] + i.to_bytes(8, "big"))
        with open(src, "rb") as f:
            c.put_object(Bucket="measure", Key="two-gib", Body=f)
        os.unlink(src)

        def copy():
            t0 = time.perf_counter()
            c.copy_object(Bucket="measure", Key="two-gib-copy", CopySource="measure/two-gib")
            return time.perf_counter() - t0
        peak, took = peak_rss_during(srv.proc.pid, copy)
        print(f"CopyObject 2 GiB: {took:.1f} s, peak RSS {peak / MiB:.0f} MiB")
    finally:
        srv.stop()
        import shutil
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
