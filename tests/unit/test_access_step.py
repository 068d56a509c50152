"""The authorize step's bookkeeping (s3/access.py) with a stand-in engine, no server: what it
reads and when, and how a user is named to policies."""
import asyncio

import pytest

from s3ish.meta.bucketconf import Grant
from s3ish.meta.records import Bucket, ObjectVersion
from s3ish.s3 import access, errors, routes
from s3ish.s3.auth.credentials import Identity
from s3ish.s3.frontend import Services
from s3ish.s3.handlers.context import Ctx

OWNER = Identity("owner-key", "s", "owner")
OTHER = Identity("other-key", "s", "tenant$other")


class Req:
    method = "GET"

    def __init__(self):
        self.query, self.headers = {}, {}
        self.client, self.scope = "127.0.0.1", {"scheme": "http"}


class Engine:
    def __init__(self, bucket, version=None):
        self.bucket, self.version, self.reads = bucket, version, 0

    async def get_bucket(self, name):
        return self.bucket

    async def head_object(self, bucket, key, version_id=None):
        self.reads += 1
        return self.version


def _ctx(engine, identity):
    return Ctx(req=Req(), svc=Services(engine, None, None, "us-east-1", ()), bucket="bk",
               key="k", identity=identity, request_id="r")


def _version(owner, acl=None):
    return ObjectVersion("bk", "k", 1, "e", 0.0, owner.owner_id, acl=acl)


def test_owner_get_reads_no_object_record_and_checks_the_one_the_handler_reads():
    eng = Engine(Bucket("bk", OWNER.owner_id, 0.0, ownership="ObjectWriter"))
    ctx = _ctx(eng, OWNER)
    asyncio.run(access.authorize(ctx, routes.match("GET", "object", {}, {})))
    assert eng.reads == 0
    access.check_object(ctx, _version(OWNER))
    with pytest.raises(errors.AccessDenied):
        access.check_object(ctx, _version(OTHER))      # ObjectWriter: the writer owns it
    access.check_object(ctx, _version(OTHER, [Grant("id:" + OWNER.owner_id, "READ")]))


def test_enforced_ownership_needs_no_record_at_all():
    eng = Engine(Bucket("bk", OWNER.owner_id, 0.0, ownership="BucketOwnerEnforced"))
    ctx = _ctx(eng, OWNER)
    asyncio.run(access.authorize(ctx, routes.match("GET", "object", {}, {})))
    access.check_object(ctx, _version(OTHER))
    assert eng.reads == 0


def test_other_users_read_looks_up_the_record():
    eng = Engine(Bucket("bk", OWNER.owner_id, 0.0, ownership="ObjectWriter"),
                 _version(OTHER))
    ctx = _ctx(eng, OTHER)
    asyncio.run(access.authorize(ctx, routes.match("GET", "object", {}, {})))
    assert eng.reads == 1
    eng.version = _version(OWNER)
    with pytest.raises(errors.AccessDenied):
        asyncio.run(access.authorize(ctx, routes.match("GET", "object", {}, {})))


def test_principal_names():
    cid = OTHER.owner_id
    assert access.principal_names(OTHER) == {
        f"arn:aws:iam::{cid}:root", f"arn:aws:iam::{cid}:user/tenant$other",
        "arn:aws:iam::tenant:user/other"}
    assert "arn:aws:iam:::user/owner" in access.principal_names(OWNER)


def test_compiled_policies_are_cached():
    doc = ('{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Principal": "*", '
           '"Action": "s3:GetObject", "Resource": "arn:aws:s3:::bk/*"}}')
    first = access.bucket_policy("bk", doc)
    assert access.bucket_policy("bk", doc) is first and first.public
    assert access.bucket_policy("bk", "") is None


def test_condition_keys_only_those_wanted():
    from s3ish.s3.condition_keys import request_context
    ctx = _ctx(Engine(None), OTHER)
    ctx.req.headers = {"authorization": "AWS4-HMAC-SHA256 Credential=...",
                       "x-amz-tagging": "Security=public&team=a", "referer": "http://x/",
                       "x-amz-acl": "private"}
    ctx.req.query = {"prefix": "home/", "max-keys": "5"}
    wanted = {"aws:sourceip", "aws:username", "aws:userid", "aws:principaltype",
              "aws:referer", "aws:useragent", "s3:prefix", "s3:delimiter", "s3:max-keys",
              "s3:x-amz-acl", "s3:authtype", "s3:signatureversion", "s3:versionid",
              "s3:requestobjecttag/security", "s3:requestobjecttagkeys",
              "s3:object-lock-mode", "aws:securetransport"}
    assert request_context(ctx, "v1", wanted) == {
        "aws:sourceip": "127.0.0.1", "aws:username": "tenant$other",
        "aws:userid": OTHER.owner_id, "aws:principaltype": "User",
        "aws:referer": "http://x/", "s3:prefix": "home/", "s3:max-keys": "5",
        "s3:x-amz-acl": "private", "s3:authtype": "REST-HEADER",
        "s3:signatureversion": "AWS4-HMAC-SHA256", "s3:versionid": "v1",
        "s3:requestobjecttag/security": "public",
        "s3:requestobjecttagkeys": ["Security", "team"], "aws:securetransport": "false"}
    assert request_context(ctx, None, {"s3:prefix"}) == {"s3:prefix": "home/"}
    assert request_context(ctx, None, {"aws:principalarn", "aws:principalaccount"}) == {
        "aws:principalarn": f"arn:aws:iam::{OTHER.owner_id}:user/tenant$other",
        "aws:principalaccount": OTHER.owner_id}
    ctx.identity = None
    assert request_context(ctx, None, {"aws:principaltype", "aws:username"}) == {
        "aws:principaltype": "Anonymous"}
