"""Latency of concurrent small GETs while one client streams a huge request header.

8 keep-alive connections loop GET of a 4 KiB object (a presigned URL, raw sockets, so the
client costs little) for SECONDS with no flood, then SECONDS more while another process
streams a 64 MiB header line over and over (each time on a new connection). Prints p50, p99
and max per phase, and how long each flood connection took.

Run from a checkout (the server is started from whatever `s3ish` PYTHONPATH gives):
    PYTHONPATH=src .venv/bin/python scripts/measure_header_flood.py [SECONDS]
"""
import asyncio
import multiprocessing
import os
import socket
import statistics
import sys
import tempfile
import time
from urllib.parse import urlsplit

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from tests.support import ServerProcess  # noqa: E402

CLIENTS = 8
FLOOD_BYTES = 64 * 1024 * 1024


def flood(port: int, stop_at: float, out) -> None:
    """Stream a 64 MiB header on fresh connections until stop_at; report seconds per flood."""
    piece = b"a" * (64 * 1024)
    while time.time() < stop_at:
        t0 = time.time()
        s = socket.create_connection(("127.0.0.1", port))
        s.settimeout(60)
        try:
            s.sendall(b"GET /_health HTTP/1.1\r\nHost: x\r\nX-Flood: ")
            for _ in range(FLOOD_BYTES // len(piece)):
                s.sendall(piece)
            s.sendall(b"\r\n\r\n")
            status = s.recv(64).split(b"\r\n", 1)[0].decode(errors="replace")
        except OSError as e:
            status = f"connection {type(e).__name__}"
        finally:
            s.close()
        out.put((time.time() - t0, status))


async def getter(port: int, request: bytes, until: float, lat: list) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    while time.time() < until:
        t0 = time.perf_counter()
        writer.write(request)
        head = await reader.readuntil(b"\r\n\r\n")
        length = int(head.lower().split(b"content-length:")[1].split(b"\r\n")[0])
        await reader.readexactly(length)
        lat.append(time.perf_counter() - t0)
    writer.close()


async def phase(port: int, request: bytes, seconds: float) -> list:
    lat: list = []
    until = time.time() + seconds
    await asyncio.gather(*(getter(port, request, until, lat) for _ in range(CLIENTS)))
    return lat


def report(name: str, lat: list) -> None:
    lat = sorted(x * 1000 for x in lat)
    p99 = lat[int(len(lat) * 0.99) - 1]
    print(f"{name:>14}: {len(lat)} GETs, p50 {statistics.median(lat):.2f} ms, "
          f"p99 {p99:.2f} ms, max {lat[-1]:.2f} ms", flush=True)


def main() -> None:
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 5.0
    tmp = tempfile.mkdtemp(prefix="s3ish-flood-")
    srv = ServerProcess(os.path.join(tmp, "data"), tmp, workers=1).start()
    try:
        c = srv.client()
        c.create_bucket(Bucket="flood")
        c.put_object(Bucket="flood", Key="small", Body=os.urandom(4096))
        url = urlsplit(c.generate_presigned_url("get_object", ExpiresIn=3600,
                                                Params={"Bucket": "flood", "Key": "small"}))
        request = (f"GET {url.path}?{url.query} HTTP/1.1\r\nHost: {url.netloc}\r\n\r\n"
                   .encode())
        report("no flood", asyncio.run(phase(srv.port, request, seconds)))
        results = multiprocessing.Queue()
        proc = multiprocessing.Process(target=flood,
                                       args=(srv.port, time.time() + seconds, results))
        proc.start()
        report("64 MiB flood", asyncio.run(phase(srv.port, request, seconds)))
        proc.join(120)
        floods = []
        while not results.empty():
            floods.append(results.get())
        took = ", ".join(f"{t:.2f}s" for t, _ in floods[:5])
        print(f"{'floods':>14}: {len(floods)} x 64 MiB headers, each took {took}"
              f"{' ...' if len(floods) > 5 else ''}; answers: "
              f"{sorted(set(s for _, s in floods))}", flush=True)
    finally:
        srv.stop()


if __name__ == "__main__":
    main()
