"""The index of a restore: the checkpoint (or an empty index), then the records of the
segments after it, replayed exactly as start-up recovery replays the journal
(`meta.recovery.apply_records`: one function, so the two cannot differ), stopping exactly at
the target. Blocking: called from worker threads.

Segments are read and checked by bg/tierread.py (`read_segment`, shared with the follower).
"""
import os
import sqlite3

from ...bg.tierread import is_base, read_segment  # noqa: F401  (restore's readers use them)
from ...meta import recovery
from ...meta.sqlite_tx import MIGRATIONS, migrate
from .plan import RestoreError, Segment


def latest_at(path: str, seg: Segment, when: float) -> int | None:
    """The largest record position in a segment committed at or before `when`."""
    best = None
    for entry in read_segment(path, seg):
        if entry.time is not None and entry.time <= when:
            best = entry.lsn
    return best


def start_index(path: str, checkpoint_file: str | None, checkpoint_lsn: int = 0) -> None:
    """Make the index file at `path`: the downloaded checkpoint, checked (readable, at the
    position the manifest says, not from a newer s3ish) and migrated; or an empty index."""
    for leftover in (path, path + "-wal", path + "-shm"):
        if os.path.exists(leftover):
            os.unlink(leftover)
    if checkpoint_file is not None:
        os.replace(checkpoint_file, path)
    db = sqlite3.connect(path, isolation_level=None)
    try:
        if checkpoint_file is not None:
            _check_checkpoint(db, checkpoint_lsn)
        db.execute("PRAGMA journal_mode=WAL")
        migrate(db)
    except sqlite3.Error as e:
        raise RestoreError(f"the checkpoint at {checkpoint_lsn} is not a usable index: "
                           f"{e}") from None
    finally:
        db.close()


def _check_checkpoint(db, lsn: int) -> None:
    ok = db.execute("PRAGMA quick_check").fetchone()[0]
    if ok != "ok":
        raise RestoreError(f"the checkpoint at {lsn} is damaged: {ok}")
    version = db.execute("PRAGMA user_version").fetchone()[0]
    if version > len(MIGRATIONS):
        raise RestoreError(f"the checkpoint at {lsn} has schema version {version}, newer "
                           f"than this s3ish's {len(MIGRATIONS)}")
    at = db.execute("SELECT lsn FROM journal_state WHERE id = 1").fetchone()
    if at is None or at[0] != lsn:
        raise RestoreError(f"the checkpoint named {lsn} in manifest.json holds the index "
                           f"at {at[0] if at else 'no position'}")


def replay(path: str, segments: list[tuple[Segment, str]], target: int) -> dict:
    """Apply the records after the index's position up to `target` from the downloaded
    segments (in order), one transaction per segment; the index ends at exactly `target`."""
    db = sqlite3.connect(path, isolation_level=None)
    totals = {"records": 0, "mutations": 0, "skipped": 0}
    try:
        done = db.execute("SELECT lsn FROM journal_state WHERE id = 1").fetchone()[0]
        for seg, file in segments:
            records = ((e.lsn, e.mutations) for e in _until(read_segment(file, seg), target)
                       if e.lsn > done)
            db.execute("BEGIN IMMEDIATE")
            try:
                result = recovery.apply_records(db, records)
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
            for k in totals:
                totals[k] += result[k]
        # The target may be a position no record holds (a refused commit burns its number).
        db.execute("UPDATE journal_state SET lsn = ? WHERE id = 1", (target,))
    finally:
        db.close()
    return totals


def _until(entries, target: int):
    for e in entries:
        if e.lsn > target:
            return
        yield e
