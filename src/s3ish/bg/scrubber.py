"""The scrubber: verifies every chunk of every shard at a bounded rate (MB/s), quarantining
and queueing for heal whatever fails its bitrot hash."""
import time
from dataclasses import asdict, dataclass

from ..obs import metrics
from ..util.threads import run_io
from .worker import Status


@dataclass
class HealStatus:
    """What an operator sees of scrubbing and healing (`s3ish admin heal status`)."""
    scrub_cycles: int = 0
    scrub_position: int = 0          # data units verified in the current cycle
    scrub_total: int = 0             # data units in the current cycle
    bytes_verified: int = 0
    units_verified: int = 0
    corrupt_shards_found: int = 0
    repaired_shards: int = 0
    failed: int = 0
    last_cycle_seconds: float = 0.0
    # Units a healer took and has not healed yet (a drive rebuild queues every unit).
    heal_taken: int = 0

    def to_dict(self) -> dict:
        return asdict(self)


class Scrubber:
    def __init__(self, store, status: HealStatus, rate_mb_s: float):
        self.store = store
        self.status = status
        self.rate = rate_mb_s * 1e6          # bytes per second; 0 = unlimited
        self._ids: list[str] = []
        self._started = 0.0
        self._budget_from = time.monotonic()
        self._spent = 0

    async def step(self) -> Status:
        if self.rate and self._spent > self.rate * (time.monotonic() - self._budget_from):
            return Status.THROTTLED
        if not self._ids:
            if self._started:
                self.status.scrub_cycles += 1
                self.status.last_cycle_seconds = time.monotonic() - self._started
            self._ids = await run_io(self.store.list_ids)
            self._ids.reverse()
            self._started = time.monotonic()
            self.status.scrub_total, self.status.scrub_position = len(self._ids), 0
            if not self._ids:
                self._started = 0.0
                return Status.IDLE
        data_id = self._ids.pop()
        nbytes, bad = await run_io(self.store.verify, data_id)
        self._spent += nbytes
        self.status.scrub_position += 1
        self.status.units_verified += 1
        self.status.bytes_verified += nbytes
        self.status.corrupt_shards_found += len(bad)
        metrics.SCRUB_BYTES.inc(nbytes)
        if bad:
            metrics.CORRUPTIONS.inc(len(bad))
        return Status.BUSY

    async def run_full(self) -> dict:
        """A full verification now (admin `scrub`), ignoring the rate limit."""
        ids = await run_io(self.store.list_ids)
        found, nbytes = 0, 0
        for data_id in ids:
            n, bad = await run_io(self.store.verify, data_id)
            nbytes += n
            found += len(bad)
        self.status.bytes_verified += nbytes
        self.status.units_verified += len(ids)
        self.status.corrupt_shards_found += found
        metrics.SCRUB_BYTES.inc(nbytes)
        if found:
            metrics.CORRUPTIONS.inc(found)
        return {"units": len(ids), "bytes": nbytes, "corrupt_shards": found}
