"""SQLite's side of the rules: the schema (versioned migrations) and `SqliteTx`, the row
operations `rules.Tx` asks for, run inside the writer's open transaction.

Layout: `objects` holds each key's current version (a delete marker too), so an unversioned
PUT touches one row and a listing reads one table as before; `versions` holds the noncurrent
versions, keyed (bucket, key, vsort) so a key's history reads newest first. A version id
equals its vsort, except `null` versions, found through a small partial index.
"""
import dataclasses
import json
import sqlite3
import typing

from ..util.ids import version_sort_at
from . import docs, rules, sqlite_iam
from .records import Bucket, ObjectVersion, Part, Upload

# Versioned migrations: index i brings user_version i to i+1.
MIGRATIONS = [
    """
    CREATE TABLE buckets(name TEXT PRIMARY KEY, owner TEXT NOT NULL, created REAL NOT NULL,
                         region TEXT NOT NULL);
    CREATE TABLE objects(bucket TEXT NOT NULL, key TEXT NOT NULL, size INTEGER NOT NULL,
                         etag TEXT NOT NULL, mtime REAL NOT NULL, owner TEXT NOT NULL,
                         storage_class TEXT NOT NULL, meta TEXT NOT NULL, inline BLOB,
                         PRIMARY KEY(bucket, key)) WITHOUT ROWID;
    CREATE TABLE uploads(upload_id TEXT PRIMARY KEY, bucket TEXT NOT NULL, key TEXT NOT NULL,
                         initiated REAL NOT NULL, record TEXT NOT NULL);
    CREATE INDEX uploads_by_key ON uploads(bucket, key, upload_id);
    CREATE TABLE parts(upload_id TEXT NOT NULL, part_number INTEGER NOT NULL,
                       data_id TEXT NOT NULL, size INTEGER NOT NULL, etag TEXT NOT NULL,
                       mtime REAL NOT NULL, checksum TEXT NOT NULL,
                       PRIMARY KEY(upload_id, part_number)) WITHOUT ROWID;
    """,
    # Per-bucket counters kept in the object transactions, so metrics never scan.
    """
    CREATE TABLE bucket_stats(bucket TEXT PRIMARY KEY, objects INTEGER NOT NULL,
                              bytes INTEGER NOT NULL);
    INSERT INTO bucket_stats SELECT name, 0, 0 FROM buckets;
    UPDATE bucket_stats SET
        objects = (SELECT count(*) FROM objects WHERE objects.bucket = bucket_stats.bucket),
        bytes = (SELECT coalesce(sum(size), 0) FROM objects
                 WHERE objects.bucket = bucket_stats.bucket);
    """,
    # The last journal record applied (erasure-coded drives mirror every commit in it).
    """
    CREATE TABLE journal_state(id INTEGER PRIMARY KEY CHECK (id = 1), lsn INTEGER NOT NULL);
    INSERT INTO journal_state VALUES (1, 0);
    """,
    # Object versions: delete markers and sort keys on current rows, noncurrent versions in a
    # table of their own, bucket configuration. Existing rows are `null` versions (vsort ''
    # is filled from their time when they first become noncurrent).
    """
    ALTER TABLE buckets ADD COLUMN config TEXT NOT NULL DEFAULT '{}';
    ALTER TABLE objects ADD COLUMN vsort TEXT NOT NULL DEFAULT '';
    ALTER TABLE objects ADD COLUMN dm INTEGER NOT NULL DEFAULT 0;
    CREATE TABLE versions(bucket TEXT NOT NULL, key TEXT NOT NULL, vsort TEXT NOT NULL,
                          size INTEGER NOT NULL, etag TEXT NOT NULL, mtime REAL NOT NULL,
                          owner TEXT NOT NULL, storage_class TEXT NOT NULL, meta TEXT NOT NULL,
                          inline BLOB, dm INTEGER NOT NULL, null_version INTEGER NOT NULL,
                          PRIMARY KEY(bucket, key, vsort)) WITHOUT ROWID;
    CREATE INDEX versions_null ON versions(bucket, key) WHERE null_version = 1;
    """,
    # Lifecycle: keys (and uploads, upload_id != '') of buckets with lifecycle rules that the
    # lifecycle worker must look at, and from when; `gen` counts reschedules by writes.
    """
    CREATE TABLE lc_due(bucket TEXT NOT NULL, key TEXT NOT NULL, upload_id TEXT NOT NULL,
                        due REAL NOT NULL, gen INTEGER NOT NULL DEFAULT 0,
                        PRIMARY KEY(bucket, key, upload_id)) WITHOUT ROWID;
    CREATE INDEX lc_due_by_time ON lc_due(due);
    """,
    # Users, access keys and identity policies (sqlite_iam.py).
    sqlite_iam.MIGRATION,
    # Transparently compressed parts (records.DataPart.compression / stored_size).
    """
    ALTER TABLE parts ADD COLUMN compression TEXT NOT NULL DEFAULT '';
    ALTER TABLE parts ADD COLUMN stored_size INTEGER NOT NULL DEFAULT 0;
    """,
    # Encrypted parts: each part's wrapped data key (records.Part.sse_key).
    """
    ALTER TABLE parts ADD COLUMN sse_key TEXT NOT NULL DEFAULT '';
    """,
]

OBJ_COLS = "bucket, key, size, etag, mtime, owner, storage_class, meta, inline, vsort, dm"
_BUCKET_COLS = "name, owner, created, region, config"
# Every Bucket field but the columns: its configuration (versioning, lock, lifecycle, tags,
# CORS, policy, ACL, ownership, public access block), whatever fields the record grows.
_CONFIG_FIELDS = {f.name: typing.get_type_hints(Bucket)[f.name]
                  for f in dataclasses.fields(Bucket)
                  if f.name not in ("name", "owner", "created", "region")}


def migrate(db: sqlite3.Connection) -> None:
    db.execute("BEGIN IMMEDIATE")
    try:
        version = db.execute("PRAGMA user_version").fetchone()[0]
        for i in range(version, len(MIGRATIONS)):
            for stmt in MIGRATIONS[i].split(";"):
                if stmt.strip():
                    db.execute(stmt)
        db.execute(f"PRAGMA user_version={len(MIGRATIONS)}")
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise


# ---- row <-> record ----

def bucket_from_row(row) -> Bucket:
    name, owner, created, region, config = row
    b = Bucket(name, owner, created, region)
    if config != "{}":
        for k, v in json.loads(config).items():
            setattr(b, k, docs.from_doc(_CONFIG_FIELDS[k], v))
    return b


def _config_json(b: Bucket) -> str:
    doc = {k: docs.to_doc(getattr(b, k)) for k in _CONFIG_FIELDS if getattr(b, k)}
    return json.dumps(doc, separators=(",", ":"))


def get_bucket(db, name: str) -> Bucket | None:
    r = db.execute(f"SELECT {_BUCKET_COLS} FROM buckets WHERE name=?", (name,)).fetchone()
    return bucket_from_row(r) if r else None


def version_from_row(row) -> ObjectVersion:
    return ObjectVersion.from_row(*row)


def get_current(db, bucket: str, key: str) -> ObjectVersion | None:
    r = db.execute(f"SELECT {OBJ_COLS} FROM objects WHERE bucket=? AND key=?",
                   (bucket, key)).fetchone()
    return ObjectVersion.from_row(*r) if r else None


def get_noncurrent(db, bucket: str, key: str, version_id: str) -> ObjectVersion | None:
    if version_id == "null":
        r = db.execute(f"SELECT {OBJ_COLS} FROM versions WHERE bucket=? AND key=? AND "
                       "null_version=1", (bucket, key)).fetchone()
    else:
        r = db.execute(f"SELECT {OBJ_COLS} FROM versions WHERE bucket=? AND key=? AND vsort=?",
                       (bucket, key, version_id)).fetchone()
    return ObjectVersion.from_row(*r) if r else None


def get_version(db, bucket: str, key: str, version_id: str) -> ObjectVersion | None:
    cur = get_current(db, bucket, key)
    if cur is not None and cur.version_id == version_id:
        return cur
    return get_noncurrent(db, bucket, key, version_id)


def get_upload(db, upload_id):
    r = db.execute("SELECT record FROM uploads WHERE upload_id=?", (upload_id,)).fetchone()
    return Upload.from_json(r[0]) if r else None


def _row(v: ObjectVersion) -> tuple:
    return (v.bucket, v.key, v.size, v.etag, v.mtime, v.owner, v.storage_class, v.meta_json(),
            v.inline, v.vsort, int(v.delete_marker))


class SqliteTx(sqlite_iam.IamSqliteTx):
    """rules.Tx (and iam_rules.IamTx) over one SQLite connection inside an open
    transaction."""

    def __init__(self, db: sqlite3.Connection):
        self.db = db

    def bucket(self, name):
        return get_bucket(self.db, name)

    def insert_bucket(self, b):
        self.db.execute(f"INSERT INTO buckets ({_BUCKET_COLS}) VALUES (?,?,?,?,?)",
                        (b.name, b.owner, b.created, b.region, _config_json(b)))
        self.db.execute("INSERT OR REPLACE INTO bucket_stats VALUES (?, 0, 0)", (b.name,))

    def update_bucket(self, b):
        self.db.execute("UPDATE buckets SET config=? WHERE name=?", (_config_json(b), b.name))

    def delete_bucket(self, name):
        self.db.execute("DELETE FROM buckets WHERE name=?", (name,))
        self.db.execute("DELETE FROM bucket_stats WHERE bucket=?", (name,))
        self.db.execute("DELETE FROM lc_due WHERE bucket=?", (name,))

    def bucket_empty(self, name):
        return not any(self.db.execute(f"SELECT 1 FROM {t} WHERE bucket=? LIMIT 1",
                                       (name,)).fetchone() for t in ("objects", "versions"))

    def uploads_of(self, bucket):
        return [r[0] for r in self.db.execute("SELECT upload_id FROM uploads WHERE bucket=?",
                                              (bucket,)).fetchall()]

    def current(self, bucket, key):
        return get_current(self.db, bucket, key)

    def version(self, bucket, key, version_id):
        return get_version(self.db, bucket, key, version_id)

    def noncurrent(self, bucket, key, version_id):
        return get_noncurrent(self.db, bucket, key, version_id)

    def put_current(self, v):
        self.db.execute(f"INSERT INTO objects ({OBJ_COLS}) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                        _row(v))

    def demote(self, v):
        if not v.vsort:     # a row written before versions had sort keys
            v.vsort = version_sort_at(v.mtime)
        self.db.execute("DELETE FROM objects WHERE bucket=? AND key=?", (v.bucket, v.key))
        self.put_noncurrent(v)

    def put_noncurrent(self, v):
        self.db.execute(f"INSERT INTO versions ({OBJ_COLS}, null_version) "
                        "VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                        _row(v) + (int(v.version_id == "null"),))

    def remove(self, v, current):
        if current:
            self.db.execute("DELETE FROM objects WHERE bucket=? AND key=?", (v.bucket, v.key))
        else:
            self.db.execute("DELETE FROM versions WHERE bucket=? AND key=? AND vsort=?",
                            (v.bucket, v.key, v.vsort))

    def promote_newest(self, bucket, key):
        r = self.db.execute(f"SELECT {OBJ_COLS} FROM versions WHERE bucket=? AND key=? "
                            "ORDER BY vsort LIMIT 1", (bucket, key)).fetchone()
        if r is not None:
            v = ObjectVersion.from_row(*r)
            self.remove(v, current=False)
            self.put_current(v)

    def update_version(self, v, current):
        table, where = ("objects", "") if current else ("versions", " AND vsort=?")
        args = (v.meta_json(), v.storage_class, v.bucket, v.key) + \
            (() if current else (v.vsort,))
        self.db.execute(f"UPDATE {table} SET meta=?, storage_class=? WHERE bucket=? AND "
                        f"key=?{where}", args)

    def count(self, bucket, objects, nbytes):
        self.db.execute("UPDATE bucket_stats SET objects = objects + ?, bytes = bytes + ? "
                        "WHERE bucket = ?", (objects, nbytes, bucket))

    def upload(self, upload_id):
        return get_upload(self.db, upload_id)

    def insert_upload(self, u):
        self.db.execute("INSERT INTO uploads VALUES (?,?,?,?,?)",
                        (u.upload_id, u.bucket, u.key, u.initiated, u.to_json()))

    def delete_upload(self, upload_id):
        freed = [r[0] for r in self.db.execute("SELECT data_id FROM parts WHERE upload_id=?",
                                               (upload_id,))]
        self.db.execute("DELETE FROM parts WHERE upload_id=?", (upload_id,))
        self.db.execute("DELETE FROM uploads WHERE upload_id=?", (upload_id,))
        return freed

    def part_ids(self, upload_id):
        return {r[0] for r in self.db.execute("SELECT data_id FROM parts WHERE upload_id=?",
                                              (upload_id,))}

    def part(self, upload_id, part_number):
        row = self.db.execute(
            "SELECT upload_id, part_number, data_id, size, etag, mtime, checksum, compression, "
            "stored_size, sse_key FROM parts WHERE upload_id=? AND part_number=?",
            (upload_id, part_number)).fetchone()
        return Part(*row) if row else None

    def put_part(self, p: Part):
        old = self.db.execute("SELECT data_id FROM parts WHERE upload_id=? AND part_number=?",
                              (p.upload_id, p.part_number)).fetchone()
        self.db.execute("INSERT OR REPLACE INTO parts VALUES (?,?,?,?,?,?,?,?,?,?)",
                        (p.upload_id, p.part_number, p.data_id, p.size, p.etag, p.mtime,
                         p.checksum, p.compression, p.stored_size, p.sse_key))
        return old[0] if old else None

    # ---- the lifecycle worker's schedule (an index derived from the rows above) ----
    def lc_schedule(self, bucket, key, upload_id, t):
        self.db.execute("INSERT INTO lc_due VALUES (?,?,?,?,0) ON CONFLICT DO UPDATE SET "
                        "due = min(due, excluded.due), gen = gen + 1",
                        (bucket, key, upload_id, t))

    def lc_reset(self, bucket, prefixes):
        self.db.execute("DELETE FROM lc_due WHERE bucket=?", (bucket,))
        # Every key and upload under the prefixes once, due from its oldest time: the worker
        # refines each. (substr, not LIKE: '%' and '_' are legal in keys.)
        under = "bucket=:b AND substr(key, 1, length(:p)) = :p"
        for p in prefixes:
            args = {"b": bucket, "p": p}
            self.db.execute(
                "INSERT OR IGNORE INTO lc_due (bucket, key, upload_id, due) SELECT bucket, key, "
                f"'', min(t) FROM (SELECT bucket, key, mtime AS t FROM objects WHERE {under} "
                f"UNION ALL SELECT bucket, key, mtime FROM versions WHERE {under}) "
                "GROUP BY bucket, key", args)
            self.db.execute("INSERT OR IGNORE INTO lc_due (bucket, key, upload_id, due) "
                            f"SELECT bucket, key, upload_id, initiated FROM uploads WHERE {under}",
                            args)
        # Versions in a cold tier's storage class may hold a restore's copies, which the
        # worker frees on time whatever the rules say now: they stay scheduled.
        for table in ("objects", "versions"):
            self.db.execute("INSERT OR IGNORE INTO lc_due (bucket, key, upload_id, due) SELECT "
                            f"bucket, key, '', min(mtime) FROM {table} WHERE bucket=? AND "
                            "storage_class != 'STANDARD' GROUP BY bucket, key", (bucket,))


def apply(db: sqlite3.Connection, mutation):
    """Apply one mutation record inside the caller's transaction (rules.py decides)."""
    return rules.apply(SqliteTx(db), mutation)
