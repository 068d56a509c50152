"""Checkpoints: consistent copies of the SQLite index at an exact LSN, taken while the server
runs, and the local truncation of the journal behind them.

A checkpoint is taken in two steps. Under the writers' lock (nothing commits meanwhile) the
journal is sealed at the index's LSN and a read transaction is opened on the index; outside
it, SQLite's backup API copies the index as that transaction sees it (WAL: writers go on),
so the copy is exactly the state at that LSN, whatever the size of the index and however
long the copy takes. The copy is fsync'd and renamed into place as `.s3ish/snapshot.sqlite3`
on every drive (or the one folder): the snapshot recovery starts from (meta/recovery.py), and
the checkpoint the cold tier uploads.

Truncation deletes sealed segments whose records are all at or below both the drive's own
snapshot (so every drive stays able to rebuild the index alone) and, with a cold tier, the S3
high-water mark (I2: what is not shipped yet is never deleted).
"""
import contextlib
import fcntl
import os
import shutil
import sqlite3

from ..util.files import fsync_dir
from . import segments

SNAPSHOT = os.path.join(".s3ish", "snapshot.sqlite3")


@contextlib.contextmanager
def writers_lock(db_path: str):
    """The lock every commit holds (meta/sqlite.py): nothing commits while it is held."""
    with open(db_path + ".writer-lock", "a+") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def snapshot_lsn(path: str) -> int:
    """The LSN a snapshot holds the index at; -1 when it is missing or unreadable."""
    try:
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            return db.execute("SELECT lsn FROM journal_state WHERE id = 1").fetchone()[0]
        finally:
            db.close()
    except (sqlite3.Error, TypeError):
        return -1


def snapshot_on(drive: str) -> str:
    return os.path.join(drive, SNAPSHOT)


def best_snapshot(drives: list[str]) -> str | None:
    """The newest readable snapshot on any drive."""
    found = [(lsn, p) for p in map(snapshot_on, drives)
             if os.path.exists(p) and (lsn := snapshot_lsn(p)) >= 0]
    return max(found)[1] if found else None


def latest_lsn(drives: list[str]) -> int:
    """The newest snapshot's LSN on any drive (-1: none)."""
    best = best_snapshot(drives)
    return snapshot_lsn(best) if best else -1


def _fsync_file(path: str) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _install(tmp: str, final: str) -> None:
    _fsync_file(tmp)
    os.replace(tmp, final)
    fsync_dir(os.path.dirname(final))


def _backup(src: sqlite3.Connection, tmp: str) -> None:
    for leftover in (tmp, tmp + "-journal"):
        if os.path.exists(leftover):
            os.unlink(leftover)
    dst = sqlite3.connect(tmp, isolation_level=None)
    try:
        src.backup(dst)
        # A plain rollback-journal file: readable alone, read-only, without -wal or -shm.
        dst.execute("PRAGMA journal_mode=DELETE")
    finally:
        dst.close()


def take(db_path: str, drives: list[str], durable: bool = True, quorum: int = 1) -> int:
    """Seal the journal at the index's LSN and put a copy of the index as of exactly that
    LSN on every drive. Returns the LSN, or -1 when fewer than `quorum` drives took it (a
    drive that did keeps it: it is a consistent snapshot all the same)."""
    src = sqlite3.connect(db_path, isolation_level=None)
    try:
        with writers_lock(db_path):
            src.execute("BEGIN")
            lsn = src.execute("SELECT lsn FROM journal_state WHERE id = 1").fetchone()[0]
            segments.seal(drives, lsn, durable)
        try:
            first = None
            for drive in drives:
                try:
                    os.makedirs(os.path.dirname(snapshot_on(drive)), exist_ok=True)
                    tmp = snapshot_on(drive) + ".tmp"
                    _backup(src, tmp)
                    _install(tmp, snapshot_on(drive))
                    first = drive
                    break
                except (OSError, sqlite3.Error):
                    continue
        finally:
            src.execute("COMMIT")
    finally:
        src.close()
    if first is None:
        return -1
    done = 1
    for drive in drives:
        if drive == first:
            continue
        try:
            os.makedirs(os.path.dirname(snapshot_on(drive)), exist_ok=True)
            tmp = snapshot_on(drive) + ".tmp"
            shutil.copyfile(snapshot_on(first), tmp)
            _install(tmp, snapshot_on(drive))
            done += 1
        except OSError:
            continue
    return lsn if done >= quorum else -1


def truncate_behind(drives: list[str], keep_above: int | None = None) -> int:
    """Delete the sealed segments each drive's own snapshot covers, never past `keep_above`
    (the S3 high-water mark with a cold tier). Returns how many files went."""
    limits = {}
    for drive in drives:
        limit = snapshot_lsn(snapshot_on(drive))
        if keep_above is not None:
            limit = min(limit, keep_above)
        limits[drive] = limit
    return segments.truncate(drives, limits)
