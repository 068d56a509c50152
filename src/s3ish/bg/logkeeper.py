"""The log keeper: keeps the local journal bounded while the server runs (one process, see
bg/worker.Exclusive). When the segments after the newest checkpoint pass a size bound it
takes a checkpoint (meta/checkpoint.py: the index at an exact LSN on every drive, the journal
sealed there), and it deletes the sealed segments every drive's snapshot covers, never past
`keep_above()`: with a cold tier, the S3 high-water mark (I2: nothing unshipped is deleted).
The shipper takes its checkpoints through `checkpoint()` too, one at a time.
"""
import asyncio
import logging

from ..meta import checkpoint, journal
from ..obs import metrics
from ..util.threads import run_io
from .worker import Status

log = logging.getLogger("s3ish.log")


class LogKeeper:
    def __init__(self, db_path: str, drives: list[str], quorum: int = 1, durable: bool = True,
                 keep_above=lambda: None, bound: int = 64 * 1024 * 1024):
        self.db_path = db_path
        self.drives = drives
        self.quorum = quorum
        self.durable = durable
        self.keep_above = keep_above      # () -> None (no bound) or the LSN to keep above
        self.bound = bound
        self._lock = asyncio.Lock()

    async def checkpoint(self) -> int:
        """A checkpoint now: its LSN, or -1 when too few drives took it."""
        async with self._lock:
            lsn = await run_io(checkpoint.take, self.db_path, self.drives, self.durable,
                               self.quorum)
        if lsn >= 0:
            metrics.CHECKPOINTS.inc()
            metrics.CHECKPOINT_LSN.set(lsn)
        return lsn

    async def step(self) -> Status:
        latest = await run_io(checkpoint.latest_lsn, self.drives)
        if await run_io(journal.size, self.drives, latest) > self.bound:
            lsn = await self.checkpoint()
            log.info("checkpoint of the index at %d", lsn)
        async with self._lock:
            gone = await run_io(checkpoint.truncate_behind, self.drives, self.keep_above())
        metrics.JOURNAL_BYTES.set(await run_io(journal.size, self.drives))
        if gone:
            log.info("journal: %d sealed segments deleted behind the checkpoint", gone)
        return Status.IDLE
