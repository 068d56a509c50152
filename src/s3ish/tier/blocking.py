"""Ranged reads of the cold tier for blocking callers: the engine's data handles are read from
worker threads (util.threads.run_io), so a handle of a unit in the tier (engine/cold.py)
needs a GET it can wait on without an event loop of its own.

`BlockingReader` runs one `Remote` on a private event loop in a daemon thread, started on
first use (after the server's worker process forked), and hands it coroutines with
`run_coroutine_threadsafe`: the server's event loop never waits on the remote, and reads
from many threads share one keep-alive pool. Each read is one ranged GET of exactly the bytes
asked (`get_bytes`, bounded by the client's op_timeout), retried a little when the error is
retryable (a blip), then raised: the caller answers 503, it does not wait for the tier to come
back.
"""
import asyncio
import dataclasses
import threading

from ..obs import metrics
from .config import TierConfig
from .errors import RemoteError
from .remote import Remote
from .retry import retrying

ATTEMPTS = 3          # tries of one read before its error is raised
READ_LIMIT = 64 << 20
POOL = 16             # connections for reads in one worker process


class BlockingReader:
    def __init__(self, config: TierConfig, attempts: int = ATTEMPTS):
        self.config = config
        self.attempts = attempts
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._remote: Remote | None = None
        self._thread: threading.Thread | None = None

    def _start(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._loop is None:
                loop = asyncio.new_event_loop()
                ready = threading.Event()

                def run():
                    asyncio.set_event_loop(loop)
                    # Reads wait on a connection while clients wait on them: a larger pool.
                    self._remote = Remote(dataclasses.replace(
                        self.config, pool_size=max(self.config.pool_size, POOL)))
                    ready.set()
                    loop.run_forever()
                self._thread = threading.Thread(target=run, name="tier-reader", daemon=True)
                self._thread.start()
                ready.wait()
                self._loop = loop
            return self._loop

    def read(self, key: str, start: int, end: int) -> bytes:
        """Bytes [start, end) of `key` (relative to the tier's prefix). Blocking: call it from
        a worker thread, never from an event loop. Raises RemoteError."""
        loop = self._start()
        tries = [0]

        def give_up() -> bool:
            tries[0] += 1
            return tries[0] >= self.attempts

        async def once():
            return await self._remote.get_bytes(key, start, end, limit=READ_LIMIT)
        future = asyncio.run_coroutine_threadsafe(
            retrying(once, should_stop=give_up, base=0.05, cap=0.5), loop)
        try:
            # The client bounds each attempt (op_timeout); this bounds the whole.
            data = future.result(timeout=self.config.op_timeout * self.attempts + 5)
        except TimeoutError:
            future.cancel()
            metrics.TIER_READS.labels("error").inc()
            raise RemoteError("GetObject", key, "no answer in time", retryable=True) from None
        except RemoteError:
            metrics.TIER_READS.labels("error").inc()
            raise
        if len(data) != end - start:
            metrics.TIER_READS.labels("error").inc()
            raise RemoteError("GetObject", key, f"{len(data)} bytes for a range of "
                              f"{end - start}", retryable=False)
        metrics.TIER_READS.labels("ok").inc()
        metrics.TIER_READ_BYTES.inc(len(data))
        return data

    def close(self) -> None:
        with self._lock:
            loop, self._loop = self._loop, None
        if loop is not None:
            remote = self._remote
            loop.call_soon_threadsafe(remote.close)
            loop.call_soon_threadsafe(loop.stop)
            self._thread.join(5)
