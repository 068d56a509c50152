"""The authorize step of the gRPC front end: the S3 front end's own (s3/access.py over
iam/authorize.py), with the same IAM action per operation (iam/arn.py's ACTIONS: ReadObject
is GetObject's s3:GetObject, WriteObject PutObject's s3:PutObject, ...), so a bucket policy,
an identity policy or an ACL decides alike whichever interface a request comes by.

s3/access.py reads a request's condition keys from an HTTP-shaped request; `CallRequest`
gives it a call's: the peer address, TLS, the user agent, and the listing parameters
(s3:prefix, s3:delimiter, s3:max-keys). No header of S3's exists on a call, so the keys read
from them (s3:x-amz-acl, ...) are absent, as for an S3 request without those headers.
"""
from ..iam.arn import ACTIONS, SOURCE_ACTIONS
from ..s3 import access, errors
from ..s3.handlers.context import Ctx

# Operations that change what is stored (refused by a read-only follower).
_MUTATING = frozenset({"CreateBucket", "DeleteBucket", "PutObject", "DeleteObject",
                       "CopyObject", "AbortMultipartUpload"})


class CallRequest:
    """What the condition keys read of a request, for a gRPC call."""
    method = "GRPC"

    def __init__(self, peer: str, tls: bool, user_agent: str, query: dict | None = None):
        self.client = peer
        self.scope = {"scheme": "https" if tls else "http"}
        self.headers = {"user-agent": user_agent} if user_agent else {}
        self.query = query or {}


def peer_address(peer: str) -> str:
    """`ipv4:127.0.0.1:5000` / `ipv6:[::1]:5000` -> the address alone."""
    kind, _, rest = peer.partition(":")
    if kind == "ipv6":
        return rest.rpartition(":")[0].strip("[]")
    if kind == "ipv4":
        return rest.rpartition(":")[0]
    return rest


def context(svc, identity, req: CallRequest, request_id: str) -> Ctx:
    return Ctx(req=req, svc=svc, bucket="", key="", identity=identity, request_id=request_id)


async def authorize(ctx: Ctx, operation: str, bucket: str, key: str = "",
                    version: str | None = None):
    """Raise unless the caller may do `operation` (an S3 operation name) on bucket/key.
    Returns the bucket's record (None for service operations and CreateBucket)."""
    if operation in _MUTATING and ctx.svc.read_only:
        raise errors.AccessDenied(ctx.svc.read_only)
    op = ACTIONS[operation]
    ctx.bucket, ctx.key = bucket, key
    record = None
    if op.kind != "service" and operation != "CreateBucket":
        record = ctx.bucket_record = await ctx.svc.engine.get_bucket(bucket)
    await access.check(ctx, op.for_request(version), op.kind, bucket, key, record, version)
    return record


async def authorize_source(ctx: Ctx, bucket: str, key: str, version: str | None) -> None:
    """The source of a copy is read: s3:GetObject (s3:GetObjectVersion with a version)."""
    record = await ctx.svc.engine.get_bucket(bucket)
    await access.check(ctx, SOURCE_ACTIONS["CopyObject"].for_request(version), "object",
                       bucket, key, record, version)
