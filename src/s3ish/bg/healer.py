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
        self._may_rebuild = rebuild
        self._rebuilding: list = []  # the drives the full pass under way is for
        self._rebuild_failed = 0

    async def step(self) -> Status:
        if not self._queue:
            self._queue = self.store.take_damaged()
            if self._may_rebuild and not self._rebuilding and self.store.set.rebuilding():
                # Drives joined (at start-up or since): one heal pass over every unit.
                self._rebuilding = self.store.set.rebuilding()
                self._rebuild_failed = 0
                self._queue += await run_io(self.store.list_ids)
                return Status.BUSY
            if not self._queue:
                if self._rebuilding:
                    drives, self._rebuilding = self._rebuilding, []
                    if not self._rebuild_failed:
                        await run_io(self.store.set.mark_rebuilt, drives)
                        log.warning("rebuild of %s complete", ", ".join(d.path for d in drives))
                return Status.IDLE
        data_id = self._queue.pop()
        self.status.heal_taken = len(self._queue)
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
