"""One benchmark run: connect, make sure the bucket exists, pre-populate, measure, clean up.

The payload is allocated once (the object size or, for multipart, the part size; random bytes,
or with --payload text log-like lines that compress about 4x, for servers that compress) and
the same buffer is sent by every request. The measured phase is timed from the moment the
workers start to the moment the last one finishes; the client's own CPU time over that phase is
reported as a share of one core, since a single event loop cannot use more than one.
"""
import asyncio
import os
import random
import signal
import time
import uuid
from dataclasses import dataclass, field

from .client import S3
from ..util.httpclient import Watchdog
from .stats import Progress, Recorder, summarize
from .workloads import ERRORS, WORKLOADS

CPU_WARNING = 85.0


@dataclass
class BenchConfig:
    workload: str
    endpoint: str
    access_key: str
    secret_key: str
    region: str = "us-east-1"
    bucket: str = "s3ish-bench"
    size: int = 4096
    part_size: int = 5 << 20
    concurrency: int = 16
    duration: float | None = None
    count: int | None = None
    objects: int | None = None
    mix: tuple = (60, 30, 10)
    max_keys: int = 1000
    versions: int = 5
    prefilled: bool = False
    fill_concurrency: int = 32
    prefix: str | None = None
    progress: bool = True
    cleanup: bool = True
    timeout: float = 60.0
    verify_tls: bool = True
    payload: str = "random"           # or "text": compressible numbered lines
    notes: list = field(default_factory=list)


def text_payload(n: int) -> bytes:
    """`n` bytes of log-like lines: numbered, with random request ids (so no two blocks of a
    body are alike and the ratio is a log's, not a run of zeros')."""
    rnd = random.Random(n)
    out, i = bytearray(), 0
    while len(out) < n:
        out += b"%012d req=%08x GET /bench/obj-%04x 200 %d bytes ok\n" % (
            i, rnd.getrandbits(32), rnd.getrandbits(12), rnd.getrandbits(16))
        i += 1
    return bytes(out[:n])


def default_objects(cfg: BenchConfig) -> int:
    if cfg.objects is not None:
        return cfg.objects
    if cfg.workload == "list":
        return 10_000
    if cfg.workload == "delete":
        return cfg.count or 1000
    # Enough distinct objects to spread reads, bounded to ~1 GiB of pre-populated data.
    return max(1, min(1000, (1 << 30) // max(cfg.size, 1)))


class Run:
    """The state shared by the workers of one run (all on one event loop: no locks)."""

    def __init__(self, cfg: BenchConfig, s3: S3, conns, rec: Recorder):
        self.cfg = cfg
        self.s3 = s3
        self.conns = conns
        self.rec = rec
        self.size = cfg.size
        self.part_size = cfg.part_size
        self.mix = cfg.mix
        self.max_keys = cfg.max_keys
        self.versions = cfg.versions
        self.prefilled = cfg.prefilled
        self.objects = default_objects(cfg)
        self.prefix = cfg.prefix or f"bench-{uuid.uuid4().hex[:8]}/"
        n = min(cfg.size, cfg.part_size) if cfg.workload == "multipart" else cfg.size
        self.payload = os.urandom(n) if cfg.payload == "random" else text_payload(n)
        self.loop = asyncio.get_running_loop()
        self.deadline = None
        self.remaining = None
        self._stopped = False

    def start_clock(self) -> None:
        self.deadline = None if self.cfg.duration is None else \
            self.loop.time() + self.cfg.duration
        self.remaining = self.cfg.count

    def take(self) -> bool:
        """May another operation start? (Consumes one of --count.)"""
        if self._stopped:
            return False
        if self.deadline is not None and self.loop.time() >= self.deadline:
            self._stopped = True
            return False
        if self.remaining is not None:
            if self.remaining <= 0:
                return False
            self.remaining -= 1
        return True

    def stop(self) -> None:
        """End the run early (Ctrl-C): workers finish their operation in flight and stop."""
        self._stopped = True

    def stopping(self) -> bool:
        if self.deadline is not None and self.loop.time() >= self.deadline:
            self._stopped = True
        return self._stopped

    async def fill(self, n: int) -> list[str]:
        """PUT n objects of --size under the run's prefix; return their encoded paths."""
        paths = [self.s3.key_path(f"{self.prefix}{i:08d}") for i in range(n)]
        if not self.prefilled:
            await self.fill_with(self.conns, iter(paths), n)
        return paths

    async def fill_with(self, conns, todo, n: int) -> None:
        """PUT --size bodies to the paths `todo` yields (n of them), on `conns` at once."""
        body = self.payload[:self.size]
        rec = Recorder()
        progress = Progress(rec, f"preparing {n} objects:") if self.cfg.progress else None
        if progress:
            progress.start()

        async def put(conn):
            for path in todo:
                await self.s3.put(conn, path, body)
                rec.ok("PUT", 0.0)
        try:
            await asyncio.gather(*(put(c) for c in conns))
        except ERRORS as e:
            raise RuntimeError(f"pre-populating the bucket failed: {e}") from None
        finally:
            if progress:
                progress.stop()

    async def cleanup(self, delete_bucket: bool) -> None:
        """Delete what the run wrote (and the bucket if the run created it)."""
        conn = self.conns[0]
        batches = []
        async for keys in self.s3.list_all(conn, self.prefix):
            if keys:
                batches.append(keys)
        queue = iter(batches)

        async def delete(conn):
            for keys in queue:
                await self.s3.delete_objects(conn, keys)
        await asyncio.gather(*(delete(c) for c in self.conns[:8]))
        if delete_bucket:
            await self.s3.delete_bucket(conn)


async def run(cfg: BenchConfig) -> dict:
    if cfg.workload not in WORKLOADS:
        raise ValueError(f"unknown workload {cfg.workload!r}")
    if cfg.duration is None and cfg.count is None:
        cfg.duration = 10.0
    s3 = S3(cfg.endpoint, cfg.access_key, cfg.secret_key, cfg.region, cfg.bucket,
            verify_tls=cfg.verify_tls)
    conns = [s3.connection(cfg.timeout) for _ in range(max(1, cfg.concurrency))]
    watchdog = Watchdog(conns, cfg.timeout)
    watchdog.start()
    rec = Recorder()
    r = Run(cfg, s3, conns, rec)
    workload = WORKLOADS[cfg.workload](r)
    created = False
    try:
        try:
            created = await s3.ensure_bucket(conns[0])
        except ERRORS as e:
            raise RuntimeError(f"cannot use bucket {cfg.bucket!r} at {cfg.endpoint}: {e}") \
                from None
        await workload.prepare()
        progress = Progress(rec, f"{cfg.workload}:") if cfg.progress else None
        if progress:
            progress.start()
        interrupted = _on_first_interrupt(r.loop, r.stop)
        r.start_clock()
        cpu0, t0 = time.process_time(), time.perf_counter()
        try:
            await asyncio.gather(*(workload.worker(i, c) for i, c in enumerate(conns)))
        finally:
            elapsed = time.perf_counter() - t0
            cpu = time.process_time() - cpu0
            if progress:
                progress.stop()
        notes = list(cfg.notes)
        if interrupted():
            notes.append("note: interrupted; these are the results up to the interruption")
        if cfg.workload == "delete" and not workload.keys and r.remaining != 0 and \
                (r.deadline is None or r.loop.time() < r.deadline):
            notes.append(f"note: the run ended when all {r.objects} pre-populated objects "
                         f"were deleted (--objects sets how many)")
        if cfg.cleanup:
            try:
                await getattr(workload, "cleanup", r.cleanup)(created)
            except ERRORS as e:
                notes.append(f"warning: clean-up failed: {e}")
    finally:
        watchdog.stop()
        for c in conns:
            c.close()
    summary = summarize(rec, elapsed, workload.aggregates)
    for name in workload.ops:  # report every operation of the workload, even with 0 ops
        summary["operations"].setdefault(name, summarize(Recorder(), elapsed)["total"])
    ordered = {n: summary["operations"][n] for n in workload.ops}
    ordered.update(summary["operations"])
    cpu_percent = 100.0 * cpu / elapsed if elapsed > 0 else 0.0
    result = {"workload": cfg.workload, "endpoint": cfg.endpoint, "bucket": cfg.bucket,
              "prefix": r.prefix, "size": cfg.size, "concurrency": len(conns),
              "duration_s": round(elapsed, 3), **summary["total"], "operations": ordered,
              "client_cpu_percent": round(cpu_percent, 1),
              "client_may_be_bottleneck": cpu_percent > CPU_WARNING, "notes": notes}
    if cfg.workload == "multipart":
        result["part_size"] = cfg.part_size
    if workload.prefill:
        result["objects"] = r.objects
    if cfg.workload == "versions":
        result["versions"] = cfg.versions
    if cfg.workload == "mixed":
        result["mix"] = dict(zip(("get", "put", "delete"), cfg.mix))
    return result


def _on_first_interrupt(loop, callback):
    """Make the first Ctrl-C call `callback` (the run then reports and cleans up); a second
    one interrupts as usual. Returns a function telling whether it happened."""
    fired = []

    def handler():
        fired.append(True)
        loop.remove_signal_handler(signal.SIGINT)
        callback()
    try:
        loop.add_signal_handler(signal.SIGINT, handler)
    except (NotImplementedError, RuntimeError, ValueError):
        pass  # not the main thread, or a platform without signal handlers
    return lambda: bool(fired)


def run_sync(cfg: BenchConfig, use_uvloop: bool = True) -> dict:
    if use_uvloop:
        try:
            import uvloop
        except ImportError:
            pass
        else:
            return uvloop.run(run(cfg))
    return asyncio.run(run(cfg))
