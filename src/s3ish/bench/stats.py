"""Benchmark statistics: per-operation latencies, throughput, errors; the table, the JSON and the
progress line.

Latencies are kept (as doubles, in seconds) for every operation so the percentiles are exact;
that is 8 bytes per operation, a few MB for a long run. MB/s counts 10^6 bytes per second of
object data (request bodies for writes, response bodies for reads).
"""
import asyncio
import sys
import time
from array import array


class OpStats:
    __slots__ = ("name", "latencies", "nbytes", "errors", "first_error")

    def __init__(self, name: str):
        self.name = name
        self.latencies = array("d")
        self.nbytes = 0
        self.errors = 0
        self.first_error = None


class Recorder:
    """Collects the results of every operation of a run (one event loop, no locking)."""

    def __init__(self):
        self.ops: dict[str, OpStats] = {}
        self.done = 0       # successful operations, all kinds (for the progress line)
        self.failed = 0

    def _op(self, name: str) -> OpStats:
        op = self.ops.get(name)
        if op is None:
            op = self.ops[name] = OpStats(name)
        return op

    def ok(self, name: str, seconds: float, nbytes: int = 0) -> None:
        op = self._op(name)
        op.latencies.append(seconds)
        op.nbytes += nbytes
        self.done += 1

    def error(self, name: str, error: BaseException | str) -> None:
        op = self._op(name)
        op.errors += 1
        self.failed += 1
        if op.first_error is None:
            op.first_error = error if isinstance(error, str) else \
                (str(error) or type(error).__name__)


def percentile(sorted_values, q: float) -> float:
    """Nearest-rank percentile of an already sorted sequence (0 if empty)."""
    if not sorted_values:
        return 0.0
    rank = max(1, min(len(sorted_values), int(-(-q * len(sorted_values) // 100))))
    return sorted_values[rank - 1]


def _summary(latencies, nbytes: int, errors: int, first_error, elapsed: float) -> dict:
    lat = sorted(latencies)
    n = len(lat)
    ms = {"p50": percentile(lat, 50) * 1e3, "p90": percentile(lat, 90) * 1e3,
          "p99": percentile(lat, 99) * 1e3, "max": (lat[-1] * 1e3) if lat else 0.0,
          "mean": (sum(lat) / n * 1e3) if n else 0.0}
    return {"ops": n, "ops_per_s": n / elapsed if elapsed > 0 else 0.0, "bytes": nbytes,
            "mb_per_s": nbytes / elapsed / 1e6 if elapsed > 0 else 0.0,
            "latency_ms": {k: round(v, 3) for k, v in ms.items()},
            "errors": errors, "first_error": first_error}


def summarize(rec: Recorder, elapsed: float, aggregates=()) -> dict:
    """{'total': {...}, 'operations': {name: {...}}} for a run that lasted `elapsed` s.
    `aggregates` name operations made of others (a whole multipart object): reported, but
    left out of the total so nothing counts twice."""
    ops = {name: _summary(op.latencies, op.nbytes, op.errors, op.first_error, elapsed)
           for name, op in rec.ops.items()}
    counted = [op for name, op in rec.ops.items() if name not in aggregates]
    every = array("d")
    for op in counted:
        every.extend(op.latencies)
    first = next((op.first_error for op in counted if op.first_error), None)
    total = _summary(every, sum(op.nbytes for op in counted),
                     sum(op.errors for op in counted), first, elapsed)
    return {"total": total, "operations": ops}


def human_size(n: int) -> str:
    for unit, factor in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= factor and n % (factor // 1024 or 1) == 0:
            value = n / factor
            return f"{value:g} {unit}" if value == int(value) else f"{value:.2f} {unit}"
    return f"{n} B"


def table(result: dict) -> str:
    """The human-readable report of a result dict (as built by the runner)."""
    head = (f"{'operation':<24}{'ops':>9}{'ops/s':>11}{'MB/s':>10}{'p50 ms':>9}{'p90 ms':>9}"
            f"{'p99 ms':>9}{'max ms':>9}{'errors':>8}")
    lines = [f"s3ish bench {result['workload']}: {result['endpoint']} bucket "
             f"{result['bucket']}, {human_size(result['size'])} objects, "
             f"{result['concurrency']} connections, {result['duration_s']:.2f} s", head]

    def row(name, s):
        lat = s["latency_ms"]
        return (f"{name:<24}{s['ops']:>9}{s['ops_per_s']:>11.1f}{s['mb_per_s']:>10.2f}"
                f"{lat['p50']:>9.2f}{lat['p90']:>9.2f}{lat['p99']:>9.2f}{lat['max']:>9.2f}"
                f"{s['errors']:>8}")

    for name, s in result["operations"].items():
        lines.append(row(name, s))
    if len(result["operations"]) > 1:
        lines.append(row("total", result))
    for name, s in result["operations"].items():
        if s["first_error"]:
            lines.append(f"first error ({name}, {s['errors']} in all): {s['first_error']}")
    for note in result.get("notes", []):
        lines.append(note)
    lines.append(f"client CPU: {result['client_cpu_percent']:.0f}% of one core")
    if result["client_cpu_percent"] > 85:
        lines.append("WARNING: the client used more than 85% of a core: the client may be the "
                     "bottleneck (these numbers may understate the server)")
    return "\n".join(lines)


class Progress:
    """A \\r-updated line on stderr: elapsed time, operations so far, current ops/s."""

    def __init__(self, rec: Recorder, label: str, interval: float = 1.0, stream=None):
        self.rec = rec
        self.label = label
        self.interval = interval
        self.stream = stream or sys.stderr
        self._task = None
        self._width = 0

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def _run(self) -> None:
        start = last_t = time.perf_counter()
        last_n = 0
        while True:
            await asyncio.sleep(self.interval)
            now = time.perf_counter()
            n = self.rec.done
            rate = (n - last_n) / (now - last_t)
            last_n, last_t = n, now
            err = f"  errors {self.rec.failed}" if self.rec.failed else ""
            self._write(f"{self.label} {now - start:6.1f}s  {n} ops  {rate:,.0f} ops/s{err}")

    def _write(self, text: str) -> None:
        pad = max(0, self._width - len(text))
        self._width = len(text)
        self.stream.write("\r" + text + " " * pad)
        self.stream.flush()

    def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            self._task = None
        if self._width:
            self.stream.write("\r" + " " * self._width + "\r")
            self.stream.flush()
            self._width = 0
