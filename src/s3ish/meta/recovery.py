"""Recovery of the metadata index from the drives: snapshots, the journal, and whether what
the drives hold is complete.

The index (SQLite, on the first drive) is a materialisation: the journal on the drives holds
every committed mutation after a base, and snapshots (copies of the index at a sequence
number) cover what came before. A rebuild is trusted only when the drives prove it complete:
a snapshot at S (or none, S = 0) and at least one journal copy based at or before S. A drive
that joins the set (a replacement, or one that comes back after missing writes) receives a
fresh snapshot and a journal based at it, under the writers' lock, so it can carry the whole
index alone.
"""
import os
import shutil
import sqlite3
from dataclasses import dataclass

from ..util.files import fsync_dir
from . import checkpoint, errors, journal, segments
from .checkpoint import SNAPSHOT, best_snapshot, snapshot_lsn  # noqa: F401
from .sqlite import SqliteMetaStore
from .sqlite_tx import apply as apply_mutation


@dataclass
class Assessment:
    """What the drives hold of the index: enough to rebuild it, or not (and why)."""
    snapshot: str | None        # the newest readable snapshot
    snapshot_lsn: int           # its sequence number (0 without one)
    bases: dict                 # drive -> journal base (None: no usable journal)
    complete: bool
    reason: str = ""

    @property
    def anything(self) -> bool:
        return self.snapshot is not None or any(b is not None for b in self.bases.values())


def assess(drives: list[str], after: int | None = None) -> Assessment:
    """Can the index be rebuilt (or, with `after`, an index at `after` be caught up) from
    these drives without losing a committed mutation?"""
    snapshot = best_snapshot(drives)
    s_lsn = snapshot_lsn(snapshot) if snapshot else 0
    start = s_lsn if after is None else after
    known = segments.slots(drives)
    bases = {d: journal.drive_base(d, known) for d in drives}
    known = [b for b in bases.values() if b is not None]
    if any(b <= start for b in known):
        return Assessment(snapshot, s_lsn, bases, True)
    if not known:
        reason = "no journal copy on any drive"
    else:
        reason = (f"the journal copies start after sequence number {min(known)}, but the "
                  f"{'snapshot' if after is None else 'index'} only covers up to {start}")
    return Assessment(snapshot, s_lsn, bases, False, reason)


def rebuild_index(db_path: str, drives: list[str]) -> dict:
    """Recreate the SQLite index from the drives (server stopped): the newest snapshot, then
    the journal records after it. Refuses (IncompleteJournal) when the drives cannot prove
    the result complete. The old file, if any, is kept aside. Returns counts."""
    found = assess(drives)
    if not found.complete:
        raise IncompleteJournal(found.reason)
    tmp = _fresh(db_path + ".rebuild")
    if found.snapshot is not None:
        shutil.copyfile(found.snapshot, tmp)
    db = sqlite3.connect(tmp, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    SqliteMetaStore._migrate(db)
    result = _replay(db, drives)
    result["snapshot"] = found.snapshot or ""
    db.close()
    install(tmp, db_path)
    return result


def rebuild_from_mutations(db_path: str, mutations: list) -> dict:
    """Recreate the index from mutation records made by another source (the shard headers),
    all applied in one transaction; the old file is kept aside."""
    tmp = _fresh(db_path + ".rebuild")
    db = sqlite3.connect(tmp, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    SqliteMetaStore._migrate(db)
    db.execute("BEGIN IMMEDIATE")
    applied, skipped = _apply_all(db, mutations)
    db.execute("COMMIT")
    db.close()
    install(tmp, db_path)
    return {"mutations": applied, "skipped": skipped}


def _apply_all(db, mutations, freed: list | None = None) -> tuple[int, int]:
    """Apply records in the caller's transaction; ones the state refuses are skipped (a
    record replayed over a snapshot that already holds it). Returns (applied, skipped);
    the data ids the applied ones free are added to `freed` when it is given."""
    applied = skipped = 0
    for m in mutations:
        try:
            out = apply_mutation(db, m)
            applied += 1
        except errors.DomainError:
            skipped += 1
            continue
        if freed is not None:
            freed += getattr(out, "freed", None) or []
    return applied, skipped


def _fresh(tmp: str) -> str:
    for leftover in (tmp, tmp + "-wal", tmp + "-shm"):
        if os.path.exists(leftover):
            os.unlink(leftover)
    return tmp


def install(tmp: str, db_path: str) -> None:
    """Put a rebuilt index in place, keeping the previous one as `.before-rebuild`."""
    os.makedirs(os.path.dirname(os.path.abspath(db_path)), exist_ok=True)
    if os.path.exists(db_path):
        os.replace(db_path, f"{db_path}.before-rebuild")
    for stale in (db_path + "-wal", db_path + "-shm"):
        if os.path.exists(stale):
            os.unlink(stale)
    os.replace(tmp, db_path)


class IncompleteJournal(Exception):
    """The drives do not hold every committed mutation: a rebuild would lose some."""


def has_snapshot(drives: list[str]) -> bool:
    return best_snapshot(drives) is not None


def _write_snapshot(db: sqlite3.Connection, drive: str) -> None:
    final = os.path.join(drive, SNAPSHOT)
    tmp = final + ".tmp"
    os.makedirs(os.path.dirname(final), exist_ok=True)
    if os.path.exists(tmp):
        os.unlink(tmp)
    db.execute("VACUUM INTO ?", (tmp,))
    with open(tmp, "rb") as f:
        os.fsync(f.fileno())
    os.replace(tmp, final)
    fsync_dir(os.path.dirname(final))


def compact(db_path: str, drives: list[str], quorum: int, keep_above: int | None = None
            ) -> int:
    """Start-up compaction (one process, index caught up): a checkpoint of the index on
    every drive (meta/checkpoint.py), then the segments it covers are deleted, never past
    `keep_above` (the S3 high-water mark with a cold tier). Returns the checkpoint's LSN, or
    -1 when fewer than `quorum` drives took it (the journals are then kept whole)."""
    lsn = checkpoint.take(db_path, drives, quorum=quorum)
    if lsn < 0:
        return -1
    checkpoint.truncate_behind(drives, keep_above)
    return lsn


def seed_drive(db_path: str, drive: str, drives: list[str] | None = None) -> int:
    """Give a joining drive the whole index: a snapshot, and a journal based at it (the set's
    journal is sealed there: `drives`, all of them). Holds the writers' lock so no commit
    falls between the two. Returns the LSN."""
    with checkpoint.writers_lock(db_path):
        db = sqlite3.connect(db_path, isolation_level=None)
        try:
            _write_snapshot(db, drive)
        finally:
            db.close()
        lsn = snapshot_lsn(os.path.join(drive, SNAPSHOT))
        journal.restart_at(drive, lsn, drives)
    return lsn


def catch_up(db_path: str, drives: list[str]) -> dict:
    """Apply the journal records the index has not seen (it commits without fsync when a
    journal exists: after a power cut the journal holds what the index may have lost)."""
    db = sqlite3.connect(db_path, isolation_level=None)
    try:
        db.execute("PRAGMA journal_mode=WAL")
        SqliteMetaStore._migrate(db)
        return _replay(db, drives)
    finally:
        db.close()


def index_lsn(db_path: str) -> int:
    db = sqlite3.connect(db_path, isolation_level=None)
    try:
        SqliteMetaStore._migrate(db)
        return db.execute("SELECT lsn FROM journal_state WHERE id = 1").fetchone()[0]
    finally:
        db.close()


def _replay(db, drives: list[str]) -> dict:
    done = db.execute("SELECT lsn FROM journal_state WHERE id = 1").fetchone()[0]
    records = journal.read_merged(drives, after=done)
    db.execute("BEGIN IMMEDIATE")
    try:
        result = apply_records(db, records)
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise
    lsns = [lsn for lsn, _ in records]
    return {**result,
            # Numbers absent from every drive: each is a commit that was refused.
            "lsn_gaps": (lsns[-1] - done - len(lsns)) if lsns else 0,
            "last_lsn": lsns[-1] if lsns else done}


def apply_records(db, records, freed: list | None = None) -> dict:
    """Apply journal records `(lsn, [mutation])`, in LSN order, inside the caller's
    transaction, moving the index's position along with each: how the journal is replayed
    at start-up, by a rebuild, by `s3ish restore` and by a follower of the cold tier (one
    function, so they cannot differ). Returns counts; with `freed`, the data ids the
    records free are added to it (the follower deletes them once committed)."""
    n = applied = skipped = 0
    for lsn, mutations in records:
        done_here, skipped_here = _apply_all(db, mutations, freed)
        applied += done_here
        skipped += skipped_here
        n += 1
        db.execute("UPDATE journal_state SET lsn = ? WHERE id = 1", (lsn,))
    return {"records": n, "mutations": applied, "skipped": skipped}


def seed_drives(db_path: str, drives: list[str]) -> int:
    """Give every drive (or the one folder) the whole index at its position (server stopped,
    the index made elsewhere: `s3ish restore`): a snapshot, and a journal based at it, so the
    drives alone can rebuild the index as `assess` demands. Returns the LSN."""
    db = sqlite3.connect(db_path, isolation_level=None)
    try:
        lsn = db.execute("SELECT lsn FROM journal_state WHERE id = 1").fetchone()[0]
        for drive in drives:
            _write_snapshot(db, drive)
            journal.restart_at(drive, lsn, drives)
    finally:
        db.close()
    return lsn
