"""ACL and ownership rules with no HTTP: canned ACL expansion, the stored form and its listing,
the journaled SetBucketAcl / SetObjectAcl / SetBucketOwnership records, who owns a write
under each ownership setting, and which ACL writes a bucket refuses."""
import asyncio

import pytest

from s3ish.engine import acl, errors
from s3ish.engine.multipart import Multipart
from s3ish.engine.objects import Engine
from s3ish.engine.types import PutSpec
from s3ish.meta.bucketconf import Grant, PublicAccessBlock
from s3ish.meta.records import Bucket
from s3ish.meta.sqlite import SqliteMetaStore
from s3ish.storage.datastore import FolderDataStore
from s3ish.util.ids import version_id as new_version_id

OWNER, WRITER = "o" * 64, "w" * 64
FC = "FULL_CONTROL"


def run(coro):
    return asyncio.run(coro)


async def _body(data=b"x"):
    yield data


def _open(tmp_path):
    return Engine(SqliteMetaStore(str(tmp_path / "meta.sqlite3")), FolderDataStore(str(tmp_path)))


@pytest.mark.parametrize("name, extra", [
    ("private", []),
    ("public-read", [Grant(acl.ALL_USERS, "READ")]),
    ("public-read-write", [Grant(acl.ALL_USERS, "READ"), Grant(acl.ALL_USERS, "WRITE")]),
    ("authenticated-read", [Grant(acl.AUTHENTICATED_USERS, "READ")]),
    ("aws-exec-read", [Grant("id:" + acl.EXEC_READ_ID, "READ")]),
    ("log-delivery-write", [Grant(acl.LOG_DELIVERY, "WRITE"),
                            Grant(acl.LOG_DELIVERY, "READ_ACP")]),
    ("bucket-owner-read", [Grant("id:" + OWNER, "READ")]),
    ("bucket-owner-full-control", [Grant("id:" + OWNER, FC)]),
])
def test_canned_expansion_stored_and_listed(name, extra):
    grants = acl.canned(name, "object", WRITER, OWNER)
    assert grants == [Grant("id:" + WRITER, FC)] + extra
    stored = acl.stored(grants, WRITER)
    assert stored == (extra or None)       # the owner's grant is never stored
    assert acl.listed(stored, WRITER) == extra + [Grant("id:" + WRITER, FC)]
    assert acl.listed(stored, WRITER, inert=True) == [Grant("id:" + WRITER, FC)]
    # Written by the bucket owner (or on a bucket), bucket-owner-* are private.
    if name.startswith("bucket-owner"):
        assert acl.stored(acl.canned(name, "object", OWNER, OWNER), OWNER) is None
        assert acl.stored(acl.canned(name, "bucket", WRITER, OWNER), WRITER) is None


def test_explicit_acl_without_the_owner_lists_as_set():
    stored = acl.stored([Grant(acl.ALL_USERS, "READ")], OWNER)
    assert acl.listed(stored, OWNER) == [Grant(acl.ALL_USERS, "READ")]
    assert acl.listed(acl.stored([], OWNER), OWNER) == []


def test_acl_records_are_journaled_and_versioned(tmp_path):
    async def go():
        e = _open(tmp_path)
        await e.create_bucket("b", OWNER, "us-east-1", acl=[Grant(acl.ALL_USERS, "READ")],
                              ownership=acl.WRITER)
        await e.set_bucket_versioning("b", "Enabled")
        v1 = await e.put_object("b", "k", _body(), PutSpec(OWNER, acl=[
            Grant(acl.AUTHENTICATED_USERS, "READ")]))
        v2 = await e.put_object("b", "k", _body(), PutSpec(OWNER))
        await e.set_object_acl("b", "k", [Grant("id:" + WRITER, "READ")], v1.version_id)
        await e.set_bucket_acl("b", None)
        with pytest.raises(errors.NoSuchVersion):
            await e.set_object_acl("b", "k", None, new_version_id())   # never written
        with pytest.raises(errors.InvalidVersionId):
            await e.set_object_acl("b", "k", None, "nope")
        await e.meta.close()
        e = _open(tmp_path)
        assert (await e.get_bucket("b")).acl is None
        assert (await e.head_object("b", "k", v1.version_id)).acl == \
            [Grant("id:" + WRITER, "READ")]
        assert (await e.head_object("b", "k")).acl is None
        assert (await e.head_object("b", "k")).version_id == v2.version_id
        await e.meta.close()
    run(go())


def test_ownership_decides_who_owns_a_write(tmp_path):
    async def go():
        e = _open(tmp_path)
        bofc = acl.stored(acl.canned("bucket-owner-full-control", "object", WRITER, OWNER),
                          WRITER)
        for ownership, plain_owner, bofc_owner in [
                (acl.WRITER, WRITER, WRITER), ("", WRITER, WRITER),
                (acl.PREFERRED, WRITER, OWNER), (acl.ENFORCED, OWNER, OWNER)]:
            name = f"b-{ownership.lower() or 'none'}"
            await e.create_bucket(name, OWNER, "us-east-1", ownership=ownership)
            await e.put_object(name, "plain", _body(), PutSpec(WRITER))
            await e.put_object(name, "bofc", _body(), PutSpec(WRITER, acl=bofc))
            assert (await e.head_object(name, "plain")).owner == plain_owner
            v = await e.head_object(name, "bofc")
            assert v.owner == bofc_owner
            # Handed to the bucket owner, the object's ACL is private (the writer keeps none).
            assert v.acl == (None if bofc_owner == OWNER else bofc)
            mp = Multipart(e)
            u = await mp.create_multipart_upload(name, "mp", PutSpec(WRITER, acl=bofc))
            assert (u.object_owner or u.owner) == bofc_owner
            p = await mp.upload_part(u, 1, _body(b"part"), "")
            await mp.complete_multipart_upload(u, [(1, p.etag, {})])
            assert (await e.head_object(name, "mp")).owner == bofc_owner
        await e.meta.close()
    run(go())


def test_enforced_needs_a_private_bucket_acl_and_makes_object_acls_inert(tmp_path):
    async def go():
        e = _open(tmp_path)
        await e.create_bucket("b", OWNER, "us-east-1", acl=[Grant(acl.ALL_USERS, "READ")],
                              ownership=acl.WRITER)
        await e.put_object("b", "k", _body(), PutSpec(WRITER, acl=[Grant(acl.ALL_USERS,
                                                                           "READ")]))
        with pytest.raises(acl.InvalidBucketAclWithObjectOwnership):
            await e.set_bucket_ownership("b", acl.ENFORCED)
        await e.set_bucket_acl("b", None)
        await e.set_bucket_ownership("b", acl.ENFORCED)
        b, v = await e.get_bucket("b"), await e.head_object("b", "k")
        assert acl.object_owner(b, v) == OWNER and v.owner == WRITER
        assert v.acl == [Grant(acl.ALL_USERS, "READ")]          # kept, inert
        await e.set_bucket_ownership("b", "")
        b = await e.get_bucket("b")
        assert b.ownership == "" and acl.object_owner(b, v) == WRITER
        await e.meta.close()
    run(go())


def test_which_acl_writes_a_bucket_refuses():
    enforced = Bucket("b", OWNER, 0.0, ownership=acl.ENFORCED)
    acl.check_write(enforced, acl.canned("bucket-owner-full-control", "object", WRITER, OWNER),
                    "bucket-owner-full-control")
    acl.check_write(enforced, [Grant("id:" + OWNER, FC)], None)     # its equivalent
    for grants, canned in [(acl.canned("private", "object", WRITER, OWNER), "private"),
                           ([Grant("id:" + OWNER, FC), Grant("id:" + WRITER, "READ")], None),
                           ([], None)]:
        with pytest.raises(acl.AccessControlListNotSupported):
            acl.check_write(enforced, grants, canned)
    blocked = Bucket("b", OWNER, 0.0, ownership=acl.WRITER,
                     public_access_block=PublicAccessBlock(block_public_acls=True))
    acl.check_write(blocked, acl.canned("private", "object", WRITER, OWNER), "private")
    for name in ("public-read", "authenticated-read", "public-read-write"):
        with pytest.raises(acl.AccessDenied):
            acl.check_write(blocked, acl.canned(name, "bucket", OWNER, OWNER), name)
    acl.check_write(Bucket("b", OWNER, 0.0, ownership=acl.WRITER,
                           public_access_block=PublicAccessBlock(ignore_public_acls=True)),
                    acl.canned("public-read", "bucket", OWNER, OWNER), "public-read")
    with pytest.raises(acl.InvalidBucketAclWithObjectOwnership):
        acl.check_create(acl.ENFORCED, acl.canned("public-read", "bucket", OWNER, OWNER), OWNER)
    acl.check_create(acl.ENFORCED, acl.canned("private", "bucket", OWNER, OWNER), OWNER)
    acl.check_create(acl.WRITER, acl.canned("public-read", "bucket", OWNER, OWNER), OWNER)

