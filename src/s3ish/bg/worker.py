"""The worker pattern: `step()` does a bounded piece of work and says how it went; `run()`
loops it, sleeping when idle, until cancelled. `Exclusive` runs a worker in one process of
several (a lock file)."""
import asyncio
import enum
import fcntl
import logging

log = logging.getLogger("s3ish.bg")


class Status(enum.Enum):
    BUSY = "busy"             # did work; more may be waiting
    IDLE = "idle"             # nothing to do now
    THROTTLED = "throttled"   # work waits for a rate limit
    DONE = "done"             # finished for good


async def run(worker, idle_seconds: float) -> None:
    """Run `worker.step()` until DONE or cancelled; a failing step is logged, not fatal."""
    while True:
        try:
            status = await worker.step()
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("%s step failed", type(worker).__name__)
            status = Status.IDLE
        if status is Status.DONE:
            return
        if status is not Status.BUSY:
            await asyncio.sleep(idle_seconds)


class ProcessLock:
    """A lock file held for the life of the process once taken (fcntl, non-blocking): a
    job that must run in one process only runs where it is held. `held()` tries again each
    time it is asked, so the job moves to another process when its holder dies."""

    def __init__(self, path: str):
        self.path = path
        self._file = None

    def held(self) -> bool:
        if self._file is not None:
            return True
        try:
            f = open(self.path, "a+")
        except OSError:
            return False
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            f.close()
            return False
        self._file = f
        return True


class Exclusive:
    """`worker` stepped only in the process holding `lock` (a ProcessLock; several workers
    may share one, so they always run in the same process)."""

    def __init__(self, worker, lock: ProcessLock):
        self.worker = worker
        self.lock = lock

    async def step(self) -> Status:
        if not self.lock.held():
            return Status.IDLE
        return await self.worker.step()
