"""The local side of a follower of the cold tier (bg/tierfollow.py works over it): this
folder's (or these drives') index and data store, `.s3ish/tier/follower.json`, the work
folder segments are downloaded into, and what `s3ish admin tier status` shows on a follower
(in any worker process: the following process publishes `follow-status.json`).

Status keys on a follower (docs/tier.md, "Follower"): `s3_hwm` is the tier's high-water mark
as last read; `log_end_lsn` is the same (the end of the log a follower can know of: records
its writer has not shipped yet are invisible to it); `applied_lsn` is the index's position;
`lag_records` = s3_hwm - applied_lsn; `lag_bytes`: bytes of the segments not applied yet;
`lag_seconds`: how long the oldest record known and not applied has waited since its commit
on the writer, and at least how long the manifest has gone unread past one interval (a
follower that cannot reach the tier falls behind without knowing by how much);
`pending_uploads`: segments known and not applied yet (downloads waiting);
`failing_uploads`: remote reads whose last attempt failed (being retried).
"""
import json
import os
import sqlite3
import time

from ..config import Config
from ..meta import replica
from ..meta.records import CreateUpload, ObjectVersion, Part
from ..meta.sqlite_tx import get_upload
from ..obs import metrics
from ..tier import localstate
from ..tier.remote import Remote
from ..tier.retry import retrying
from ..tier.verify import verify
from ..util.threads import run_io
from .tiership import TierAdmin, checkpoint_ids, referenced, three_tries, tier_config
from .tierfollow import Follower, FollowWorker
from .tierread import read_segment
from .tierunits import part_unit, version_units

STATUS = "follow-status.json"
WORK = "follow"


class FollowLocal:
    def __init__(self, data_folder: str, data):
        self.data_folder = data_folder
        self.db_path = os.path.join(data_folder, "meta.sqlite3")
        self.data = data                    # the DataStore (import_writer, open, delete)
        self.work = os.path.join(localstate.folder(data_folder), WORK)
        self.started = time.time()

    # ---- position and state ----
    async def applied(self) -> int:
        return await run_io(replica.position, self.db_path)

    async def state(self) -> dict:
        doc = await run_io(localstate.read_follower, self.data_folder)
        if doc is None:
            raise OSError(f"{localstate.FOLLOWER} is missing or damaged in "
                          f"{localstate.folder(self.data_folder)}")
        return doc

    async def save_state(self, **changes) -> None:
        doc = {**await self.state(), **changes}
        await run_io(localstate.write_follower, self.data_folder, doc)

    # ---- one segment ----
    def work_file(self, name: str) -> str:
        os.makedirs(self.work, exist_ok=True)
        return os.path.join(self.work, name)

    async def done_with(self, path: str) -> None:
        try:
            await run_io(os.unlink, path)
        except FileNotFoundError:
            pass

    def _missing_units(self, path: str, seg) -> list:
        """The data units the segment's records reference that this store lacks (a unit
        is immutable: one here is the one the tier holds)."""
        describing = self.data.self_describing
        uploads, seen, out = {}, set(), []
        db = sqlite3.connect(f"file:{self.db_path}?mode=ro", uri=True)
        try:
            def upload_of(upload_id):
                if upload_id not in uploads:
                    uploads[upload_id] = get_upload(db, upload_id)
                return uploads[upload_id]
            for entry in read_segment(path, seg):
                for m in entry.mutations:
                    if isinstance(m, CreateUpload):
                        uploads[m.upload.upload_id] = m.upload
                    for value in vars(m).values():
                        if isinstance(value, ObjectVersion):
                            units = version_units(value, describing)
                        elif isinstance(value, Part):
                            units = [part_unit(value, upload_of(value.upload_id), describing)]
                        else:
                            continue
                        for unit in units:
                            if unit.data_id not in seen and not self.data.exists(unit.data_id):
                                out.append(unit)
                            seen.add(unit.data_id)
        finally:
            db.close()
        return out

    async def missing_units(self, path: str, seg) -> list:
        return await run_io(self._missing_units, path, seg)

    async def apply(self, path: str, seg, expect: int) -> dict:
        return await run_io(replica.apply_segment, self.db_path, read_segment(path, seg),
                            seg.last, expect)

    def _free(self, data_ids: list) -> None:
        for data_id in data_ids:
            self.data.delete(data_id)

    async def free(self, data_ids: list) -> None:
        """Delete what applied records freed (committed: nothing references them now; a
        crash before this leaves unreferenced units the start-up sweep sets aside)."""
        if data_ids:
            await run_io(self._free, data_ids)

    # ---- status ----
    def _status_path(self) -> str:
        return os.path.join(localstate.folder(self.data_folder), STATUS)

    async def publish(self, doc: dict) -> None:
        doc = {**doc, "started": self.started}
        await run_io(localstate.write_json, self._status_path(), doc, False)
        st = await run_io(self.status)
        for gauge, key in ((metrics.TIER_LOG_END, "log_end_lsn"),
                           (metrics.TIER_APPLIED, "applied_lsn"), (metrics.TIER_HWM, "s3_hwm"),
                           (metrics.TIER_LAG_RECORDS, "lag_records"),
                           (metrics.TIER_LAG_BYTES, "lag_bytes"),
                           (metrics.TIER_LAG_SECONDS, "lag_seconds"),
                           (metrics.TIER_PENDING, "pending_uploads"),
                           (metrics.TIER_FAILING, "failing_uploads")):
            gauge.set(st[key])

    def status(self) -> dict:
        """The keys of `s3ish admin tier status` on a follower (see the module docstring),
        and its state (blocking)."""
        applied = replica.position(self.db_path)
        try:
            with open(self._status_path()) as f:
                pub = json.load(f)
        except (OSError, ValueError):
            pub = {}
        hwm = pub.get("s3_hwm")
        hwm = hwm if type(hwm) is int else applied
        behind = max(0, hwm - applied)
        now = time.time()
        waited = 0.0
        if behind and isinstance(pub.get("oldest_unapplied_time"), (int, float)):
            waited = now - pub["oldest_unapplied_time"]
        seen = pub.get("read_at") or pub.get("started")
        stale = now - seen - float(pub.get("interval") or 0) if seen else 0.0
        return {"log_end_lsn": max(hwm, applied), "applied_lsn": applied, "s3_hwm": hwm,
                "lag_records": behind, "lag_bytes": int(pub.get("lag_bytes", 0)) if behind else 0,
                "lag_seconds": round(max(0.0, waited, stale), 3),
                "pending_uploads": int(pub.get("pending_uploads", 0)) if behind else 0,
                "failing_uploads": int(pub.get("failing_uploads", 0)),
                "role": "follower", "state": pub.get("state", "starting"),
                "generation": pub.get("generation"), "error": pub.get("error", "")}


class FollowerAdmin(TierAdmin):
    """What /_admin/tier/ shows on a follower, in any worker process: the status its
    FollowLocal publishes; verify without the writer's own log."""

    async def verify(self) -> dict:
        """The tier's invariants I3-I5 (I1 is about the writer's own log)."""
        async with Remote(self.config) as remote:
            return await verify(remote, float("inf"), referenced, checkpoint_ids,
                                call=lambda op: retrying(op, should_stop=three_tries()))


def start(cfg: Config, data) -> tuple[FollowWorker, FollowerAdmin]:
    """The following worker and the admin view of a follower."""
    local = FollowLocal(cfg.data, data)
    config = tier_config(cfg)
    follower = Follower(Remote(config), local, cfg.follow_interval)
    return FollowWorker(follower, local), FollowerAdmin(local, config)
