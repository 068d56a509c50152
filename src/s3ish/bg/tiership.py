"""The cold tier in the server: the local side the shipper (tier/shipper.py) works over — the
journal's segments, the checkpoints, the data store and the graveyard of this folder or these
drives — and the worker that steps it in the one process holding the log jobs' lock.

Freed data (storage/graveyard.py) is deleted here once the tier holds every record up to its
free: each graveyard entry is stamped with a log position read after it was appended (at or
after the record that freed it), and goes when the high-water mark reaches that stamp. The
record that made the unit is older still, so the tier has the unit by then (I3); a restore
to any point before the free finds it.
"""
import asyncio
import json
import logging
import os
import shutil
import sqlite3
import time

from ..config import Config
from ..meta import checkpoint, journal, logcodec, segments
from ..obs import metrics
from ..storage.graveyard import Graveyard
from ..tier import localstate
from ..tier.config import TierConfig
from ..tier.errors import RemoteError
from ..tier.fence import ManifestStore, decide
from ..tier.remote import Remote
from ..tier.retry import retrying
from ..tier.shipper import LocalSegment, Outgoing, Shipper
from ..tier.verify import verify
from ..util.errors import QuorumError
from ..util.threads import run_io
from .worker import Status

log = logging.getLogger("s3ish.tier")
STATUS = "status.json"
READ = 1 << 20


class Unit:
    """One data unit's stored bytes, read block by block (a fresh iterator per attempt)."""

    def __init__(self, handle):
        self.handle = handle
        self.size = handle.size()

    async def chunks(self):
        offset = 0
        while offset < self.size:
            block = await run_io(self.handle.read_at, offset, min(READ, self.size - offset))
            if not block:
                raise IOError("data unit shorter than its size")
            offset += len(block)
            yield block

    def close(self) -> None:
        self.handle.close()


class LocalFolderLog:
    """tier.shipper.LocalLog over this server's drives (or its one folder)."""

    def __init__(self, data_folder: str, drives: list[str], data, keeper, graveyard,
                 durable: bool = True):
        self.data_folder = data_folder
        self.drives = drives
        self.db_path = os.path.join(data_folder, "meta.sqlite3")
        self.data = data
        self.keeper = keeper            # bg.logkeeper.LogKeeper: checkpoints, one at a time
        self.graveyard = graveyard
        self.durable = durable
        self.outgoing_dir = os.path.join(localstate.folder(data_folder), "outgoing")
        self._buried: dict[str, int] = {}
        self._offset = 0

    # ---- positions ----
    def _log_end(self) -> int:
        db = sqlite3.connect(self.db_path, isolation_level=None)
        try:
            return db.execute("SELECT lsn FROM journal_state WHERE id = 1").fetchone()[0]
        finally:
            db.close()

    def _positions(self) -> tuple[int, int]:
        end = self._log_end()
        slot = segments.newest_slot(self.drives)
        if slot is None:
            return end, end
        return end, (self._legacy_base(end) if slot == 0 else slot - 1)

    def _legacy_base(self, default: int) -> int:
        """Where a journal of an earlier version (one journal.log) starts."""
        bases = [b for d in self.drives if (b := segments.base(journal.path_on(d))) is not None]
        return min(bases, default=default)

    async def positions(self) -> tuple[int, int]:
        return await run_io(self._positions)

    async def log_end(self) -> int:
        return await run_io(self._log_end)

    def _seal(self) -> None:
        with checkpoint.writers_lock(self.db_path):
            segments.seal(self.drives, self._log_end(), self.durable)

    async def seal(self) -> None:
        await run_io(self._seal)

    def _sealed_after(self, lsn: int) -> list[LocalSegment]:
        slots = segments.slots(self.drives)
        out = []
        for slot, nxt in zip(slots, slots[1:]):
            first = slot if slot else self._legacy_base(nxt - 1) + 1
            if nxt - 1 > lsn:
                out.append(LocalSegment(first, nxt - 1))
        return out

    async def sealed_after(self, lsn: int) -> list[LocalSegment]:
        return await run_io(self._sealed_after, lsn)

    # ---- segments going out ----
    def _outgoing(self, seg: LocalSegment) -> Outgoing:
        os.makedirs(self.outgoing_dir, exist_ok=True)
        path = os.path.join(self.outgoing_dir, f"{seg.first:020d}-{seg.last:020d}.seg")
        if not os.path.exists(path):
            # The record lines as most drives hold them (one folder: its one copy).
            merged = segments.merged_lines(self.drives, seg.first - 1, seg.last)
            tmp = path + ".tmp"
            with open(tmp, "wb") as f:
                f.write(logcodec.encode_base(seg.first - 1))
                f.writelines(line for line, _ in merged.values())
            os.replace(tmp, path)
        ids, times = [], []
        for line in segments.lines(path):
            entry = logcodec.decode_entry(line)
            if entry is not None:
                ids += logcodec.referenced_ids(entry.mutations)
                times.append(entry.time)
        return Outgoing(seg.first, seg.last, path, os.path.getsize(path), tuple(ids),
                        times[0] if times else None, times[-1] if times else None)

    async def outgoing(self, seg: LocalSegment) -> Outgoing:
        return await run_io(self._outgoing, seg)

    async def done_with(self, path: str) -> None:
        try:
            await run_io(os.unlink, path)
        except FileNotFoundError:
            pass

    async def unit(self, data_id: str):
        try:
            return Unit(await run_io(self.data.open, data_id))
        except FileNotFoundError:
            return None
        except QuorumError as e:
            raise OSError(f"data unit {data_id} unreadable now: {e}") from e

    # ---- checkpoints ----
    async def checkpoint(self) -> int:
        return await self.keeper.checkpoint()

    async def checkpoint_lsn(self) -> int:
        return await run_io(checkpoint.latest_lsn, self.drives)

    def _checkpoint_file(self) -> tuple[int, str] | None:
        best = checkpoint.best_snapshot(self.drives)
        if best is None:
            return None
        os.makedirs(self.outgoing_dir, exist_ok=True)
        for name in os.listdir(self.outgoing_dir):
            if name.startswith("checkpoint-"):      # ours, or left by a killed process
                os.unlink(os.path.join(self.outgoing_dir, name))
        path = os.path.join(self.outgoing_dir, f"checkpoint-{os.getpid()}.sqlite3")
        try:
            os.link(best, path)         # the inode stays ours if a newer one replaces it
        except OSError:
            shutil.copyfile(best, path)
        lsn = checkpoint.snapshot_lsn(path)
        return (lsn, path) if lsn >= 0 else None

    async def checkpoint_file(self) -> tuple[int, str] | None:
        return await run_io(self._checkpoint_file)

    def checkpoint_ids(self, path: str):
        """Every data unit the checkpoint's index references (an async iterator)."""
        return checkpoint_ids(path)

    # ---- freed data ----
    def _reap(self, hwm: int) -> int:
        entries, self._offset = self.graveyard.read(self._offset)
        if entries:
            end = self._log_end()       # read after the entries: at or after their frees
            for data_id, stamp in entries:
                self._buried.setdefault(data_id, stamp if stamp is not None else end)
        due = {d for d, stamp in self._buried.items() if stamp <= hwm}
        for data_id in due:
            self.data.delete(data_id)
        if due:
            self._buried, self._offset = self.graveyard.rewrite(self._buried, due,
                                                                self._log_end())
        metrics.TIER_GRAVEYARD.set(len(self._buried))
        return len(due)

    async def reap(self, hwm: int) -> int:
        return await run_io(self._reap, hwm)

    # ---- what `tier status` shows ----
    def _lag(self, hwm: int, end: int) -> tuple[int, float]:
        if end <= hwm:
            return 0, 0.0
        first = segments.first_entry_after(self.drives, hwm)
        waited = time.time() - first.time if first is not None and first.time else 0.0
        return journal.size(self.drives, hwm), max(0.0, waited)

    def status(self) -> dict:
        """The keys of `s3ish admin tier status` (blocking), from the local log and what the
        shipping process published."""
        end = self._log_end()
        published = read_status(self.data_folder)
        state = localstate.read_state(self.data_folder) or {}
        hwm = published.get("s3_hwm")
        if type(hwm) is not int:
            hwm = state.get("hwm") if type(state.get("hwm")) is int else 0
        lag_bytes, lag_seconds = self._lag(hwm, end)
        return {"log_end_lsn": end, "applied_lsn": end, "s3_hwm": hwm,
                "lag_records": max(0, end - hwm), "lag_bytes": lag_bytes,
                "lag_seconds": round(lag_seconds, 3),
                "pending_uploads": int(published.get("pending_uploads", 0)),
                "failing_uploads": int(published.get("failing_uploads", 0))}


async def checkpoint_ids(path: str):
    """Every data unit the checkpoint's index references, a page at a time."""
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
    try:
        for sql in ("SELECT data_id, NULL FROM parts",
                    "SELECT NULL, meta FROM objects WHERE inline IS NULL",
                    "SELECT NULL, meta FROM versions WHERE inline IS NULL"):
            cursor = await run_io(db.execute, sql)
            while rows := await run_io(cursor.fetchmany, 500):
                for data_id, meta in rows:
                    if data_id is not None:
                        yield data_id
                        continue
                    doc = json.loads(meta)
                    for part in doc.get("parts", []):
                        yield part["data_id"]
                    if doc.get("manifest"):
                        yield doc["manifest"]
    finally:
        db.close()


def read_status(data_folder: str) -> dict:
    try:
        with open(os.path.join(localstate.folder(data_folder), STATUS)) as f:
            doc = json.load(f)
    except (OSError, ValueError):
        return {}
    return doc if isinstance(doc, dict) else {}


class ShipWorker:
    """Steps the shipper (bg/worker.py's pattern) and publishes what it knows."""

    def __init__(self, shipper: Shipper, local: LocalFolderLog):
        self.shipper = shipper
        self.local = local
        self._published = 0.0
        # While a step waits on a failing remote, the failures still show.
        shipper.notify = lambda: asyncio.ensure_future(self.publish())

    async def step(self) -> Status:
        outcome = await self.shipper.run_once()
        await self.publish(force=outcome == "done")
        return {"done": Status.DONE, "paused": Status.THROTTLED, "busy": Status.BUSY,
                "idle": Status.IDLE}[outcome]

    async def publish(self, force: bool = False) -> None:
        if not force and time.monotonic() - self._published < 1.0:
            return
        self._published = time.monotonic()
        s = self.shipper
        doc = {"s3_hwm": s.hwm if s.writer else None, "pending_uploads": s.pending,
               "failing_uploads": len(s.failing),
               "state": "fenced" if s.fenced else ("running" if s.writer else "starting"),
               "generation": s.generation, "writer": s.writer,
               "error": s.fenced or s.last_error or next(iter(s.failing.values()), ""),
               "updated": time.time()}
        await run_io(localstate.write_json,
                     os.path.join(localstate.folder(self.local.data_folder), STATUS), doc,
                     False)
        st = await run_io(self.local.status)
        for gauge, key in ((metrics.TIER_LOG_END, "log_end_lsn"),
                           (metrics.TIER_APPLIED, "applied_lsn"), (metrics.TIER_HWM, "s3_hwm"),
                           (metrics.TIER_LAG_RECORDS, "lag_records"),
                           (metrics.TIER_LAG_BYTES, "lag_bytes"),
                           (metrics.TIER_LAG_SECONDS, "lag_seconds"),
                           (metrics.TIER_PENDING, "pending_uploads"),
                           (metrics.TIER_FAILING, "failing_uploads")):
            gauge.set(st[key])


def referenced(blob: bytes) -> list[str]:
    """The data units the records of a segment's bytes reference."""
    ids = []
    for line in blob.splitlines(keepends=True):
        entry = logcodec.decode_entry(line)
        if entry is not None:
            ids += logcodec.referenced_ids(entry.mutations)
    return ids


class TierAdmin:
    """What /_admin/tier/ shows, in any worker process."""

    def __init__(self, local: LocalFolderLog, config):
        self.local = local
        self.config = config            # tier.config.TierConfig

    async def status(self) -> dict:
        return await run_io(self.local.status)

    async def verify(self) -> dict:
        async with Remote(self.config) as remote:
            return await verify(remote, await self.local.log_end(), referenced,
                                self.local.checkpoint_ids,
                                call=lambda op: retrying(op, should_stop=three_tries()))


def three_tries():
    """An operator waits for verify: a retryable error is retried twice, then reported."""
    calls = [0]

    def stop() -> bool:
        calls[0] += 1
        return calls[0] > 2
    return stop


def tier_config(cfg: Config) -> TierConfig:
    return TierConfig.from_env(cfg.tier_endpoint, cfg.tier_bucket, cfg.tier_prefix,
                               cfg.tier_region)


def start(cfg: Config, data, keeper) -> tuple[ShipWorker, TierAdmin]:
    """The shipping worker and the admin view of a server with a cold tier."""
    local = LocalFolderLog(cfg.data, cfg.drives or [cfg.data], data, keeper,
                           Graveyard(localstate.folder(cfg.data)), cfg.durable)
    config = tier_config(cfg)
    shipper = Shipper(Remote(config), local, cfg.tier, cfg.tier_ship_interval,
                      cfg.tier_checkpoint_interval, cfg.tier_rate)
    return ShipWorker(shipper, local), TierAdmin(local, config)


def check_owner(cfg: Config, log_end: int, wait: float = 15.0) -> None:
    """Start-up (before workers): refuse to start when another writer owns the tier (I6).
    A remote that does not answer in `wait` seconds does not stop the start: the shipper
    asks again when it answers, and stops shipping if it must."""
    async def ask():
        async with Remote(tier_config(cfg)) as remote:
            store = ManifestStore(remote, lambda op: op())
            return await asyncio.wait_for(store.read(), wait)
    try:
        manifest = asyncio.run(ask())
    except (RemoteError, TimeoutError, OSError, ValueError) as e:
        log.warning("cold tier not checked at start-up (%s): shipping begins when it answers",
                    e)
        return
    decision = decide(manifest, localstate.read_state(cfg.data),
                      localstate.read_restored(cfg.data), cfg.tier, log_end)
    if decision.kind == "refuse":
        raise SystemExit(f"s3ish: cold tier {cfg.tier_endpoint} bucket {cfg.tier_bucket} "
                         f"prefix {cfg.tier_prefix!r}: {decision.reason}")
