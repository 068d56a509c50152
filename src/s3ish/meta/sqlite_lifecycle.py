"""The SQLite store's side of the lifecycle worker: the schedule the rules keep in `lc_due`
(keys and uploads of buckets with lifecycle rules, and from when to look at them), read by
time through its index, and a key's versions for the worker to decide on.

The schedule is an index derived from the rows (journal replay rebuilds it), so the worker's
own updates to it are not journaled. A write to a key bumps its row's `gen`; the worker's
update applies only if the row was not bumped since it read it, so no write is overlooked.
"""
import fcntl
from collections import namedtuple

from .sqlite_tx import OBJ_COLS, get_current
from .records import ObjectVersion

DueRow = namedtuple("DueRow", "bucket key upload_id due gen")


class LifecycleStoreMixin:
    """Methods of SqliteMetaStore (uses its `_scan`, `_read`, `_call` and `_db`)."""

    async def lifecycle_due(self, now: float, limit: int) -> list[DueRow]:
        """Up to `limit` scheduled keys and uploads due by `now`, oldest first."""
        def q(db):
            return [DueRow(*r) for r in db.execute(
                "SELECT bucket, key, upload_id, due, gen FROM lc_due WHERE due <= ? "
                "ORDER BY due LIMIT ?", (now, limit))]
        return await self._scan(q)

    async def lifecycle_backlog(self, now: float) -> tuple[int, float | None]:
        """(how many are due, the oldest due time) for the metrics."""
        return await self._scan(lambda db: tuple(db.execute(
            "SELECT count(*), min(due) FROM lc_due WHERE due <= ?", (now,)).fetchone()))

    async def lifecycle_settle(self, settled: list[tuple[DueRow, float | None]]) -> int:
        """Look at each row again at its new due time (None: only when a write schedules
        it), unless a write bumped it meanwhile; one transaction for the lot. Returns how
        many applied."""
        def w():
            if self._lock_fd is None:
                return settle()
            # Take turns with the other workers' writers, as every commit does (sqlite.py).
            fcntl.flock(self._lock_fd, fcntl.LOCK_EX)
            try:
                return settle()
            finally:
                fcntl.flock(self._lock_fd, fcntl.LOCK_UN)

        def settle():
            db, applied = self._db, 0
            db.execute("BEGIN IMMEDIATE")
            try:
                for row, due in settled:
                    key = (row.bucket, row.key, row.upload_id, row.gen)
                    if due is None:
                        cur = db.execute("DELETE FROM lc_due WHERE bucket=? AND key=? AND "
                                         "upload_id=? AND gen=?", key)
                    else:
                        cur = db.execute("UPDATE lc_due SET due=? WHERE bucket=? AND key=? "
                                         "AND upload_id=? AND gen=?", (due,) + key)
                    applied += cur.rowcount
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
            return applied
        return await self._call(w) if settled else 0

    async def key_versions(self, bucket: str, key: str
                           ) -> tuple[ObjectVersion | None, list[ObjectVersion]]:
        """A key's current version and its noncurrent ones, newest first."""
        def q(db):
            old = [ObjectVersion.from_row(*r) for r in db.execute(
                f"SELECT {OBJ_COLS} FROM versions WHERE bucket=? AND key=? ORDER BY vsort",
                (bucket, key))]
            return get_current(db, bucket, key), old
        return await self._scan(q)
