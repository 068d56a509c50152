"""`s3ish bench put|get --grpc HOST:PORT`: the same PUT and GET workloads over s3ish's gRPC
interface (grpc/client.py's AsyncClient), for gRPC vs HTTP side by side (scripts/
bench_matrix.py). One channel (one HTTP/2 connection) per worker, as the HTTP bench has one
connection per worker; every GET reads the whole object and checks each chunk's CRC32C.
The result has the shape of runner.run's.
"""
import asyncio
import os
import random
import time
import uuid
from time import perf_counter

import grpc

from ..grpc.client import AsyncClient, ChecksumError
from .runner import default_objects, text_payload
from .stats import Progress, Recorder, summarize

ERRORS = (grpc.RpcError, ChecksumError, OSError, asyncio.TimeoutError)


class _Clock:
    def __init__(self, duration: float | None, count: int | None):
        self.loop = asyncio.get_running_loop()
        self.deadline = None if duration is None else self.loop.time() + duration
        self.remaining = count

    def take(self) -> bool:
        if self.deadline is not None and self.loop.time() >= self.deadline:
            return False
        if self.remaining is not None:
            if self.remaining <= 0:
                return False
            self.remaining -= 1
        return True


async def run_grpc(cfg, target: str) -> dict:
    if cfg.workload not in ("put", "get"):
        raise ValueError(f"--grpc runs the put and get workloads, not {cfg.workload!r}")
    if cfg.duration is None and cfg.count is None:
        cfg.duration = 10.0
    clients = [AsyncClient(target, cfg.access_key, cfg.secret_key, cfg.region)
               for _ in range(max(1, cfg.concurrency))]
    rec, written = Recorder(), []
    prefix = cfg.prefix or f"bench-{uuid.uuid4().hex[:8]}/"
    payload = os.urandom(cfg.size) if cfg.payload == "random" else text_payload(cfg.size)
    bucket = cfg.bucket
    try:
        try:
            await clients[0].create_bucket(bucket)
            created = True
        except grpc.RpcError as e:
            if e.code() != grpc.StatusCode.ALREADY_EXISTS:
                raise RuntimeError(f"cannot use bucket {bucket!r} at {target}: "
                                   f"{e.code().name} {e.details()}") from None
            created = False
        keys = []
        if cfg.workload == "get":
            keys = [f"{prefix}{i:08d}" for i in range(default_objects(cfg))]
            todo = iter(keys)

            async def fill(c):
                for key in todo:
                    await c.put(bucket, key, payload)
            await asyncio.gather(*(fill(c) for c in clients))
            written += keys
        progress = Progress(rec, f"{cfg.workload} (gRPC):") if cfg.progress else None
        if progress:
            progress.start()
        clock = _Clock(cfg.duration, cfg.count)
        cpu0, t0 = time.process_time(), perf_counter()
        try:
            work = _put if cfg.workload == "put" else _get
            await asyncio.gather(*(work(i, c, clock, rec, bucket, prefix, payload, keys,
                                        written) for i, c in enumerate(clients)))
        finally:
            elapsed, cpu = perf_counter() - t0, time.process_time() - cpu0
            if progress:
                progress.stop()
        if cfg.cleanup:
            todo = iter(written)

            async def delete(c):
                for key in todo:
                    await c.delete(bucket, key)
            await asyncio.gather(*(delete(c) for c in clients[:8]))
            if created:
                await clients[0].delete_bucket(bucket)
    finally:
        for c in clients:
            await c.close()
    summary = summarize(rec, elapsed)
    op = "PUT" if cfg.workload == "put" else "GET"
    summary["operations"].setdefault(op, summarize(Recorder(), elapsed)["total"])
    cpu_percent = 100.0 * cpu / elapsed if elapsed > 0 else 0.0
    return {"workload": cfg.workload, "endpoint": f"grpc://{target}", "bucket": bucket,
            "prefix": prefix, "size": cfg.size, "concurrency": len(clients),
            "duration_s": round(elapsed, 3), **summary["total"],
            "operations": summary["operations"], "client_cpu_percent": round(cpu_percent, 1),
            "client_may_be_bottleneck": cpu_percent > 85.0, "notes": list(cfg.notes),
            **({"objects": len(keys)} if keys else {})}


async def _put(index, client, clock, rec, bucket, prefix, payload, _keys, written):
    seq = 0
    while clock.take():
        key = f"{prefix}w{index}-{seq}"
        seq += 1
        t = perf_counter()
        try:
            await client.put(bucket, key, payload)
        except ERRORS as e:
            rec.error("PUT", e)
            continue
        rec.ok("PUT", perf_counter() - t, len(payload))
        written.append(key)


async def _get(_index, client, clock, rec, bucket, _prefix, payload, keys, _written):
    size = len(payload)
    while clock.take():
        t = perf_counter()
        try:
            n = await client.get(bucket, random.choice(keys))
        except ERRORS as e:
            rec.error("GET", e)
            continue
        if n != size:
            rec.error("GET", f"GET returned {n} bytes, expected {size}")
            continue
        rec.ok("GET", perf_counter() - t, size)


def run_grpc_sync(cfg, target: str, use_uvloop: bool = True) -> dict:
    if use_uvloop:
        try:
            import uvloop
        except ImportError:
            pass
        else:
            return uvloop.run(run_grpc(cfg, target))
    return asyncio.run(run_grpc(cfg, target))
