"""SQLite's side of identity: the tables (one migration in sqlite_tx.MIGRATIONS), the row
operations iam_rules.IamTx asks for, and the store's reads (a snapshot of every user for the
workers' caches, the generation they poll).

Records are kept as JSON documents (meta/docs.py) beside the columns they are found by; user
and managed-policy names are found case-insensitively through a lower-cased key column.
"""
import json

from . import docs
from .iam_records import AWS_MANAGED, AccessKey, Group, ManagedPolicy, User, aws_managed, name_key

MIGRATION = """
    CREATE TABLE iam_users(user_id TEXT PRIMARY KEY, name_key TEXT NOT NULL UNIQUE,
                           root INTEGER NOT NULL, record TEXT NOT NULL);
    CREATE TABLE iam_keys(access_key TEXT PRIMARY KEY, user_id TEXT NOT NULL,
                          record TEXT NOT NULL);
    CREATE INDEX iam_keys_by_user ON iam_keys(user_id);
    CREATE TABLE iam_imported(access_key TEXT PRIMARY KEY);
    CREATE TABLE iam_groups(group_id TEXT PRIMARY KEY, name_key TEXT NOT NULL UNIQUE,
                            record TEXT NOT NULL);
    CREATE TABLE iam_members(group_id TEXT NOT NULL, user_id TEXT NOT NULL,
                             PRIMARY KEY(group_id, user_id));
    CREATE INDEX iam_members_by_user ON iam_members(user_id);
    CREATE TABLE iam_inline(entity TEXT NOT NULL, name TEXT NOT NULL, document TEXT NOT NULL,
                            PRIMARY KEY(entity, name));
    CREATE TABLE iam_policies(name_key TEXT PRIMARY KEY, record TEXT NOT NULL);
    CREATE TABLE iam_attached(entity TEXT NOT NULL, policy TEXT NOT NULL,
                              PRIMARY KEY(entity, policy));
    CREATE INDEX iam_attached_by_policy ON iam_attached(policy);
    CREATE TABLE iam_state(id INTEGER PRIMARY KEY CHECK (id = 1), gen INTEGER NOT NULL);
    INSERT INTO iam_state VALUES (1, 0);
"""


def _json(record) -> str:
    return json.dumps(docs.to_doc(record), separators=(",", ":"))


def _user(row) -> User | None:
    return docs.from_doc(User, json.loads(row[0])) if row else None


def _key(row) -> AccessKey | None:
    return docs.from_doc(AccessKey, json.loads(row[0])) if row else None


def _group(row) -> Group | None:
    return docs.from_doc(Group, json.loads(row[0])) if row else None


def _policy(row) -> ManagedPolicy | None:
    return docs.from_doc(ManagedPolicy, json.loads(row[0])) if row else None


class IamSqliteTx:
    """iam_rules.IamTx over `self.db` (mixed into sqlite_tx.SqliteTx)."""

    def user_by_name(self, name):
        return _user(self.db.execute("SELECT record FROM iam_users WHERE name_key=?",
                                     (name_key(name),)).fetchone())

    def user_by_id(self, user_id):
        return _user(self.db.execute("SELECT record FROM iam_users WHERE user_id=?",
                                     (user_id,)).fetchone())

    def root_user(self):
        return _user(self.db.execute("SELECT record FROM iam_users WHERE root=1 "
                                     "ORDER BY user_id LIMIT 1").fetchone())

    def put_user(self, u):
        self.db.execute("INSERT OR REPLACE INTO iam_users VALUES (?,?,?,?)",
                        (u.user_id, name_key(u.name), int(u.root), _json(u)))

    def delete_user(self, user_id):
        self.db.execute("DELETE FROM iam_users WHERE user_id=?", (user_id,))

    def key(self, access_key):
        return _key(self.db.execute("SELECT record FROM iam_keys WHERE access_key=?",
                                    (access_key,)).fetchone())

    def keys_of(self, user_id):
        return [_key(row) for row in self.db.execute(
            "SELECT record FROM iam_keys WHERE user_id=? ORDER BY access_key", (user_id,))]

    def put_key(self, k):
        self.db.execute("INSERT OR REPLACE INTO iam_keys VALUES (?,?,?)",
                        (k.access_key, k.user_id, _json(k)))

    def delete_key(self, access_key):
        self.db.execute("DELETE FROM iam_keys WHERE access_key=?", (access_key,))

    def imported(self, access_key):
        return self.db.execute("SELECT 1 FROM iam_imported WHERE access_key=?",
                               (access_key,)).fetchone() is not None

    def mark_imported(self, access_key):
        self.db.execute("INSERT OR IGNORE INTO iam_imported VALUES (?)", (access_key,))

    def inline_policy(self, entity, name):
        row = self.db.execute("SELECT document FROM iam_inline WHERE entity=? AND name=?",
                              (entity, name)).fetchone()
        return row[0] if row else None

    def inline_names(self, entity):
        return [row[0] for row in self.db.execute(
            "SELECT name FROM iam_inline WHERE entity=? ORDER BY name", (entity,))]

    def put_inline(self, entity, name, document):
        self.db.execute("INSERT OR REPLACE INTO iam_inline VALUES (?,?,?)",
                        (entity, name, document))

    def delete_inline(self, entity, name):
        self.db.execute("DELETE FROM iam_inline WHERE entity=? AND name=?", (entity, name))

    def policy(self, name):
        if name.startswith("aws:"):
            return aws_managed(name)
        return _policy(self.db.execute("SELECT record FROM iam_policies WHERE name_key=?",
                                       (name_key(name),)).fetchone())

    def put_policy(self, p):
        self.db.execute("INSERT OR REPLACE INTO iam_policies VALUES (?,?)",
                        (name_key(p.name), _json(p)))

    def delete_policy(self, name):
        self.db.execute("DELETE FROM iam_policies WHERE name_key=?", (name_key(name),))

    def attached(self, entity):
        return [row[0] for row in self.db.execute(
            "SELECT policy FROM iam_attached WHERE entity=? ORDER BY policy", (entity,))]

    def attachments(self, policy_name):
        return self.db.execute("SELECT count(*) FROM iam_attached WHERE policy=?",
                               (policy_name,)).fetchone()[0]

    def attach(self, entity, policy_name):
        self.db.execute("INSERT OR IGNORE INTO iam_attached VALUES (?,?)",
                        (entity, policy_name))

    def detach(self, entity, policy_name):
        self.db.execute("DELETE FROM iam_attached WHERE entity=? AND policy=?",
                        (entity, policy_name))

    def group_by_name(self, name):
        return _group(self.db.execute("SELECT record FROM iam_groups WHERE name_key=?",
                                      (name_key(name),)).fetchone())

    def put_group(self, g):
        self.db.execute("INSERT OR REPLACE INTO iam_groups VALUES (?,?,?)",
                        (g.group_id, name_key(g.name), _json(g)))

    def delete_group(self, group_id):
        self.db.execute("DELETE FROM iam_groups WHERE group_id=?", (group_id,))

    def members(self, group_id):
        return [row[0] for row in self.db.execute(
            "SELECT user_id FROM iam_members WHERE group_id=? ORDER BY user_id", (group_id,))]

    def groups_of(self, user_id):
        return [row[0] for row in self.db.execute(
            "SELECT group_id FROM iam_members WHERE user_id=? ORDER BY group_id", (user_id,))]

    def add_member(self, group_id, user_id):
        self.db.execute("INSERT OR IGNORE INTO iam_members VALUES (?,?)", (group_id, user_id))

    def remove_member(self, group_id, user_id):
        self.db.execute("DELETE FROM iam_members WHERE group_id=? AND user_id=?",
                        (group_id, user_id))

    def changed(self):
        self.db.execute("UPDATE iam_state SET gen = gen + 1 WHERE id = 1")


# ---- reads (whole-identity snapshots for the caches, and the generation) ----

def generation(db) -> int:
    return db.execute("SELECT gen FROM iam_state WHERE id = 1").fetchone()[0]


def snapshot(db) -> dict:
    """Every user, group, key and policy document, and the generation read before them (so a
    change that lands while they are read makes the next poll read again):
    {"gen", "users": [User], "groups": [Group], "keys": [AccessKey],
    "members": {user_id: [group_id]}, "inline": {user or group id: {name: doc}},
    "attached": {user or group id: [policy name]}, "policies": {name: ManagedPolicy}}."""
    out = {"gen": generation(db),
           "users": [_user(row) for row in db.execute("SELECT record FROM iam_users")],
           "groups": [_group(row) for row in db.execute("SELECT record FROM iam_groups")],
           "keys": [_key(row) for row in db.execute("SELECT record FROM iam_keys")],
           "members": {}, "inline": {}, "attached": {},
           "policies": {p.name: p for p in (_policy(row) for row in db.execute(
               "SELECT record FROM iam_policies"))}}
    out["policies"].update((f"aws:{n}", aws_managed(f"aws:{n}")) for n in AWS_MANAGED)
    for entity, name, document in db.execute("SELECT entity, name, document FROM iam_inline"):
        out["inline"].setdefault(entity, {})[name] = document
    for entity, policy in db.execute("SELECT entity, policy FROM iam_attached"):
        out["attached"].setdefault(entity, []).append(policy)
    for group_id, user_id in db.execute("SELECT group_id, user_id FROM iam_members"):
        out["members"].setdefault(user_id, []).append(group_id)
    return out


class IamStoreMixin:
    """Reads of SqliteMetaStore (uses its `_scan`: all off the event loop)."""

    async def iam_generation(self) -> int:
        # Polled by every worker several times a second: on the read thread, never inline.
        return await self._scan(generation)

    async def iam_snapshot(self) -> dict:
        return await self._scan(snapshot)

    async def iam_read(self, fn, *args):
        """Run `fn(IamSqliteTx-like reader, *args)` on the read connection: the point reads
        the IAM API answers from (a user, its keys, a policy)."""
        def q(db):
            reader = IamSqliteTx()
            reader.db = db
            return fn(reader, *args)
        return await self._scan(q)
