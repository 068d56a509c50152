"""Service and bucket operations: ListBuckets, CreateBucket, HeadBucket, DeleteBucket,
GetBucketLocation."""
import base64
import ipaddress
import re

from ...engine import errors as engine_errors
from ...engine.tags import validate_bucket_tags
from ...http.asgi import Response
from ...util.clock import from_ts
from ...util.numbers import ascii_int
from .. import errors
from ..xml import codec, shapes
from . import acl
from .common import owner_of, refuse_unsupported, xml
from .ownership import ownership_header

_BUCKET_CHARS = re.compile(r"^[a-z0-9.-]*$")
_REGION_RE = re.compile(r"^[a-z]{2}(-[a-z0-9]+)+-\d+$|^EU$")
_RESERVED_PREFIXES = ("xn--", "sthree-", "amzn-s3-demo-")
_RESERVED_SUFFIXES = ("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3")


def bucket_name_problem(name: str) -> str | None:
    """None for a valid bucket name, else the rule it breaks (AWS's naming rules), so that
    InvalidBucketName tells the user what to change."""
    if not 3 <= len(name) <= 63:
        return (f"Bucket names must be between 3 and 63 characters long (this one has "
                f"{len(name)}).")
    if not _BUCKET_CHARS.match(name):
        bad = next(c for c in name if not _BUCKET_CHARS.match(c))
        return ("Bucket names can consist only of lowercase letters, numbers, dots (.) and "
                f"hyphens (-); {bad!r} is not allowed.")
    if not (name[0].isalnum() and name[-1].isalnum()):
        return "Bucket names must begin and end with a letter or a number."
    if ".." in name or ".-" in name or "-." in name:
        return ("Bucket names must not contain two adjacent periods, or a period next to a "
                "hyphen.")
    for prefix in _RESERVED_PREFIXES:
        if name.startswith(prefix):
            return f"Bucket names must not start with the reserved prefix {prefix}."
    for suffix in _RESERVED_SUFFIXES:
        if name.endswith(suffix):
            return f"Bucket names must not end with the reserved suffix {suffix}."
    try:
        ipaddress.IPv4Address(name)
    except ValueError:
        return None
    return "Bucket names must not be formatted as an IP address (for example, 192.168.5.4)."


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
    problem = bucket_name_problem(ctx.bucket)
    if problem:
        raise errors.InvalidBucketName(f"The specified bucket is not valid. {problem}",
                                       BucketName=ctx.bucket)
    refuse_unsupported(ctx.req.headers)
    ownership = ownership_header(ctx.req.headers, ctx.svc.default_ownership)
    bucket_acl = acl.for_new_bucket(ctx, ownership)
    # Object lock at creation turns versioning on for good.
    object_lock = ctx.req.headers.get("x-amz-bucket-object-lock-enabled",
                                      "").strip().lower() == "true"
    region, tags = ctx.svc.region, {}
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
        if conf.Tags is not None:
            tags = validate_bucket_tags([(t.Key, t.Value) for t in conf.Tags.Tag])
    try:
        await ctx.svc.engine.create_bucket(ctx.bucket, ctx.owner, region, object_lock, tags,
                                           bucket_acl, ownership)
    except engine_errors.BucketAlreadyOwnedByYou:
        # S3's us-east-1 answers success to an owner re-creating its bucket there and resets
        # its ACL to the request's (nothing else changes); every other region answers 409.
        existing = await ctx.svc.engine.get_bucket(ctx.bucket)
        if (existing.region or ctx.svc.region) != "us-east-1" or region != "us-east-1":
            raise
        if bucket_acl is not None and existing.ownership == "BucketOwnerEnforced":
            raise errors.InvalidBucketAclWithObjectOwnership() from None
        if not acl.ignored(ctx) and existing.acl != bucket_acl:
            await ctx.svc.engine.set_bucket_acl(ctx.bucket, bucket_acl)
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
