"""The shipper: feeds the cold tier from the local log (TIER_SPEC, docs/tier.md).

Each step, over a `LocalLog` (the local side, bg/tiership.py) and a `Remote`:
1. the first time, decide who owns the tier (fence.py): create generation 1 from a checkpoint
   and the data it references, take over after a restore, resume, or stop (fenced);
2. seal the open segment once its oldest record waited half the ship interval;
3. for each sealed segment after the high-water mark, in order: every data unit its records
   reference that the remote lacks (create-only `data/<id>`, streamed from the store), then
   the segment (create-only); then one manifest write (If-Match) with the new segments and
   hwm = the last one's end (I3: it names only what exists; I4: no gap, each segment starts
   right after the high-water mark); then freed units the tier no longer needs go;
4. every `checkpoint_interval`, a checkpoint of the index once the log reaches it.

Every remote operation retries forever with capped jittered backoff (tier.retry); other
failures (a refused request, a unit missing locally) pause the step with backoff and are
reported, never skipped. The foreground never waits on any of this.
"""
import asyncio
import logging
import os
import time
import uuid
from dataclasses import dataclass, replace
from typing import Protocol

from ..obs import metrics
from ..util.threads import run_io
from . import localstate, segcut
from .errors import PreconditionFailed, RemoteError
from .fence import Fenced, ManifestStore, decide
from .layout import (CheckpointEntry, GenerationEntry, Manifest, SegmentEntry, checkpoint_key,
                     data_key, segment_key)
from .retry import backoff, retrying

log = logging.getLogger("s3ish.tier")

CHUNK = 1 << 20
BATCH_BYTES = 64 << 20      # segment bytes shipped per manifest write at most
BATCH_SEGMENTS = 32
KEEP_WRITERS = 8            # writer ids of this folder a restart still recognises


class LocalError(Exception):
    """The local side cannot give what must be shipped (a data unit missing or unreadable,
    a gap in the local log): retried later, reported meanwhile."""


@dataclass(frozen=True)
class LocalSegment:
    first: int
    last: int


@dataclass(frozen=True)
class Outgoing:
    """A sealed segment ready to upload: a file of journal lines (base line first)."""
    first: int
    last: int
    path: str
    size: int
    ids: tuple              # data units its records reference
    first_time: float | None
    last_time: float | None


class LocalLog(Protocol):
    data_folder: str        # where .s3ish/tier/ lives

    async def positions(self) -> tuple[int, int]: ...      # (log end, open segment's base)
    async def seal(self) -> None: ...
    async def sealed_after(self, lsn: int) -> list[LocalSegment]: ...
    async def outgoing(self, seg: LocalSegment) -> Outgoing: ...
    async def done_with(self, path: str) -> None: ...
    async def unit(self, data_id: str): ...      # .size, .chunks(), .close(); None: missing
    async def checkpoint(self) -> int: ...
    async def checkpoint_lsn(self) -> int: ...                # newest local one (-1: none)
    async def checkpoint_file(self) -> tuple[int, str] | None: ...
    def checkpoint_ids(self, path: str): ...    # async iterator of data ids
    async def reap(self, hwm: int) -> int: ...


class Shipper:
    def __init__(self, remote, local: LocalLog, tier: str, interval: float = 10.0,
                 checkpoint_interval: float = 3600.0, rate: float = 0.0, jobs: int = 4):
        self.remote = remote
        self.local = local
        self.tier = tier
        self.interval = interval
        self.checkpoint_interval = checkpoint_interval
        self.rate = rate * 1e6          # bytes per second; 0: unlimited
        self.jobs = jobs
        self.manifests = ManifestStore(remote, self._call)
        self.writer: str | None = None
        self.generation = 0
        self.hwm = -1
        self.fenced: str | None = None
        self.last_error = ""
        self.failing: dict[str, str] = {}       # remote key -> its last error
        self.pending = 0
        self.stopping = False
        self.notify = None      # called when an operation fails (the status is republished)
        self._remote_units: set[str] = set()
        self._open_since: float | None = None
        self._errors = 0
        self._pause_until = 0.0
        self._spent, self._since = 0, time.monotonic()

    # ---- one step (bg/tiership.py makes it a worker) ----
    async def run_once(self) -> str:
        """One step: "done" (fenced: never again), "paused" (an error, backing off), "busy"
        (more to ship) or "idle"."""
        if self.fenced:
            return "done"
        if time.monotonic() < self._pause_until:
            return "paused"
        try:
            if self.writer is None:
                await self._start()
            await self._seal_by_time()
            more = await self._ship()
            await self._checkpoint_if_due()
            self._errors = 0
            self.last_error = ""
            return "busy" if more else "idle"
        except Fenced as e:
            self.fenced = str(e)
            log.error("cold tier: shipping stopped for good: %s", e)
            return "done"
        except (RemoteError, LocalError, OSError, ValueError) as e:
            self._errors += 1
            self.last_error = str(e)
            delay = backoff(self._errors, base=1.0)
            self._pause_until = time.monotonic() + delay
            log.warning("cold tier: %s (trying again in %.1f s)", e, delay)
            return "paused"

    # ---- remote calls ----
    async def _call(self, op, key: str = "", kind: str = "manifest"):
        """`await op()`, retried forever while retryable; failures are counted per key."""
        def failed(exc, attempt, delay):
            self.failing[key or kind] = str(exc)
            metrics.TIER_ERRORS.labels(kind).inc()
            if self.notify is not None:
                self.notify()
            if attempt in (1, 10) or attempt % 100 == 0:
                log.warning("cold tier: %s failed (attempt %d, retrying in %.1f s): %s",
                            key or kind, attempt, delay, exc)
        try:
            result = await retrying(op, should_stop=lambda: self.stopping, on_error=failed)
        except Exception as e:
            self.failing[key or kind] = str(e)
            raise
        self.failing.pop(key or kind, None)
        return result

    async def _throttle(self, nbytes: int) -> None:
        if not self.rate:
            return
        self._spent += nbytes
        ahead = self._spent / self.rate - (time.monotonic() - self._since)
        if ahead > 0:
            await asyncio.sleep(ahead)

    # ---- who owns the tier ----
    def _save(self, **changes) -> None:
        state = localstate.read_state(self.local.data_folder) or {}
        if state.get("tier") != self.tier or state.get("generation") != self.generation:
            state = {"tier": self.tier, "generation": self.generation, "writers": []}
        writers = [w for w in state.get("writers", []) if w != self.writer] + [self.writer]
        state.update(writer=self.writer, writers=writers[-KEEP_WRITERS:],
                     etag=self.manifests.etag, **changes)
        localstate.write_state(self.local.data_folder, state)

    async def _start(self) -> None:
        manifest = await self.manifests.read()
        log_end, _ = await self.local.positions()
        restored = localstate.read_restored(self.local.data_folder)
        decision = decide(manifest, localstate.read_state(self.local.data_folder), restored,
                          self.tier, log_end)
        if decision.kind == "refuse":
            raise Fenced(decision.reason)
        writer = uuid.uuid4().hex
        if decision.kind == "create":
            await self._create(writer)
        elif decision.kind == "takeover":
            await self._take_over(manifest, restored["lsn"], writer)
        else:
            self.generation, self.writer, self.hwm = manifest.generation, writer, manifest.hwm
            self._save(hwm=self.hwm)
            await self.manifests.write(replace(manifest, writer=writer, updated=time.time()))
            self._save(hwm=self.hwm)
        log.warning("cold tier: %s: generation %d, writer %s, high-water mark %d",
                    decision.kind, self.generation, self.writer, self.hwm)

    async def _create(self, writer: str) -> None:
        """Generation 1: a checkpoint of the index and every data unit it references."""
        self.generation, self.writer = 1, writer
        self._save(hwm=None)
        if await self.local.checkpoint() < 0:
            raise LocalError("no checkpoint of the index could be taken")
        entry = await self._upload_checkpoint(with_units=True)
        self.hwm = entry.lsn
        await self.manifests.write(Manifest(
            1, writer, entry.lsn, checkpoints=(entry,),
            generations=(GenerationEntry(1, entry.lsn + 1, time.time()),)))
        self._save(hwm=self.hwm)

    async def _take_over(self, manifest: Manifest, at: int, writer: str) -> None:
        """Generation G+1 from a restore at `at`: the old log is kept up to `at` (the segment
        straddling it replaced by a copy cut there)."""
        self.generation, self.writer, self.hwm = manifest.generation + 1, writer, at
        self._save(hwm=at)
        straddling = [s for s in manifest.segments if s.first <= at < s.last]
        cut = await self._cut_segment(straddling[0], at) if straddling else None
        await self.manifests.write(manifest.taken_over(self.generation, writer, at, cut))
        self._save(hwm=at)
        localstate.remove_restored(self.local.data_folder)

    async def _cut_segment(self, seg: SegmentEntry, at: int) -> SegmentEntry:
        blob = await self._call(lambda: self.remote.get_bytes(seg.key, limit=1 << 30), seg.key,
                                "segment")
        body, first_time, last_time = segcut.cut(blob, at)
        key = segment_key(seg.gen, seg.first, at)
        await self._put_bytes(key, body, "segment")
        return SegmentEntry(seg.gen, seg.first, at, key, len(body), first_time, last_time)

    # ---- sealing and shipping ----
    async def _seal_by_time(self) -> None:
        log_end, base = await self.local.positions()
        if log_end <= base:
            self._open_since = None
            return
        now = time.monotonic()
        if self._open_since is None:
            self._open_since = now
        # Sealed after half the interval: the rest is for the upload.
        if now - self._open_since >= self.interval / 2:
            await self.local.seal()
            self._open_since = None

    async def _ship(self) -> bool:
        sealed = await self.local.sealed_after(self.hwm)
        self.pending = len(sealed)
        if not sealed:
            await self.local.reap(self.hwm)
            return False
        entries, files, size = [], [], 0
        try:
            for seg in sealed[:BATCH_SEGMENTS]:
                entry, path = await self._ship_segment(seg, entries[-1].last if entries
                                                       else self.hwm)
                entries.append(entry)
                files.append(path)
                self.pending -= 1
                size += entry.size
                if size >= BATCH_BYTES:
                    break
        except Exception:
            if entries:     # what went before a failure still counts
                await self._publish_segments(entries, files)
            raise
        await self._publish_segments(entries, files)
        return len(entries) < len(sealed)

    async def _ship_segment(self, seg: LocalSegment, at: int) -> tuple[SegmentEntry, str]:
        """Its data units, then the segment itself (not yet in the manifest)."""
        if seg.first != at + 1:
            raise LocalError(f"the local log does not continue the tier's: the next sealed "
                             f"segment covers {seg.first}..{seg.last}, the tier holds up to "
                             f"{at}")
        out = await self.local.outgoing(seg)
        await self._ship_units(out.ids)
        key = segment_key(self.generation, out.first, out.last)
        await self._put_file(key, out.path, out.size, "segment")
        return SegmentEntry(self.generation, out.first, out.last, key, out.size,
                            out.first_time, out.last_time), out.path

    async def _publish_segments(self, entries: list, files: list) -> None:
        """One manifest write naming the uploaded segments (I3: all of them exist now)."""
        await self.manifests.write(self.manifests.current.shipped(entries, [], self.writer))
        self.hwm = entries[-1].last
        self._save(hwm=self.hwm)
        for path in files:
            await self.local.done_with(path)
        await self.local.reap(self.hwm)

    async def _ship_units(self, ids) -> None:
        todo = [d for d in dict.fromkeys(ids) if d not in self._remote_units]
        if not todo:
            return
        gate = asyncio.Semaphore(self.jobs)

        async def one(data_id):
            async with gate:
                await self._ship_unit(data_id)
        self.pending += len(todo)
        results = await asyncio.gather(*(one(d) for d in todo), return_exceptions=True)
        self.pending -= len(todo)
        for r in results:
            if isinstance(r, BaseException):
                raise r

    async def _ship_unit(self, data_id: str) -> None:
        key = data_key(data_id)
        unit = await self.local.unit(data_id)
        if unit is None:
            # A lifecycle transition moved it to the tier (and freed it here) before this
            # segment shipped: the tier has it, confirmed by the transition with its size.
            if await self._call(lambda: self.remote.head(key), key, "data") is not None:
                self._remote_units.add(data_id)
                return
            self.failing[key] = "missing locally"
            raise LocalError(f"data unit {data_id}, which shipped records reference, is "
                             "missing locally and not in the tier")
        try:
            have = await self._call(lambda: self.remote.head(key), key, "data")
            if have is None:
                await self._throttle(unit.size)
                try:
                    await self._call(lambda: self.remote.put(key, unit.chunks(), unit.size,
                                                             if_none_match=True), key, "data")
                    metrics.TIER_UPLOADED.labels("data").inc(unit.size)
                except PreconditionFailed:
                    have = await self._call(lambda: self.remote.head(key), key, "data")
            if have is not None and have.size != unit.size:
                raise LocalError(f"{key} holds {have.size} bytes in the tier, the local unit "
                                 f"{unit.size}: it is never overwritten")
        finally:
            unit.close()
        self._remote_units.add(data_id)
        if len(self._remote_units) > 1_000_000:
            self._remote_units.clear()        # a cache: HEAD says the rest

    async def _put_file(self, key: str, path: str, size: int, kind: str) -> None:
        """Upload a local file create-only; an object already there with its size is ours
        (an earlier attempt whose answer was lost)."""
        async def chunks():
            with open(path, "rb") as f:
                while block := await run_io(f.read, CHUNK):
                    yield block
        await self._throttle(size)
        try:
            await self._call(lambda: self.remote.put(key, chunks(), size, if_none_match=True),
                             key, kind)
            metrics.TIER_UPLOADED.labels(kind).inc(size)
        except PreconditionFailed:
            await self._same_size(key, size)

    async def _put_bytes(self, key: str, body: bytes, kind: str) -> None:
        try:
            await self._call(lambda: self.remote.put(key, body, if_none_match=True), key, kind)
            metrics.TIER_UPLOADED.labels(kind).inc(len(body))
        except PreconditionFailed:
            await self._same_size(key, len(body))

    async def _same_size(self, key: str, size: int) -> None:
        have = await self._call(lambda: self.remote.head(key), key)
        if have is None or have.size != size:
            raise LocalError(f"{key} exists in the tier with another content "
                             f"({have.size if have else 'none'} bytes, ours {size})")

    # ---- checkpoints ----
    async def _upload_checkpoint(self, with_units: bool, upto: int | None = None
                                 ) -> CheckpointEntry | None:
        """Upload the newest local checkpoint (None if it is past `upto`), with every data
        unit it references first if `with_units` (a generation's first checkpoint)."""
        found = await self.local.checkpoint_file()
        if found is None:
            raise LocalError("no local checkpoint to upload")
        lsn, path = found
        try:
            if upto is not None and lsn > upto:
                return None
            if with_units:
                batch = []
                async for data_id in self.local.checkpoint_ids(path):
                    batch.append(data_id)
                    if len(batch) >= 256:
                        await self._ship_units(batch)
                        batch = []
                await self._ship_units(batch)
            size = os.path.getsize(path)
            key = checkpoint_key(lsn, self.generation)
            await self._put_file(key, path, size, "checkpoint")
        finally:
            await self.local.done_with(path)
        return CheckpointEntry(lsn, self.generation, key, size, time.time())

    async def _checkpoint_if_due(self) -> None:
        """A checkpoint goes to the tier every `checkpoint_interval` if records were shipped
        since the newest one: the newest local checkpoint once the log reaches it (one is
        taken when there is none newer)."""
        newest = self.manifests.current.newest_checkpoint()
        floor = newest.lsn if newest else -1
        if newest is not None and (time.time() - (newest.time or 0) < self.checkpoint_interval
                                   or self.hwm <= floor):
            return
        local = await self.local.checkpoint_lsn()
        if local <= floor:
            await self.local.checkpoint()       # sealed there: shipped by the next steps
            return
        if local > self.hwm:
            return
        entry = await self._upload_checkpoint(with_units=False, upto=self.hwm)
        if entry is not None and entry.lsn > floor:
            await self.manifests.write(self.manifests.current.shipped([], [entry],
                                                                      self.writer))
            self._save(hwm=self.hwm)
