"""CopyObject and UploadPartCopy: server-side copies streamed in constant memory.

The copy is decrypted with the source's keys (an SSE-C source needs the
x-amz-copy-source-server-side-encryption-customer-* headers) and encrypted as the destination
says: CopyObject's own encryption headers, else the destination bucket's default (never the
source's); an UploadPartCopy part, as its upload."""
import re

from ...engine.types import PutSpec
from ...util.clock import from_ts
from .. import errors
from ..access import copy_source
from ..xml import shapes
from . import acl
from .common import object_spec_fields, quote_etag, write_condition, xml
from .lifecycle import expiration_headers
from .multipart import MAX_PART, checksum_fields, part_number_arg, upload_of
from .object_lock import check_lock_write
from .object_read import check_conditions, range_number
from .sse_headers import (COPY_CUSTOMER, customer_key, response_headers as sse_response_headers,
                          write_request)
from .tagging import tags_from_header
from .versioning import new_version_header

MAX_COPY = 5 * 1024 ** 3
DEFAULT_CHECKSUM = "CRC64NVME"
_COPY_RANGE = re.compile(r"^bytes=([0-9]+)-([0-9]+)$")


def parse_copy_range(value: str) -> tuple[int, int]:
    """`bytes=first-last` of x-amz-copy-source-range, both inclusive."""
    m = _COPY_RANGE.match(value.strip())
    if not m or range_number(m.group(1)) > range_number(m.group(2)):
        raise errors.InvalidArgument(
            "The x-amz-copy-source-range value must be of the form bytes=first-last where "
            "first and last are the zero-based offsets of the first and last bytes to copy",
            ArgumentName="x-amz-copy-source-range", ArgumentValue=value)
    return range_number(m.group(1)), range_number(m.group(2))


def _source(ctx):
    """The copy source (bucket, key, version id or None); the authorize step has already
    checked the caller may read it."""
    return copy_source(ctx.req.headers["x-amz-copy-source"])


def _source_headers(src, version: str | None):
    """x-amz-copy-source-version-id: the version copied, when the source names one or it
    has an id of its own."""
    if version is not None or src.version_id != "null":
        return [("x-amz-copy-source-version-id", src.version_id)]
    return []


def _check_source_conditions(headers: dict, v) -> None:
    """x-amz-copy-source-if-*: the GET conditions, but every failure is a 412."""
    prefix = "x-amz-copy-source-"
    cond = {name[len(prefix):]: value for name, value in headers.items()
            if name.startswith(prefix + "if-")}
    try:
        check_conditions(cond, v.etag, v.mtime)
    except errors.NotModified:
        raise errors.PreconditionFailed(Condition="x-amz-copy-source-If-None-Match") from None


async def CopyObject(ctx):
    h = ctx.req.headers
    src_bucket, src_key, src_version = _source(ctx)
    directive = h.get("x-amz-metadata-directive", "COPY").upper()
    tag_directive = h.get("x-amz-tagging-directive", "COPY").upper()
    if directive not in ("COPY", "REPLACE") or tag_directive not in ("COPY", "REPLACE"):
        raise errors.InvalidArgument("Unknown metadata directive.")
    fields = object_spec_fields(h)    # validated even under COPY: bad input is refused
    encryption = write_request(h)
    src_customer = customer_key(h, COPY_CUSTOMER)
    same = (src_bucket, src_key) == (ctx.bucket, ctx.key) and src_version is None
    # A copy onto itself must change something: metadata, storage class or encryption.
    if same and directive == "COPY" and "x-amz-storage-class" not in h and encryption is None:
        raise errors.InvalidRequest(
            "This copy request is illegal because it is trying to copy an object to itself "
            "without changing the object's metadata, storage class, website redirect "
            "location or encryption attributes.")
    check_lock_write(ctx.bucket_record, PutSpec(ctx.owner, **fields))
    algorithm = h.get("x-amz-checksum-algorithm", "").upper()
    new_tags = tags_from_header(h)
    # The copy's ACL is the request's (private by default), never the source's.
    new_acl = acl.for_write(ctx, ctx.bucket_record)

    def plan(src):
        _check_source_conditions(h, src)
        if src.size > MAX_COPY:
            raise errors.InvalidRequest("The specified copy source is larger than the maximum "
                                        "allowable size for a copy source: 5368709120")
        return 0, src.size - 1

    def make_spec(src):
        base = fields if directive == "REPLACE" else {
            "content_type": src.content_type, "headers": src.headers,
            "user_meta": src.user_meta, "storage_class": fields["storage_class"],
            # The source's retention and legal hold are not copied; the request's apply.
            **{k: fields[k] for k in ("lock_mode", "lock_until", "legal_hold")}}
        keep = src.checksum_algorithm if src.checksum_type == "FULL_OBJECT" else ""
        return PutSpec(owner=ctx.owner, checksum_algorithm=algorithm or keep or DEFAULT_CHECKSUM,
                       tags=new_tags if tag_directive == "REPLACE" else src.tags, acl=new_acl,
                       sse=encryption, **base)

    src, v = await ctx.svc.engine.copy_object(src_bucket, src_key, plan, ctx.bucket, ctx.key,
                                              make_spec, write_condition(h), src_version,
                                              src_customer)
    resp = xml(shapes.CopyObjectResult(quote_etag(v.etag), from_ts(v.mtime),
                                       v.checksum_type or None,
                                       **checksum_fields(v.checksum_algorithm,
                                                          v.checksum_value)))
    resp.headers += (_source_headers(src, src_version)
                     + new_version_header(v.version_id) + expiration_headers(ctx, v)
                     + sse_response_headers(v, encryption and encryption.customer,
                                            context=True))
    return resp


async def UploadPartCopy(ctx):
    h = ctx.req.headers
    number = part_number_arg(ctx.req.query)
    src_bucket, src_key, src_version = _source(ctx)
    upload = await upload_of(ctx)
    rng_header = h.get("x-amz-copy-source-range")
    rng = parse_copy_range(rng_header) if rng_header is not None else None

    def plan(src):
        _check_source_conditions(h, src)
        start, end = rng if rng is not None else (0, src.size - 1)
        if rng is not None and end >= src.size:
            raise errors.InvalidRange(RangeRequested=rng_header,
                                      ActualObjectSize=str(src.size))
        if end - start + 1 > MAX_PART:
            raise errors.EntityTooLarge(MaxSizeAllowed=str(MAX_PART))
        return start, end

    customer = customer_key(h)
    src, part = await ctx.svc.multipart.upload_part_copy(
        upload, number, src_bucket, src_key, plan, src_version, customer,
        customer_key(h, COPY_CUSTOMER))
    resp = xml(shapes.CopyPartResult(quote_etag(part.etag), from_ts(part.mtime),
                                     **checksum_fields(upload.checksum_algorithm,
                                                        part.checksum)))
    resp.headers += _source_headers(src, src_version) + sse_response_headers(upload, customer)
    return resp
