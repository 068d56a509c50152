"""The healer: rewrites missing or corrupt shards of the data units reads and scrubs reported,
and rebuilds a replaced (new, empty) drive from the others."""
import logging

from ..obs import metrics
from ..util.threads import run_io
from .worker import Status

log = logging.getLogger("s3ish.heal")


class Healer:
    """`rebuild`: this worker also rebuilds replaced drives (one worker does, under a lock):
    every data unit is healed once, then the new drives are marked rebuilt."""

    def __init__(self, store, status, rebuild: bool = False):
        self.store = store          # an ErasureDataStore
        self.status = status        # a HealStatus, shared with the scrubber and admin API
        self._queue: list[str] = []
        self._rebuild = rebuild and bool(store.set.rebuilding())
        self._rebuilding = False    # the full pass is queued and not finished yet
        self._rebuild_failed = 0

    async def step(self) -> Status:
        if not self._queue:
            self._queue = self.store.take_damaged()
            if self._rebuild:
                self._queue += await run_io(self.store.list_ids)
                self._rebuild = False
                self._rebuilding = True
            if not self._queue:
                if self._rebuilding:
                    self._rebuilding = False
                    if not self._rebuild_failed:
                        await run_io(self.store.set.mark_rebuilt)
                        log.warning("rebuild of replaced drives complete")
                return Status.IDLE
        data_id = self._queue.pop()
        metrics.HEAL_QUEUE.set(len(self._queue) + self.store.damaged_count())
        try:
            repaired = await run_io(self.store.heal, data_id)
        except FileNotFoundError:
            return Status.BUSY          # deleted meanwhile: nothing to heal
        except OSError as e:
            self.status.failed += 1
            self._rebuild_failed += 1
            log.error("heal of %s failed: %s", data_id, e)
            return Status.BUSY
        if repaired:
            self.status.repaired_shards += len(repaired)
            metrics.HEAL_REPAIRED.inc(len(repaired))
            log.warning("healed %s: rewrote shards %s", data_id, repaired)
        return Status.BUSY
