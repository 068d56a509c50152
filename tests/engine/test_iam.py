"""Identities in the metadata store, no HTTP: the IAM rules, the start-up import (idempotent,
old canonical ids kept), journal replay of identity records, the schema migration, and the
workers' user view (StoreUsers)."""
import asyncio
import json
import os
import sqlite3

import pytest

from s3ish.engine.iam import Identities
from s3ish.meta import iam_errors, iam_records as ir, journal
from s3ish.meta.recovery import rebuild_index
from s3ish.meta.sqlite import SqliteMetaStore
from s3ish.meta.sqlite_tx import MIGRATIONS
from s3ish.s3.auth.credentials import legacy_owner_id
from s3ish.s3.auth.users import StoreUsers

ALLOW_S3 = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]})


def run(coro):
    return asyncio.run(coro)


async def _with_store(fn, db=":memory:", drives=None):
    j = None
    if drives:
        for d in drives:
            journal.prepare(d)
        j = journal.Journal(drives, quorum=len(drives))
    store = SqliteMetaStore(db, journal=j)
    try:
        return await fn(Identities(store))
    finally:
        await store.close()
        if j is not None:
            j.close()


def _state(snap: dict) -> dict:
    """What a snapshot says, comparable across stores."""
    return {"users": sorted((u.user_id, u.name, u.root, u.email) for u in snap["users"]),
            "keys": sorted((k.access_key, k.user_id, k.secret, k.status, k.source)
                           for k in snap["keys"]),
            "inline": snap["inline"], "attached": snap["attached"],
            "members": snap["members"], "groups": sorted(g.name for g in snap["groups"]),
            "policies": sorted(snap["policies"])}


async def _populate(ids: Identities) -> dict:
    await ids.import_key("rootkey", "rootsecret", legacy_owner_id("rootkey"), "rootkey",
                         "rootkey", "", "env")
    await ids.import_key("oldkey", "oldsecret", legacy_owner_id("oldkey"), "Old User",
                         "Old User", "old@example.com", "auth-file")
    await ids.create_user("alice")
    k1 = await ids.create_access_key("alice")
    k2 = await ids.create_access_key("alice")
    await ids.update_access_key("alice", k1.access_key, "Inactive")
    await ids.delete_access_key("alice", k2.access_key)
    await ids.put_user_policy("alice", "s3", ALLOW_S3)
    await ids.create_policy("shared", ALLOW_S3)
    await ids.attach_user_policy("alice", "shared")
    await ids.create_access_key("oldkey")      # the imported user's name is its access key
    await ids.create_group("team")
    await ids.change_group(ir.AddUserToGroup("team", "alice"))
    await ids.put_group_policy("team", "read", ALLOW_S3)
    await ids.change_group(ir.AttachGroupPolicy("team", "shared"))
    return _state(await ids.snapshot())


def test_identity_records_roundtrip():
    ms = [ir.CreateUser(ir.User("id", "n", 1.0, "/p/", "d", "e@x", True)),
          ir.UpdateUser("n", "m", "/q/"), ir.DeleteUser("n"),
          ir.CreateAccessKey("n", ir.AccessKey("AK", "", "S", 2.0)),
          ir.UpdateAccessKey("n", "AK", "Inactive"), ir.DeleteAccessKey("n", "AK"),
          ir.PutUserPolicy("n", "p", "{}"), ir.DeleteUserPolicy("n", "p"),
          ir.CreatePolicy(ir.ManagedPolicy("p", "ANPA1", "{}", 3.0)), ir.DeletePolicy("p"),
          ir.AttachUserPolicy("n", "p"), ir.DetachUserPolicy("n", "p"),
          ir.ImportKey("AK", "S", "id", "n", "d", "e", "auth-file", 4.0),
          ir.CreateGroup(ir.Group("gid", "g", 5.0, "/x/")), ir.DeleteGroup("g"),
          ir.AddUserToGroup("g", "n"), ir.RemoveUserFromGroup("g", "n"),
          ir.PutGroupPolicy("g", "p", "{}"), ir.DeleteGroupPolicy("g", "p"),
          ir.AttachGroupPolicy("g", "p"), ir.DetachGroupPolicy("g", "p")]
    lsn, back = journal.decode_record(journal.encode_record(3, ms))
    assert lsn == 3 and back == ms


def test_users_replay_from_journal(tmp_path):
    drives = [str(tmp_path / "d1"), str(tmp_path / "d2")]
    db = os.path.join(drives[0], "meta.sqlite3")
    before = run(_with_store(_populate, db, drives))
    assert len(before["users"]) == 3 and len(before["keys"]) == 4
    os.unlink(db)                                   # the index is lost with its drive
    result = rebuild_index(db, drives)
    assert result["skipped"] == 0

    async def read(ids):
        return _state(await ids.snapshot())
    assert run(_with_store(read, db)) == before


def test_import_is_idempotent_and_keeps_legacy_ids():
    async def go(ids: Identities):
        assert await ids.import_key("AK1", "s1", legacy_owner_id("AK1"), "Alt User",
                                    "Alt User", "", "auth-file")
        gen = await ids.generation()
        # Seen again as it was: nothing written.
        assert not await ids.import_key("AK1", "s1", legacy_owner_id("AK1"), "Alt User",
                                        "Alt User", "", "auth-file")
        assert await ids.generation() == gen
        user = (await ids.snapshot())["users"][0]
        assert user.user_id == legacy_owner_id("AK1")
        assert user.name == "AK1"           # "Alt User" is no valid IAM name
        # A changed secret updates the key, nothing else.
        assert await ids.import_key("AK1", "s2", legacy_owner_id("AK1"), "Alt User",
                                    "Alt User", "", "auth-file")
        (key,) = (await ids.snapshot())["keys"]
        assert key.secret == "s2" and key.user_id == user.user_id
        # Rotated through IAM: the old key deleted stays deleted at the next import.
        new = await ids.create_access_key("AK1")
        await ids.delete_access_key("AK1", "AK1")
        assert not await ids.import_key("AK1", "s2", legacy_owner_id("AK1"), "Alt User",
                                        "Alt User", "", "auth-file")
        keys = (await ids.snapshot())["keys"]
        assert [(k.access_key, k.user_id) for k in keys] == [(new.access_key, user.user_id)]
    run(_with_store(go))


def test_root_key_change_keeps_the_root_user():
    async def go(ids: Identities):
        await ids.import_key("root1", "s", legacy_owner_id("root1"), "root1", "root1", "", "env")
        await ids.import_key("root2", "t", legacy_owner_id("root2"), "root2", "root2", "", "env")
        snap = await ids.snapshot()
        (root,) = snap["users"]
        assert root.root and root.user_id == legacy_owner_id("root1")
        assert [k.access_key for k in snap["keys"]] == ["root2"]
        with pytest.raises(iam_errors.InvalidInput):     # not through the API
            await ids.delete_access_key("root1", "root2")
        with pytest.raises(iam_errors.InvalidInput):
            await ids.update_access_key("root1", "root2", "Inactive")
        # ...and back: the environment decides root's key.
        assert await ids.import_key("root1", "s", legacy_owner_id("root1"), "root1", "root1",
                                    "", "env")
        assert [k.access_key for k in (await ids.snapshot())["keys"]] == ["root1"]
    run(_with_store(go))


def test_iam_rules_refuse_as_iam_does():
    async def go(ids: Identities):
        await ids.create_user("Bob")
        with pytest.raises(iam_errors.EntityAlreadyExists):
            await ids.create_user("bob")                     # names are case-insensitive
        assert (await ids.get_user("BOB")).name == "Bob"
        with pytest.raises(iam_errors.ValidationError):
            await ids.create_user("no spaces")
        k = await ids.create_access_key("bob")
        await ids.create_access_key("bob")
        with pytest.raises(iam_errors.LimitExceeded):
            await ids.create_access_key("bob")
        with pytest.raises(iam_errors.DeleteConflict):
            await ids.delete_user("bob")
        await ids.create_policy("p", ALLOW_S3)
        await ids.attach_user_policy("bob", "p")
        with pytest.raises(iam_errors.DeleteConflict):
            await ids.delete_policy("p")
        with pytest.raises(iam_errors.NoSuchEntity):
            await ids.delete_user_policy("bob", "nope")
        with pytest.raises(iam_errors.NoSuchEntity):
            await ids.update_access_key("nobody", k.access_key, "Inactive")
        for key in await ids.list_access_keys("bob"):
            await ids.delete_access_key("bob", key.access_key)
        await ids.detach_user_policy("bob", "p")
        await ids.delete_policy("p")
        await ids.delete_user("bob")
        assert (await ids.snapshot())["users"] == []
    run(_with_store(go))


def test_migration_from_a_store_without_users(tmp_path):
    db = str(tmp_path / "meta.sqlite3")
    old = sqlite3.connect(db, isolation_level=None)
    for script in MIGRATIONS[:5]:                      # the schema before identities
        old.executescript(script)
    old.execute("PRAGMA user_version=5")
    old.execute("INSERT INTO buckets VALUES ('b', 'o', 1.0, 'us-east-1', '{}')")
    old.close()

    async def go(ids: Identities):
        await ids.create_user("carol")
        assert (await ids.meta.get_bucket("b")).owner == "o"
        return [u.name for u in (await ids.snapshot())["users"]]
    assert run(_with_store(go, db)) == ["carol"]


def test_store_users_view_follows_changes():
    async def go(ids: Identities):
        users = StoreUsers(ids)
        await users.start(("rootkey", "rootsecret"), None)
        assert users.root.is_root and users.get("rootkey").owner_id == legacy_owner_id("rootkey")
        await ids.create_user("dave")
        k = await ids.create_access_key("dave")
        await ids.put_user_policy("dave", "s3", ALLOW_S3)
        await users.refresh()
        dave = users.get(k.access_key)
        assert dave.user_name == "dave" and not dave.is_root and len(dave.policies) == 1
        assert users.by_owner(dave.owner_id) == dave
        await ids.update_access_key("dave", k.access_key, "Inactive")
        watcher = asyncio.get_running_loop().create_task(users.watch())
        try:
            for _ in range(50):                         # the poller notices by itself
                if users.get(k.access_key) is None:
                    break
                await asyncio.sleep(0.02)
        finally:
            watcher.cancel()
        assert users.get(k.access_key) is None
        assert users.by_owner(dave.owner_id).user_name == "dave"   # still known as owner
    run(_with_store(go))


def test_groups_give_their_members_policies():
    async def go(ids: Identities):
        users = StoreUsers(ids)
        await users.start(None, None)
        await ids.create_user("erin")
        k = await ids.create_access_key("erin")
        await ids.create_group("Readers")
        with pytest.raises(iam_errors.EntityAlreadyExists):
            await ids.create_group("readers")
        await ids.change_group(ir.AddUserToGroup("readers", "erin"))
        await ids.put_group_policy("readers", "s3", ALLOW_S3)
        await ids.create_policy("m", ALLOW_S3)
        await ids.change_group(ir.AttachGroupPolicy("readers", "m"))
        await users.refresh()
        assert len(users.get(k.access_key).policies) == 2
        assert [g.name for g in await ids.groups_for_user("erin")] == ["Readers"]
        for conflict in (ir.DeleteGroup("readers"),):
            with pytest.raises(iam_errors.DeleteConflict):
                await ids.change_group(conflict)
        await ids.delete_access_key("erin", k.access_key)
        with pytest.raises(iam_errors.DeleteConflict):
            await ids.delete_user("erin")                # still in a group
        await ids.change_group(ir.RemoveUserFromGroup("readers", "erin"))
        with pytest.raises(iam_errors.DeleteConflict):
            await ids.change_group(ir.DeleteGroup("readers"))   # still has policies
        await ids.change_group(ir.DeleteGroupPolicy("readers", "s3"))
        await ids.change_group(ir.DetachGroupPolicy("readers", "m"))
        await ids.change_group(ir.DeleteGroup("readers"))
        await ids.delete_user("erin")
        assert (await ids.snapshot())["groups"] == []
    run(_with_store(go))
