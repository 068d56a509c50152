"""Bucket policy (Put/Get/DeleteBucketPolicy, GetBucketPolicyStatus) and the bucket's public
access block (Put/Get/DeletePublicAccessBlock).

A policy is validated as AWS does (iam.policy.parse) and stored as the document sent; the
authorize step compiles and caches it. BlockPublicPolicy refuses a public policy; the other
three settings of the block act in the authorize step (IgnorePublicAcls, RestrictPublicBuckets)
and on ACL writes (BlockPublicAcls).
"""
from ...http.asgi import Response
from ...iam import acl as acls
from ...iam.errors import MalformedPolicy as PolicyError
from ...iam.policy import MAX_BUCKET_POLICY, is_public, parse
from ...meta.bucketconf import PublicAccessBlock
from .. import errors
from ..access import bucket_policy
from ..xml import shapes
from .common import read_xml, verify_small_body, xml

MAX_PAB_XML = 4 * 1024
_CONFIRM = "x-amz-confirm-remove-self-bucket-access"


async def PutBucketPolicy(ctx) -> Response:
    if ctx.req.headers.get(_CONFIRM, "").strip().lower() == "true":
        # s3ish keeps the root user able to change every policy: a lock-out it would not
        # honour is refused rather than ignored.
        raise errors.NotImplemented(f"The {_CONFIRM} header is not supported.",
                                    Header=_CONFIRM)
    body = await ctx.req.read_all(MAX_BUCKET_POLICY)
    if body is None:
        raise errors.MalformedPolicy("Policy exceeds the maximum allowed document size.")
    verify_small_body(ctx.req, body, required=True)
    try:
        policy = parse(body, kind="bucket", bucket=ctx.bucket)
    except PolicyError as e:
        raise errors.MalformedPolicy(e.message) from None
    pab = ctx.bucket_record.public_access_block
    if pab is not None and pab.block_public_policy and is_public(policy):
        raise errors.AccessDenied()
    await ctx.svc.engine.set_bucket_policy(ctx.bucket, policy.text)
    return Response(204)


async def GetBucketPolicy(ctx) -> Response:
    text = ctx.bucket_record.policy
    if not text:
        raise errors.NoSuchBucketPolicy(BucketName=ctx.bucket)
    return Response(200, [("Content-Type", "application/json")], text.encode())


async def DeleteBucketPolicy(ctx) -> Response:
    await ctx.svc.engine.set_bucket_policy(ctx.bucket, "")
    return Response(204)


async def GetBucketPolicyStatus(ctx) -> Response:
    """Public if the policy is (AWS's meaning of public), or, as Ceph also answers, if the
    bucket's ACL grants to everyone, ACLs are enforced (and not disabled by
    BucketOwnerEnforced) and the public access block does not ignore public grants."""
    b = ctx.bucket_record
    compiled = bucket_policy(ctx.bucket, b.policy)
    public = compiled is not None and compiled.public
    ignore = b.public_access_block is not None and b.public_access_block.ignore_public_acls
    if (not public and not ignore and ctx.svc.acl_mode == "enforce"
            and b.ownership != "BucketOwnerEnforced"):
        public = acls.is_public(b.acl)
    return xml(shapes.PolicyStatus(public))


async def PutPublicAccessBlock(ctx) -> Response:
    doc = await read_xml(ctx.req, shapes.PublicAccessBlockConfiguration, limit=MAX_PAB_XML,
                         required_digest=True)
    config = PublicAccessBlock(bool(doc.BlockPublicAcls), bool(doc.IgnorePublicAcls),
                               bool(doc.BlockPublicPolicy), bool(doc.RestrictPublicBuckets))
    await ctx.svc.engine.set_public_access_block(ctx.bucket, config)
    return Response(200)


async def GetPublicAccessBlock(ctx) -> Response:
    pab = ctx.bucket_record.public_access_block
    if pab is None:
        raise errors.NoSuchPublicAccessBlockConfiguration(BucketName=ctx.bucket)
    return xml(shapes.PublicAccessBlockConfiguration(
        pab.block_public_acls, pab.ignore_public_acls, pab.block_public_policy,
        pab.restrict_public_buckets))


async def DeletePublicAccessBlock(ctx) -> Response:
    await ctx.svc.engine.set_public_access_block(ctx.bucket, None)
    return Response(204)
