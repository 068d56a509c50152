"""The drive watcher: notices drives that vanish, come back or are replaced while the server
runs, and makes a joining drive hold the whole index (a snapshot and the journal after it)
before the healer rebuilds its shards. Also used once at start-up, before workers serve.

A drive is never counted ok again until it holds the index: otherwise losing the drives that
do would leave a set whose journals silently start late (see meta/recovery.py).
"""
import fcntl
import logging
import os

from ..meta import journal, recovery
from ..obs import metrics
from ..storage.drives import OK, DriveSet
from ..util.threads import run_io
from .worker import Status

log = logging.getLogger("s3ish.drives")


def self_sufficient(drive: str) -> bool:
    """The drive alone holds the whole index: its journal starts at the beginning, or at or
    before its own snapshot. (Drives replaced by versions before base lines were written
    got the journal only from their replacement on: they fail this and are seeded.)"""
    base = journal.drive_base(drive)
    if base is None:
        return False
    if base == 0:
        return True
    snap = os.path.join(drive, recovery.SNAPSHOT)
    return os.path.exists(snap) and recovery.snapshot_lsn(snap) >= base


def lagging(drive_set: DriveSet) -> list:
    """Ok drives that do not hold the whole index alone, or whose journal is behind the
    others' (they missed writes while away): they must rejoin."""
    ok = [d for d in drive_set.drives if d.state == OK]
    last = {d.path: journal.last_lsn(d.path) for d in ok}
    newest = max((v for v in last.values() if v is not None), default=None)
    if newest is None:
        return []
    return [d for d in ok if last[d.path] is None or last[d.path] < newest
            or not self_sufficient(d.path)]


def seed(drive_set: DriveSet, drive, db_path: str) -> bool:
    """Give a joining drive the index; on failure it is taken out of service (its marker
    still says rebuilding, so the next start-up tries again)."""
    try:
        lsn = recovery.seed_drive(db_path, drive.path, [d.path for d in drive_set.drives])
        drive_set.mark_seeded(drive)
    except OSError as e:
        # Unseeded, it is never counted ok (DriveSet.rebuilding skips it).
        drive.record_error(e)
        log.error("drive %d (%s) could not take the index: %s", drive.index, drive.path, e)
        return False
    log.warning("drive %d (%s) holds the index as of %d; rebuilding its shards", drive.index,
                drive.path, lsn)
    return True


class DriveWatcher:
    """Every worker runs one: refreshes states and gauges; whichever worker first sees a
    drive to join does the join, under a lock shared by all worker processes."""

    def __init__(self, drive_set: DriveSet, db_path: str):
        self.set = drive_set
        self.db_path = db_path
        self.lock_path = db_path + ".join-lock"

    async def step(self) -> Status:
        for drive in await run_io(self.set.refresh):
            await run_io(self._join, drive)
        for d in self.set.drives:
            metrics.DRIVE_STATE.labels(d.path).set(1 if d.state == "ok" else 0)
            metrics.DRIVE_ERRORS.labels(d.path).set(d.errors)
        return Status.IDLE

    def _join(self, drive) -> None:
        try:
            lock = open(self.lock_path, "a+")
        except OSError as e:
            log.error("cannot join drive %s: no lock file (%s)", drive.path, e)
            return
        with lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                if self.set.join(drive):
                    seed(self.set, drive, self.db_path)
            except OSError as e:
                drive.record_error(e)
                log.error("drive %d (%s) could not join: %s", drive.index, drive.path, e)


def join_at_start(drive_set: DriveSet, joiners: list, db_path: str) -> None:
    """Start-up (one process, index caught up): seed the drives DriveSet.open() found joining
    and the ones that missed writes. A drive that cannot take it (full, failing) stays out
    of service and is tried again at the next start."""
    if not os.path.exists(db_path):
        return
    for drive in lagging(drive_set):
        if drive in joiners:
            continue
        log.warning("drive %d (%s) missed writes or lacks the index: it rejoins",
                    drive.index, drive.path)
        try:
            if drive_set.join(drive):
                joiners.append(drive)
        except OSError as e:
            drive.record_error(e)
            log.error("drive %d (%s) could not rejoin: %s", drive.index, drive.path, e)
    for drive in joiners:
        seed(drive_set, drive, db_path)
