"""A read-only server (a follower of the cold tier) refuses writes in one place per API:
the S3 route table marks each operation that changes what is stored (its IAM action is not
a Get... or List...), the IAM API's actions say whether they mutate; the store refuses any
mutation that gets past both."""
import asyncio

import pytest

from s3ish.iam.arn import ACTIONS, reads_only
from s3ish.iamapi import actions, groups
from s3ish.meta import errors, records
from s3ish.meta.sqlite import SqliteMetaStore
from s3ish.s3 import routes
from s3ish.s3.errors import from_domain

READS = {"ListBuckets", "GetBucketLocation", "GetBucketVersioning", "ListObjectVersions",
         "GetObjectLockConfiguration", "GetBucketLifecycleConfiguration",
         "ListMultipartUploads", "GetBucketTagging", "GetBucketAcl",
         "GetBucketOwnershipControls", "GetBucketCors", "GetBucketPolicy",
         "GetBucketPolicyStatus", "GetPublicAccessBlock", "GetBucketEncryption", "ListObjectsV2", "ListObjects",
         "HeadBucket", "GetObjectAcl", "GetObjectTagging", "GetObjectRetention",
         "GetObjectLegalHold", "ListParts", "GetObjectAttributes", "GetObject", "HeadObject",
         "OptionsObject"}


def test_every_route_is_a_read_or_a_write():
    got = {r.operation: r.mutates for r in routes.ROUTES}
    assert {op for op, mutates in got.items() if not mutates} == READS
    for op in ("PutObject", "CopyObject", "DeleteObject", "DeleteObjects", "PostObject",
               "CreateBucket", "DeleteBucket", "CreateMultipartUpload", "UploadPart",
               "UploadPartCopy", "CompleteMultipartUpload", "AbortMultipartUpload",
               "PutObjectTagging", "DeleteObjectTagging", "PutObjectAcl", "PutBucketAcl",
               "PutBucketPolicy", "DeleteBucketPolicy", "PutBucketVersioning",
               "PutBucketLifecycleConfiguration", "PutBucketCors", "PutObjectRetention",
               "PutObjectLegalHold", "PutPublicAccessBlock", "PutBucketOwnershipControls"):
        assert got[op], op


def test_read_actions_are_named_get_or_list():
    assert reads_only("s3:GetObjectVersion") and reads_only("s3:ListBucket")
    assert reads_only("iam:ListUsers") and not reads_only("iam:CreateAccessKey")
    assert not reads_only("s3:PutObject") and not reads_only("s3:AbortMultipartUpload")
    # A version's action reads when the operation's does.
    for op in ACTIONS.values():
        if op.version_action:
            assert reads_only(op.action) == reads_only(op.version_action), op


def test_iam_actions_that_mutate_are_the_ones_not_named_get_or_list():
    for name, action in {**actions.ACTIONS, **groups.ACTIONS}.items():
        assert action.mutates == (not reads_only(f"iam:{name}")), name


def test_a_read_only_store_refuses_every_mutation():
    message = "this server is a read-only follower of the cold tier"
    store = SqliteMetaStore(":memory:", read_only=message)

    async def main():
        try:
            with pytest.raises(errors.ReadOnlyFollower, match="read-only follower"):
                await store.apply(records.DeleteBucket("b", "owner"))
            assert await store.get_bucket("b") is None      # reads go on
        finally:
            await store.close()
    asyncio.run(main())
    err = from_domain(errors.ReadOnlyFollower(message))
    assert (err.code, err.status, err.message) == ("AccessDenied", 403, message)
