"""What the lifecycle worker (bg/lifecycle.py) does with the cold tier: move a version's data
units there (a transition), fetch and free RestoreObject's local copies.

A transition, for one version (docs/tier.md, "Transitions"):
1. for each data unit: HEAD `data/<data id>` (the shipper may have uploaded it already); if
   absent, upload the local unit's stored bytes, create-only, streamed block by block; then
   HEAD again: the remote copy must have exactly the stored size;
2. then one journaled TransitionVersion record (compare-and-swap: a write that replaced or
   removed the version meanwhile wins, and the record does nothing);
3. then the local copies are freed, as every free is (the graveyard with a cold tier: deleted
   once the shipper has shipped past the record).
A crash anywhere leaves the version readable: before the record the local units are still
its data (the next run finds the remote copies by HEAD and commits); after it the tier holds
them, and a local copy left unfreed is unreferenced garbage the start-up sweep buries.

A restore fetches each remote unit into a new local unit (a copy, under a data id of its own),
checks its length, then records the copies (CompleteRestore); copies no record keeps are freed.

The remote retries a little (a blip), then the key is put back on the schedule
(`TierDown`): the lifecycle worker is never stuck on a tier that is down, and for a while
after a failure other transitions are not tried (`down_for`).
"""
import asyncio
import logging
import os
import time

from ..engine import cold, tiering
from ..engine.lifecycle import after_days
from ..obs import metrics
from ..tier.errors import PreconditionFailed, RemoteError
from ..tier.layout import data_key
from ..tier.remote import Remote
from ..tier.retry import backoff, retrying
from ..util.threads import run_io

log = logging.getLogger("s3ish.tier")
READ = 1 << 20
ATTEMPTS = 4            # tries of one remote operation before the key waits for a later pass
# Test hook: seconds a transition waits between its uploads and its record (a kill -9 test).
HOLD_ENV = "S3ISH_TEST_TRANSITION_HOLD"


class TierDown(Exception):
    """The tier failed an operation several times: try this key again later."""


class UnitProblem(Exception):
    """A unit cannot be moved as it is (missing locally, or the tier holds another size)."""


class TierMover:
    def __init__(self, engine, config, storage_class: str):
        self.engine = engine
        self.data = engine.data
        self.config = config                # tier.config.TierConfig
        self.storage_class = storage_class
        self.remote: Remote | None = None   # made on the loop that uses it
        self._errors = 0
        self._down_until = 0.0
        self.hold = float(os.environ.get(HOLD_ENV, "0") or 0)

    def down_for(self) -> float:
        """Seconds before the tier is tried again after failures (0: try now)."""
        return max(0.0, self._down_until - time.monotonic())

    def close(self) -> None:
        if self.remote is not None:
            self.remote.close()

    # ---- remote calls ----
    async def _call(self, op, what: str):
        if self.remote is None:
            self.remote = Remote(self.config)
        if self.down_for() > 0:
            raise TierDown(f"the cold tier failed recently; {what} waits")
        tries = [0]

        def give_up() -> bool:
            tries[0] += 1
            return tries[0] >= ATTEMPTS

        def failed(exc, attempt, delay):
            metrics.TIER_ERRORS.labels("transition").inc()
        try:
            result = await retrying(op, should_stop=give_up, on_error=failed, cap=2.0)
        except RemoteError as e:
            if not e.retryable:
                raise
            self._errors += 1
            self._down_until = time.monotonic() + backoff(self._errors, base=2.0, cap=60.0)
            raise TierDown(f"{what}: {e}") from e
        self._errors = 0
        return result

    # ---- transitions ----
    async def transition(self, v) -> bool:
        """Move `v`'s units to the tier and record it. False: `v` changed meanwhile."""
        if any(p.remote for p in v.parts):
            return False          # moved under another storage class: it stays there
        for p in v.parts:
            await self._ensure_remote(p)
        if self.hold > 0:
            log.warning("transition of %s/%s version %s holding %.1f s before its record "
                        "(%s)", v.bucket, v.key, v.version_id, self.hold, HOLD_ENV)
            await asyncio.sleep(self.hold)
        return await tiering.transition(self.engine, v, self.storage_class)

    async def _ensure_remote(self, part) -> None:
        """The tier holds `part`'s unit with its stored size (HEAD; else a create-only
        upload from the local unit, then HEAD again)."""
        key = data_key(part.data_id)
        want = cold.stored_length(part)
        have = await self._call(lambda: self.remote.head(key), key)
        if have is None:
            try:
                handle = await run_io(self.data.open, part.data_id)
            except FileNotFoundError:
                raise UnitProblem(f"data unit {part.data_id} is not here") from None
            try:
                if handle.size() != want:
                    raise UnitProblem(f"data unit {part.data_id} holds {handle.size()} "
                                      f"bytes, its record says {want}")
                try:
                    await self._call(lambda: self.remote.put(
                        key, _chunks(handle, want), want, if_none_match=True), key)
                    metrics.TIER_TRANSITION_BYTES.inc(want)
                except PreconditionFailed:
                    pass          # there already (a racing upload): HEAD says what it is
            finally:
                handle.close()
            have = await self._call(lambda: self.remote.head(key), key)
        if have is None or have.size != want:
            raise UnitProblem(f"{key} holds {have.size if have else 'nothing'} in the tier, "
                              f"the unit {want} bytes: the local copy stays")

    # ---- restores ----
    async def restore(self, v, day: float) -> bool:
        """Fetch local copies of `v`'s remote units and record them. False: the restore is
        no longer wanted (the copies were freed)."""
        copies: dict[str, str] = {}
        try:
            for p in v.parts:
                if p.remote:
                    copies[p.data_id] = await self._fetch(p)
        except BaseException:
            await self.engine.free_data(list(copies.values()))
            raise
        expiry = after_days(time.time(), v.restore_days, day)
        return await tiering.complete_restore(self.engine, v, copies, expiry)

    async def _fetch(self, part) -> str:
        """A new local unit holding `part`'s stored bytes from the tier; its data id."""
        key = data_key(part.data_id)
        want = cold.stored_length(part)
        describe = {"kind": "copy", "of": part.data_id} if self.data.self_describing else None

        async def once():
            writer = await run_io(self.data.writer, describe, want <= READ)
            try:
                got, buf = 0, bytearray()
                async with await self.remote.get(key) as body:
                    async for chunk in body:
                        got += len(chunk)
                        if got > want:
                            break
                        buf += chunk
                        if len(buf) >= READ:      # one trip to a thread per block
                            block, buf = buf, bytearray()
                            await run_io(writer.write, block)
                if buf and got <= want:
                    await run_io(writer.write, buf)
                if got != want:
                    raise RemoteError("GetObject", key, f"{got} bytes, the unit has {want}",
                                      retryable=False)
                await run_io(writer.commit, None)
            except BaseException:
                await run_io(writer.abort)
                raise
            return writer.data_id
        return await self._call(once, key)


async def _chunks(handle, size: int):
    offset = 0
    while offset < size:
        block = await run_io(handle.read_at, offset, min(READ, size - offset))
        if not block:
            raise IOError("data unit shorter than its size")
        offset += len(block)
        yield block
