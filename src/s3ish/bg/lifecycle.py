"""The lifecycle worker: carries out buckets' lifecycle rules (expiration of current versions,
of noncurrent ones, of lone delete markers; aborting incomplete multipart uploads; with a cold
tier, transitions of current and noncurrent versions to it) and RestoreObject's copies
(fetched, then freed on time: bg/transition.py).

It never scans the namespace: the metadata rules keep a schedule (`lc_due`) of the keys and
uploads of buckets with lifecycle rules that changed, and from when they need a look; a
configuration change schedules that bucket's keys once. Each step takes the rows due now,
decides with engine.lifecycle.plan_key, acts through the engine (so object lock and every
other rule of a delete apply), and moves each row to when it next falls due, or drops it.
"""
import asyncio
import logging
import time

from ..engine import errors, lifecycle, tiering
from ..meta import records as r
from ..obs import metrics
from .transition import TierDown, UnitProblem
from .worker import Status

log = logging.getLogger("s3ish.lifecycle")


class LifecycleWorker:
    def __init__(self, engine, multipart, day_seconds: float = lifecycle.DAY,
                 batch: int = 100, mover=None):
        self.engine = engine
        self.meta = engine.meta
        self.multipart = multipart
        self.day = day_seconds
        self.batch = batch
        self.mover = mover              # bg/transition.TierMover with a cold tier, else None
        self._lock = asyncio.Lock()     # a pass on demand and the background loop take turns
        self.expired = 0                # actions carried out by this process
        self.transitioned = 0
        self.restored = 0

    async def step(self) -> Status:
        async with self._lock:
            done = await self._step(time.time())
        return Status.BUSY if done >= self.batch else Status.IDLE

    async def run_pass(self) -> dict:
        """Everything due now, at once (admin `lifecycle run`)."""
        counts = {"looked_at": 0, "expired": 0}
        before = (self.expired, self.transitioned, self.restored)
        async with self._lock:
            while True:
                n = await self._step(time.time())
                counts["looked_at"] += n
                if n < self.batch:
                    break
        counts["expired"] = self.expired - before[0]
        if self.mover is not None:
            counts["transitioned"] = self.transitioned - before[1]
            counts["restored"] = self.restored - before[2]
        counts["due"], counts["lag_seconds"] = await self._publish(time.time())
        return counts

    async def _step(self, now: float) -> int:
        rows = await self.meta.lifecycle_due(now, self.batch)
        settled = []
        for row in rows:
            try:
                due = await self._one(row, now)
            except Exception:
                log.exception("lifecycle of %s/%s failed", row.bucket, row.key)
                due = now + self.day       # try again later, not in a tight loop
            settled.append((row, due))
        await self.meta.lifecycle_settle(settled)
        await self._publish(now)
        return len(rows)

    async def _publish(self, now: float) -> tuple[int, float]:
        due, oldest = await self.meta.lifecycle_backlog(now)
        lag = max(0.0, now - oldest) if oldest is not None else 0.0
        metrics.LIFECYCLE_DUE.set(due)
        metrics.LIFECYCLE_LAG.set(lag)
        return due, lag

    async def _one(self, row, now: float) -> float | None:
        """Act on one scheduled key or upload; returns when to look at it next."""
        b = await self.meta.get_bucket(row.bucket)
        if b is None:
            return None
        if row.upload_id:
            if not lifecycle.has_actions(b.lifecycle):
                return None
            return await self._upload(b, row, now)
        # Keys are looked at without rules too: a restore's copies are freed on time.
        current, noncurrent = await self.meta.key_versions(row.bucket, row.key)
        tier_class = self.engine.tier_class if self.mover is not None else None
        plan = lifecycle.plan_key(b.lifecycle, current, noncurrent, now, self.day, tier_class)
        for action in plan.actions:
            if action.kind in ("expire", "remove"):
                retry = await self._act(b, action, now)
            else:
                retry = await self._tier_act(action, current, now)
            if retry is not None:
                plan.later(retry)
        return plan.next_due

    async def _tier_act(self, action: lifecycle.Action, current, now: float) -> float | None:
        """A transition or a restore's copies; when to look again if it must wait."""
        v = action.version
        try:
            if action.kind == "transition":
                if await self.mover.transition(v):
                    self.transitioned += 1
                    kind = "current" if current is not None and \
                        current.version_id == v.version_id else "noncurrent"
                    metrics.TIER_TRANSITIONS.labels(kind).inc()
                    log.info("lifecycle rule %r: %s %s/%s version %s moved to the cold tier",
                             action.rule_id, kind, v.bucket, v.key, v.version_id)
            elif action.kind == "restore":
                if self.mover is None:
                    return now + self.day      # no tier now: when the server has one
                if await self.mover.restore(v, self.day):
                    self.restored += 1
                    metrics.TIER_RESTORES.labels("completed").inc()
            elif await tiering.expire_restore(self.engine, v, now):
                metrics.TIER_RESTORES.labels("expired").inc()
        except TierDown as e:
            retry = max(self.mover.down_for(), min(self.day, 60.0))
            log.warning("lifecycle: %s of %s/%s version %s waits %.0f s: %s", action.kind,
                        v.bucket, v.key, v.version_id, retry, e)
            return now + retry
        except UnitProblem as e:
            log.error("lifecycle: %s of %s/%s version %s: %s", action.kind, v.bucket, v.key,
                      v.version_id, e)
            return now + self.day
        return None

    async def _act(self, b, action: lifecycle.Action, now: float) -> float | None:
        v = action.version
        try:
            if action.kind == "expire":
                # Only the version planned on: a newer one written meanwhile stays.
                cond = r.Condition(if_match=v.etag, if_match_mtime=v.mtime)
                await self.engine.delete_object(b.name, v.key, condition=cond)
            else:
                await self.engine.delete_object(b.name, v.key, version_id=v.version_id)
        except errors.ObjectLocked:
            # Object lock wins over lifecycle, always; look again when it may have ended.
            return v.lock_until if v.lock_until > now else now + self.day
        except (errors.NoSuchKey, errors.PreconditionFailed):
            return None      # changed meanwhile: that write scheduled the key again
        self.expired += 1
        metrics.LIFECYCLE_EXPIRED.labels("delete_marker" if v.delete_marker else
                                         "current" if action.kind == "expire"
                                         else "noncurrent").inc()
        log.info("lifecycle rule %r: %s %s/%s version %s", action.rule_id, action.kind,
                 b.name, v.key, v.version_id)
        return None

    async def _upload(self, b, row, now: float) -> float | None:
        upload = await self.meta.get_upload(row.upload_id)
        if upload is None:
            return None       # completed or aborted
        due = lifecycle.upload_due(b.lifecycle, upload.key, upload.initiated, self.day)
        if due is None or due > now:
            return due
        try:
            await self.multipart.abort_multipart_upload(upload)
        except errors.NoSuchUpload:
            return None
        self.expired += 1
        metrics.LIFECYCLE_EXPIRED.labels("upload").inc()
        log.info("lifecycle: aborted upload %s of %s/%s", upload.upload_id, b.name,
                 upload.key)
        return None
