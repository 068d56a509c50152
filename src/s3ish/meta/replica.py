"""The index of a follower of the cold tier (docs/tier.md, "Follower"): records another
server shipped, applied to this index in LSN order exactly as recovery replays the journal
(`recovery.apply_records`: one function, so they cannot differ).

One transaction per segment, under the writers' lock (a checkpoint, or the seeding of a
joining drive, sees a whole segment or none of it), committed with synchronous=FULL: the
follower keeps no journal of these records (the tier holds them), so the index is their
only local copy, and its position (`journal_state.lsn`, moved to the segment's end) is the
follower's applied position. Data units the records free are returned, to be deleted only
after the commit. Other worker processes read the same SQLite file and see each segment
whole once it commits. Blocking: call from a worker thread.
"""
import sqlite3

from . import checkpoint, recovery


class Moved(Exception):
    """The index is not at the position the caller applies from (another process moved it,
    or the index was replaced): nothing was applied."""


def position(db_path: str) -> int:
    db = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        return db.execute("SELECT lsn FROM journal_state WHERE id = 1").fetchone()[0]
    finally:
        db.close()


def apply_segment(db_path: str, records, last: int, expect: int) -> dict:
    """Apply `records` (an iterable of meta.journal.Entry, in order) after `expect`, the
    index's position, up to `last` (the segment's end: the index's position afterwards, even
    if no record holds that number: a refused commit burns its number). Records at or below
    `expect` are passed over. Returns the counts of recovery.apply_records and "freed": the
    data ids to delete now that the records are committed."""
    freed: list[str] = []
    with checkpoint.writers_lock(db_path):
        db = sqlite3.connect(db_path, isolation_level=None)
        try:
            db.execute("PRAGMA busy_timeout=30000")
            db.execute("PRAGMA synchronous=FULL")
            db.execute("BEGIN IMMEDIATE")
            try:
                done = db.execute("SELECT lsn FROM journal_state WHERE id = 1").fetchone()[0]
                if done != expect:
                    raise Moved(f"the index is at {done}, not at {expect}")
                result = recovery.apply_records(
                    db, ((e.lsn, e.mutations) for e in records if done < e.lsn <= last), freed)
                db.execute("UPDATE journal_state SET lsn = ? WHERE id = 1", (last,))
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
        finally:
            db.close()
    return {**result, "freed": freed}
