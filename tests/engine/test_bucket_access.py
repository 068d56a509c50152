"""Bucket policy and public access block records: kept in the bucket, journaled."""
import asyncio

from s3ish.engine.objects import Engine
from s3ish.meta import journal
from s3ish.meta import records as r
from s3ish.meta.bucketconf import Grant, PublicAccessBlock
from s3ish.meta.sqlite import SqliteMetaStore
from s3ish.storage.datastore import MemoryDataStore

POLICY = '{"Statement": []}'      # the engine stores the text; the front end validates it


def test_policy_and_public_access_block_are_kept(tmp_path):
    pab = PublicAccessBlock(block_public_acls=True, restrict_public_buckets=True)

    async def go():
        path = str(tmp_path / "meta.sqlite3")
        e = Engine(SqliteMetaStore(path), MemoryDataStore())
        await e.create_bucket("b", "owner", "us-east-1")
        b = await e.get_bucket("b")
        assert (b.policy, b.public_access_block) == ("", None)
        await e.set_bucket_policy("b", POLICY)
        await e.set_public_access_block("b", pab)
        await e.meta.close()
        e = Engine(SqliteMetaStore(path), MemoryDataStore())
        b = await e.get_bucket("b")
        assert (b.policy, b.public_access_block) == (POLICY, pab)
        await e.set_bucket_policy("b", "")
        await e.set_public_access_block("b", None)
        b = await e.get_bucket("b")
        assert (b.policy, b.public_access_block) == ("", None)
        await e.meta.close()
    asyncio.run(go())


def test_every_bucket_field_is_stored(tmp_path):
    """Fields set on the record (ACL, ownership too) come back from the store."""
    async def go():
        store = SqliteMetaStore(str(tmp_path / "meta.sqlite3"))
        b = r.Bucket("b", "owner", 1.0, "us-east-1", policy=POLICY,
                     acl=[Grant("group:AllUsers", "READ")], ownership="ObjectWriter",
                     public_access_block=PublicAccessBlock(ignore_public_acls=True))
        await store.apply(r.CreateBucket(b))
        assert await store.get_bucket("b") == b
        await store.close()
    asyncio.run(go())


def test_mutations_journal():
    m = [r.SetBucketPolicy("b", POLICY),
         r.SetPublicAccessBlock("b", PublicAccessBlock(block_public_policy=True)),
         r.SetPublicAccessBlock("b", None)]
    assert journal.decode_record(journal.encode_record(7, m)) == (7, m)
