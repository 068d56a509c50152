"""Start-up recovery of the metadata index and its journal (one process, before any worker
serves), on drives and on one folder alike: cut torn journal tails, bring the index up to
the journal (it commits without fsync: the journal is the commit point), rebuild a missing
index from the journal, give a folder written before it had a journal one, seed joining
drives, and compact a large journal behind a checkpoint (never past the S3 high-water mark
when a cold tier is configured, I2).
"""
import glob
import logging
import os
import sqlite3

from .bg.drivewatch import join_at_start
from .config import Config
from .meta import checkpoint, journal, recovery
from .meta.sqlite import SqliteMetaStore
from .storage.drives import DriveSet
from .storage.erasure import default_layout

log = logging.getLogger("s3ish")

# A journal larger than this is folded into index snapshots on the drives at start-up.
JOURNAL_COMPACT_BYTES = int(os.environ.get("S3ISH_JOURNAL_COMPACT_BYTES", 64 * 1024 * 1024))
# While serving, the log keeper (bg/logkeeper.py) looks this often (seconds).
LOG_KEEPER_SECONDS = float(os.environ.get("S3ISH_LOG_KEEPER_SECONDS", 10))


def index_path(cfg: Config) -> str:
    return os.path.join(cfg.data, "meta.sqlite3")


def recover_drives(cfg: Config, keep_above: int | None) -> DriveSet:
    k, m = default_layout(len(cfg.drives), cfg.parity)
    drive_set = DriveSet(cfg.drives, k, m)
    joiners = drive_set.open(create_missing=cfg.create_drives)
    journal.repair(cfg.drives)
    db = index_path(cfg)
    if os.path.exists(db):
        catch_up(db, cfg.drives)
    else:
        rebuild_missing_index(db, cfg.drives, _holds_shards(cfg.drives))
    join_at_start(drive_set, joiners, db)
    compact_if_large(db, cfg.drives, drive_set.write_quorum(), keep_above)
    return drive_set


def recover_folder(cfg: Config, keep_above: int | None) -> None:
    """One folder: the journal in `.s3ish/journal/` is the commit point as on drives."""
    folder, db = cfg.data, index_path(cfg)
    journal.prepare(folder)
    if os.path.exists(db) and not journal.exists([folder]):
        start_journal(db, folder)
    journal.repair([folder])
    if os.path.exists(db):
        catch_up(db, [folder])
    else:
        rebuild_missing_index(db, [folder], _holds_shards([folder]))
    compact_if_large(db, [folder], 1, keep_above)


def start_journal(db: str, folder: str) -> None:
    """A folder whose index was written without a journal (an earlier version, or `s3ish
    restore` onto one folder): its journal starts at the index's position, with a snapshot
    of the index there, so a rebuild can never mistake the journal for the whole history.
    An index at position 0 that holds anything moves to 1 first: a journal based at 0 would
    claim to hold everything."""
    conn = sqlite3.connect(db, isolation_level=None)
    try:
        SqliteMetaStore._migrate(conn)
        lsn = conn.execute("SELECT lsn FROM journal_state WHERE id = 1").fetchone()[0]
        if lsn == 0 and _holds_rows(conn):
            conn.execute("UPDATE journal_state SET lsn = 1 WHERE id = 1")
    finally:
        conn.close()
    lsn = checkpoint.take(db, [folder])
    log.warning("metadata journal started in %s at sequence number %d (snapshot of the index "
                "taken there)", folder, lsn)


def _holds_rows(conn) -> bool:
    tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table' "
                                         "AND name != 'journal_state'")]
    return any(conn.execute(f'SELECT 1 FROM "{t}" LIMIT 1').fetchone() for t in tables)


def compact_if_large(db: str, drives: list[str], quorum: int, keep_above: int | None) -> None:
    if os.path.exists(db) and journal.size(drives) > JOURNAL_COMPACT_BYTES:
        lsn = recovery.compact(db, drives, quorum, keep_above)
        log.warning("journal compacted: index snapshot at %s on the drives", lsn)


def catch_up(db: str, drives: list[str]) -> None:
    """Never sweep "orphans" with an index that is behind the journal."""
    at = recovery.index_lsn(db)
    if recovery.assess(drives, after=at).complete or not journal.exists(drives):
        result = recovery.catch_up(db, drives)
        if result["records"]:
            log.warning("index caught up from the journal: %s", result)
    elif recovery.assess(drives).complete:
        log.warning("index %s is older than the snapshots on the drives: rebuilding it", db)
        log.warning("rebuilt: %s", recovery.rebuild_index(db, drives))
    else:
        raise SystemExit(f"s3ish: the index {db} is at sequence number {at}, but the "
                         "journal on the drives starts later and no snapshot covers the "
                         "gap: run `s3ish admin rebuild-index` with the server stopped")


def rebuild_missing_index(db: str, drives: list[str], holds_data: bool) -> None:
    found = recovery.assess(drives)
    if found.complete and found.anything:
        log.warning("metadata index %s is missing: rebuilding it from the journal on the "
                    "drives", db)
        log.warning("rebuilt: %s", recovery.rebuild_index(db, drives))
    elif found.anything or holds_data:
        # Starting would treat every object as an orphan.
        raise SystemExit(f"s3ish: metadata index {db} is missing and the drives cannot "
                         f"rebuild it from the journal ({found.reason or 'no journal'}): "
                         "run `s3ish admin rebuild-index` with the server stopped"
                         + (" (it falls back to the metadata in the shard headers)"
                            if len(drives) > 1 else ""))


def _holds_shards(drives: list[str]) -> bool:
    for drive in drives:
        for sub in glob.iglob(os.path.join(drive, "objects", "*")):
            if os.listdir(sub):
                return True
    return False
