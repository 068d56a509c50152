"""Service and bucket operations: ListBuckets, CreateBucket, HeadBucket, DeleteBucket,
GetBucketLocation, GetBucketVersioning."""
import base64
import ipaddress
import re

from ...http.asgi import Response
from ...util.clock import from_ts
from ...util.numbers import ascii_int
from .. import errors
from ..xml import codec, shapes
from .common import owner_of, refuse_unsupported, xml

_BUCKET_RE = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_REGION_RE = re.compile(r"^[a-z]{2}(-[a-z0-9]+)+-\d+$|^EU$")


def valid_bucket_name(name: str) -> bool:
    if not _BUCKET_RE.match(name) or ".." in name or ".-" in name or "-." in name:
        return False
    if name.startswith(("xn--", "sthree-", "amzn-s3-demo-")) or name.endswith(
            ("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3")):
        return False
    try:
        ipaddress.IPv4Address(name)
        return False
    except ValueError:
        return True


async def ListBuckets(ctx) -> Response:
    """The caller's buckets, optionally filtered (prefix, bucket-region) and paginated
    (max-buckets, continuation-token: the last name returned, base64)."""
    q = ctx.req.query
    prefix, region = q.get("prefix", ""), q.get("bucket-region")
    limit = _max_buckets(q.get("max-buckets"))
    after = ""
    if "continuation-token" in q:
        try:
            after = base64.urlsafe_b64decode(q["continuation-token"].encode()).decode()
        except (ValueError, UnicodeError):
            raise errors.InvalidArgument("The continuation token provided is incorrect",
                                         ArgumentName="continuation-token") from None
    buckets = [b for b in await ctx.svc.engine.list_buckets(ctx.owner)
               if b.name.startswith(prefix) and b.name > after
               and (region is None or (b.region or ctx.svc.region) == region)]
    page, more = buckets[:limit], len(buckets) > limit
    entries = [shapes.BucketEntry(b.name, from_ts(b.created), b.region or ctx.svc.region)
               for b in page]
    token = base64.urlsafe_b64encode(page[-1].name.encode()).decode() if more else None
    return xml(shapes.ListAllMyBucketsResult(shapes.Buckets(entries), owner_of(ctx, ctx.owner),
                                             token, prefix if "prefix" in q else None))


def _max_buckets(value: str | None) -> int:
    if value is None:
        return 10000
    number = ascii_int(value)
    if number is None or not 1 <= number <= 10000:
        raise errors.InvalidArgument("max-buckets must be an integer between 1 and 10000",
                                     ArgumentName="max-buckets", ArgumentValue=value)
    return number


async def CreateBucket(ctx) -> Response:
    if not valid_bucket_name(ctx.bucket):
        raise errors.InvalidBucketName(BucketName=ctx.bucket)
    refuse_unsupported({k: v for k, v in ctx.req.headers.items() if k != "x-amz-acl"})
    if ctx.req.headers.get("x-amz-acl", "private") != "private" or \
            ctx.req.headers.get("x-amz-bucket-object-lock-enabled", "false") == "true":
        raise errors.NotImplemented("ACLs other than private and object lock are not "
                                    "supported yet.")
    region = ctx.svc.region
    raw = await ctx.req.read_all(64 * 1024)
    if raw is None:
        raise errors.MaxMessageLengthExceeded()
    if raw.strip():
        try:
            conf = codec.decode(raw, shapes.CreateBucketConfiguration)
        except codec.XMLDecodeError:
            raise errors.MalformedXML() from None
        if conf.LocationConstraint:
            if not _REGION_RE.match(conf.LocationConstraint) or \
                    conf.LocationConstraint == "us-east-1":
                # AWS refuses an explicit us-east-1: it is the default and has no constraint.
                raise errors.InvalidLocationConstraint(
                    LocationConstraint=conf.LocationConstraint)
            region = conf.LocationConstraint
    await ctx.svc.engine.create_bucket(ctx.bucket, ctx.owner, region)
    return Response(200, [("Location", f"/{ctx.bucket}")])


async def HeadBucket(ctx) -> Response:
    region = ctx.bucket_record.region or ctx.svc.region
    return Response(200, [("x-amz-bucket-region", region), ("Content-Type", "application/xml")])


async def DeleteBucket(ctx) -> Response:
    await ctx.svc.engine.delete_bucket(ctx.bucket, ctx.owner)
    return Response(204)


async def GetBucketLocation(ctx) -> Response:
    region = ctx.bucket_record.region
    body = ('<?xml version="1.0" encoding="UTF-8"?>\n<LocationConstraint xmlns="'
            f'{codec.S3_NS}">{"" if region == "us-east-1" else region}</LocationConstraint>')
    return Response(200, [("Content-Type", "application/xml")], body.encode())


async def GetBucketVersioning(ctx) -> Response:
    # Versioning has never been enabled on any bucket (it is not built yet): S3 answers an
    # empty configuration for such buckets.
    return xml(shapes.VersioningConfiguration())
