"""The worker pattern: `step()` does a bounded piece of work and says how it went; `run()`
loops it, sleeping when idle, until cancelled."""
import asyncio
import enum
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
