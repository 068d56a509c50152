"""The follower of the cold tier (`s3ish server --follow-tier`, docs/tier.md "Follower"):
a read-only server that applies the segments another server ships, as they appear
(asynchronous replication through the tier). Its folders were bootstrapped by a restore to
the high-water mark (admin/restore/bootstrap.py); this worker carries them on.

Each step (one process of several: bg/worker.Exclusive), over a `FollowLocal`
(bg/followlocal.py) and a `Remote`:
1. every `interval`, a HEAD of manifest.json; only when its ETag moved is it read again, and
   its timeline checked against what was applied (`timeline`): a takeover (a new writer
   generation after a restore) is followed when it keeps every record applied here, else
   following stops for good (`Diverged`: the folders need a fresh bootstrap);
2. the segments after the applied position, up to the high-water mark, in order, a batch at
   a time: each is downloaded, the data units its records reference that are not here yet
   are fetched (create-only `data/<id>` objects, streamed, a few at a time), then its records
   are applied to the index in one transaction (meta/replica.py, as recovery replays the
   journal), then the data units they free are deleted.

Remote operations retry with tier.retry (capped at RETRY_CAP seconds); other failures pause
the step with backoff and are reported; nothing is ever skipped.
"""
import asyncio
import logging
import sqlite3
import time

from ..meta.replica import Moved
from ..obs import metrics
from ..tier.errors import RemoteError
from ..tier.layout import MANIFEST, Manifest, ManifestError
from ..tier.retry import backoff, retrying
from ..util.errors import QuorumError
from .tierread import TierReadError, download
from .tierunits import Fetcher
from .worker import Status

log = logging.getLogger("s3ish.tier")

BATCH_BYTES = 64 << 20      # segment bytes applied per step at most
BATCH_SEGMENTS = 32
RETRY_CAP = 10.0            # seconds: the longest wait between two attempts at the remote
MANIFEST_LIMIT = 64 << 20


class Diverged(Exception):
    """The tier's timeline no longer holds what this follower applied: it cannot follow on
    (the message says why and what to do)."""


def timeline(manifest: Manifest, state: dict, applied: int) -> dict | None:
    """Check that `manifest`'s timeline contains every record applied here (up to `applied`,
    on the generation `state` recorded); raises Diverged if not. Returns the generations
    entry to record when the tier moved to a newer generation that continues ours, else
    None."""
    gen, mine = state["generation"], state.get("timeline")
    fresh = " (its folders need a fresh bootstrap: stop it, empty them, start it again)"
    if manifest.generation < gen:
        raise Diverged(f"the tier's writer generation is {manifest.generation}, older than "
                       f"the generation {gen} this follower applied: the tier was replaced"
                       + fresh)
    entries = {g.gen: g for g in manifest.generations}
    if mine is not None:
        ours = entries.get(gen)
        if ours is None or (ours.from_lsn, ours.time) != (mine.get("from_lsn"),
                                                          mine.get("time")):
            raise Diverged(f"generation {gen} of the tier is not the one this follower "
                           "applied (the tier was recreated)" + fresh)
    for g in sorted(entries.values(), key=lambda g: g.gen):
        if g.gen > gen and g.from_lsn <= applied:
            raise Diverged(f"generation {g.gen} took the tier over from record {g.from_lsn} "
                           f"(a restore to {g.from_lsn - 1}), but this follower applied "
                           f"records up to {applied} of generation {gen}: the new timeline "
                           "does not hold them" + fresh)
    if manifest.hwm < applied:
        raise Diverged(f"the tier's high-water mark {manifest.hwm} is behind the records "
                       f"this follower applied (up to {applied})" + fresh)
    if manifest.generation == gen:
        return None
    new = entries.get(manifest.generation)
    if new is None:
        raise Diverged(f"the tier moved to generation {manifest.generation} without saying "
                       "where it took over (no generations entry)" + fresh)
    return {"gen": new.gen, "from_lsn": new.from_lsn, "time": new.time}


def to_apply(manifest: Manifest, applied: int) -> list:
    """The segments holding the records after `applied` up to the high-water mark, in order
    (a segment straddling `applied` included: its records up to it are passed over);
    Diverged when the tier no longer holds the next record."""
    segs = [s for s in manifest.segments if s.last > applied and s.first <= manifest.hwm]
    if segs and segs[0].first > applied + 1:
        raise Diverged(f"the tier holds no segment with records {applied + 1}.."
                       f"{segs[0].first - 1} any more: this follower cannot catch up (its "
                       "folders need a fresh bootstrap: stop it, empty them, start it again)")
    return segs


class Follower:
    def __init__(self, remote, local, interval: float = 2.0, jobs: int = 4,
                 retry: dict | None = None):
        self.remote = remote
        self.local = local              # bg/followlocal.FollowLocal
        self.interval = interval
        self.jobs = jobs
        self.retry = {"cap": RETRY_CAP, **(retry or {})}
        self.manifest: Manifest | None = None
        self.etag: str | None = None
        self.read_at: float | None = None       # when the manifest was last checked (epoch)
        self.applied = -1
        self.stopped: str | None = None
        self.last_error = ""
        self.failing: dict[str, str] = {}       # remote key -> its last error
        self.stopping = False
        self.notify = None          # called when an operation fails (the status is republished)
        self._next_poll = 0.0
        self._errors = 0
        self._pause_until = 0.0

    # ---- one step ----
    async def run_once(self) -> str:
        """One step: "done" (diverged: never again), "paused" (an error, backing off),
        "busy" (more to apply) or "idle"."""
        if self.stopped:
            return "done"
        now = time.monotonic()
        if now < self._pause_until:
            return "paused"
        try:
            if self.manifest is None or now >= self._next_poll:
                self._next_poll = now + self.interval
                await self._poll()
            more = await self._apply_some()
            self._errors = 0
            self.last_error = ""
            return "busy" if more else "idle"
        except Diverged as e:
            self.stopped = str(e)
            metrics.TIER_FOLLOW_STOPPED.set(1)
            log.error("cold tier: following stopped for good: %s", e)
            return "done"
        except (RemoteError, TierReadError, ManifestError, OSError, QuorumError,
                ValueError, Moved, sqlite3.Error) as e:
            self._errors += 1
            self.last_error = str(e)
            delay = backoff(self._errors, base=1.0, cap=self.retry["cap"])
            self._pause_until = time.monotonic() + delay
            log.warning("cold tier: following: %s (trying again in %.1f s)", e, delay)
            return "paused"

    async def _call(self, op, key: str, kind: str):
        """`await op()`, retried while retryable; failures are counted per key."""
        def failed(exc, attempt, delay):
            self.failing[key] = str(exc)
            metrics.TIER_ERRORS.labels(kind).inc()
            if self.notify is not None:
                self.notify()
            if attempt in (1, 10) or attempt % 100 == 0:
                log.warning("cold tier: %s failed (attempt %d, retrying in %.1f s): %s",
                            key, attempt, delay, exc)
        try:
            result = await retrying(op, should_stop=lambda: self.stopping, on_error=failed,
                                    **self.retry)
        except Exception as e:
            self.failing[key] = str(e)
            raise
        self.failing.pop(key, None)
        return result

    # ---- the manifest ----
    async def _poll(self) -> None:
        """HEAD manifest.json; read it again when its ETag moved (or never read)."""
        info = await self._call(lambda: self.remote.head(MANIFEST), MANIFEST, "manifest")
        if info is None:
            raise TierReadError("the tier has no manifest.json (any more): nothing to follow")
        if self.manifest is None or info.etag != self.etag:
            async def fetch():
                async with await self.remote.get(MANIFEST) as body:
                    return await body.read(MANIFEST_LIMIT), body.etag
            blob, etag = await self._call(fetch, MANIFEST, "manifest")
            manifest = Manifest.from_json(blob)
            await self._check_timeline(manifest)
            self.manifest, self.etag = manifest, etag
        self.read_at = time.time()

    async def _check_timeline(self, manifest: Manifest) -> None:
        state = await self.local.state()
        self.applied = await self.local.applied()
        moved = timeline(manifest, state, self.applied)
        if moved is not None:
            log.warning("cold tier: following generation %d (it took the tier over from "
                        "record %d; this follower applied up to %d)", moved["gen"],
                        moved["from_lsn"], self.applied)
            await self.local.save_state(generation=moved["gen"], timeline=moved)

    # ---- applying ----
    def pending(self) -> list:
        """The segments known and not applied yet."""
        if self.manifest is None:
            return []
        return [s for s in self.manifest.segments
                if s.last > self.applied and s.first <= self.manifest.hwm]

    async def _apply_some(self) -> bool:
        self.applied = await self.local.applied()
        segs = to_apply(self.manifest, self.applied)
        size = 0
        for n, seg in enumerate(segs[:BATCH_SEGMENTS]):
            if size >= BATCH_BYTES:
                return True
            await self._apply_segment(seg)
            size += seg.size
            if self.notify is not None and n % 4 == 3:
                self.notify()
        return len(segs) > BATCH_SEGMENTS

    async def _apply_segment(self, seg) -> None:
        path = self.local.work_file("segment.seg")
        n = await download(self.remote, lambda op: self._call(op, seg.key, "segment"),
                           seg.key, seg.size, path, "segment")
        metrics.TIER_DOWNLOADED.labels("segment").inc(n)
        units = await self.local.missing_units(path, seg)
        if units:
            fetcher = Fetcher(self.remote, self.local.data, self.jobs,
                              on_unit=lambda unit, n: metrics.TIER_DOWNLOADED.labels(
                                  "data").inc(n),
                              on_retry=self._unit_failed, backoff=self.retry,
                              should_stop=lambda: self.stopping)
            await fetcher.run(iter(units))
            self.failing.pop("data", None)
        result = await self.local.apply(path, seg, self.applied)
        await self.local.free(result["freed"])
        self.applied = seg.last
        metrics.TIER_APPLIED_RECORDS.inc(result["records"])
        if result["skipped"]:
            log.warning("cold tier: %d mutations of %s were refused by this index (skipped, "
                        "as recovery does)", result["skipped"], seg.key)
        await self.local.save_state(applied_lsn=seg.last, applied_time=time.time())
        await self.local.done_with(path)

    def _unit_failed(self, exc, attempt, delay) -> None:
        metrics.TIER_ERRORS.labels("data").inc()
        self.failing["data"] = str(exc)
        if self.notify is not None:
            self.notify()
        if attempt in (1, 10) or attempt % 100 == 0:
            log.warning("cold tier: a data unit failed (attempt %d, retrying in %.1f s): %s",
                        attempt, delay, exc)

    # ---- what `tier status` shows ----
    def published(self) -> dict:
        """What the status of any worker process reads (bg/followlocal.py)."""
        pending = self.pending()
        first = pending[0] if pending else None
        return {"state": "stopped" if self.stopped else ("following" if self.manifest
                                                         else "starting"),
                "generation": self.manifest.generation if self.manifest else None,
                "s3_hwm": self.manifest.hwm if self.manifest else None,
                "applied_lsn": self.applied,
                "lag_bytes": sum(s.size for s in pending),
                "oldest_unapplied_time": first.first_time if first else None,
                "pending_uploads": len(pending), "failing_uploads": len(self.failing),
                "read_at": self.read_at, "interval": self.interval,
                "error": self.stopped or self.last_error or
                next(iter(self.failing.values()), ""),
                "updated": time.time()}


class FollowWorker:
    """Steps the follower (bg/worker.py's pattern) and publishes what it knows."""

    def __init__(self, follower: Follower, local):
        self.follower = follower
        self.local = local
        # While a step waits on a failing remote, the failures still show.
        follower.notify = lambda: asyncio.ensure_future(self.publish())

    async def step(self) -> Status:
        outcome = await self.follower.run_once()
        await self.publish()
        return {"done": Status.DONE, "paused": Status.THROTTLED, "busy": Status.BUSY,
                "idle": Status.IDLE}[outcome]

    async def publish(self) -> None:
        doc = self.follower.published()
        await self.local.publish(doc)
