"""PutObject, DeleteObject, DeleteObjects."""
from ...engine.types import PutSpec
from ...http.asgi import Response
from ...iam.arn import ACTIONS
from ...meta.errors import DomainError
from ...meta.records import Condition
from ...util.clock import parse_http_date, parse_iso
from ...util.numbers import ascii_int
from .. import errors
from ..access import authorize_key
from ..xml import codec, shapes
from . import acl
from .common import (ChecksumRequest, body_length, checksum_response_headers, content_md5,
                     make_verifier, object_spec_fields, quote_etag, read_xml, write_condition,
                     xml)
from .lifecycle import expiration_headers
from .lock_headers import bypass_governance
from .object_lock import check_lock_write
from .sse_headers import response_headers as sse_response_headers, write_request
from .tagging import tags_from_header
from .versioning import deletion_headers, new_version_header, version_arg

MAX_PUT = 5 * 1024 ** 3
MAX_DELETE_KEYS = 1000
MAX_KEY = 1024
MAX_VERSION_ID = 1024


def _max_delete_xml() -> int:
    """The largest legal DeleteObjects document: 1000 <Object> elements, each with a key of
    1024 bytes every byte of which is written in its longest escaped form, a version id of up to
    1024 bytes, and the conditional-delete elements (ETag, LastModifiedTime, Size); plus Quiet,
    the XML declaration and the root element. About 8 MB."""
    obj = (codec.element_size("Object") + codec.element_size("Key", MAX_KEY * codec.MAX_ESCAPE)
           + codec.element_size("VersionId", MAX_VERSION_ID)
           + codec.element_size("ETag", 32 + 2 * len("&quot;") + len("-10000"))
           + codec.element_size("LastModifiedTime", len("2006-03-01T00:00:00.000+00:00"))
           + codec.element_size("Size", 20))
    return MAX_DELETE_KEYS * obj + codec.element_size("Quiet", 5) + 1024


MAX_DELETE_XML = _max_delete_xml()
# S3 computes a CRC64NVME for every object written without a checksum of its own.
DEFAULT_CHECKSUM = "CRC64NVME"


async def PutObject(ctx) -> Response:
    req = ctx.req
    length = body_length(req)
    if length > MAX_PUT:
        raise errors.EntityTooLarge(ProposedSize=str(length), MaxSizeAllowed=str(MAX_PUT))
    md5 = content_md5(req.headers)
    ck = ChecksumRequest(req.headers, default=DEFAULT_CHECKSUM)
    encryption = write_request(req.headers)
    spec = PutSpec(owner=ctx.owner, checksum_algorithm=ck.algorithm,
                   tags=tags_from_header(req.headers), sse=encryption,
                   **object_spec_fields(req.headers))
    check_lock_write(ctx.bucket_record, spec, md5, ck, "Put Object")
    spec.acl = acl.for_write(ctx, ctx.bucket_record)
    v = await ctx.svc.engine.put_object(ctx.bucket, ctx.key, req.body, spec,
                                        make_verifier(req, md5, ck),
                                        write_condition(req.headers))
    headers = ([("ETag", quote_etag(v.etag))] + new_version_header(v.version_id)
               + expiration_headers(ctx, v)
               + sse_response_headers(v, encryption and encryption.customer, context=True))
    if ck.requested:
        headers += checksum_response_headers(v.checksum_algorithm, v.checksum_value,
                                             v.checksum_type)
    return Response(200, headers)


def _delete_condition(etag: str | None, mtime, size) -> Condition | None:
    """A conditional delete (If-Match, last-modified time, size), checked in the transaction
    against the current version (or the version named)."""
    if (etag, mtime, size) == (None, None, None):
        return None
    return Condition(if_match=etag.strip().strip('"') if etag is not None else None,
                     if_match_mtime=mtime, if_match_size=size)


def _header_condition(h: dict) -> Condition | None:
    mtime = size = None
    if "x-amz-if-match-last-modified-time" in h:
        value = h["x-amz-if-match-last-modified-time"]
        when = parse_http_date(value) or parse_iso(value)
        if when is None:
            raise errors.InvalidArgument("Invalid x-amz-if-match-last-modified-time",
                                         ArgumentName="x-amz-if-match-last-modified-time",
                                         ArgumentValue=value)
        mtime = when.timestamp()
    if "x-amz-if-match-size" in h:
        size = ascii_int(h["x-amz-if-match-size"])
        if size is None:
            raise errors.InvalidArgument("Invalid x-amz-if-match-size",
                                         ArgumentName="x-amz-if-match-size",
                                         ArgumentValue=h["x-amz-if-match-size"])
    return _delete_condition(h.get("if-match"), mtime, size)


async def DeleteObject(ctx) -> Response:
    h = ctx.req.headers
    out = await ctx.svc.engine.delete_object(ctx.bucket, ctx.key, version_arg(ctx.req),
                                             ctx.owner, bypass_governance(h), _header_condition(h))
    return Response(204, deletion_headers(ctx.bucket_record, out))


async def DeleteObjects(ctx) -> Response:
    doc = await read_xml(ctx.req, shapes.Delete, limit=MAX_DELETE_XML, required_digest=True)
    if not doc.Object or len(doc.Object) > MAX_DELETE_KEYS:
        raise errors.MalformedXML()
    result = shapes.DeleteResult()
    bypass = bypass_governance(ctx.req.headers)
    for obj in doc.Object:
        try:
            if not obj.Key or len(obj.Key.encode()) > MAX_KEY:
                raise errors.InvalidArgument("Invalid key")
            if obj.VersionId == "":
                raise errors.InvalidArgument("Version id cannot be the empty string")
            await authorize_key(ctx, ACTIONS["DeleteObjects"], obj.Key, obj.VersionId)
            out = await ctx.svc.engine.delete_object(
                ctx.bucket, obj.Key, obj.VersionId, ctx.owner, bypass, _entry_condition(obj))
        except (errors.S3Error, DomainError) as e:
            err = e if isinstance(e, errors.S3Error) else (errors.from_domain(e)
                                                            or errors.InternalError())
            result.Error.append(shapes.DeleteError(obj.Key, err.code, err.message,
                                                   obj.VersionId))
            continue
        if not doc.Quiet:
            result.Deleted.append(_deleted(ctx, obj, out))
    return xml(result)


def _deleted(ctx, obj, out) -> shapes.DeletedObject:
    if obj.VersionId is not None:
        # A version removed for good (a delete marker too: then it says so).
        return shapes.DeletedObject(obj.Key, obj.VersionId, True if out.delete_marker else None,
                                    out.version_id if out.delete_marker else None)
    if out.delete_marker:
        return shapes.DeletedObject(obj.Key, None, True, out.version_id)
    return shapes.DeletedObject(obj.Key)


def _entry_condition(obj) -> Condition | None:
    mtime = size = None
    if obj.LastModifiedTime is not None:
        # The model says RFC 1123 here (botocore sends that); ISO 8601 is accepted too.
        when = parse_http_date(obj.LastModifiedTime) or parse_iso(obj.LastModifiedTime)
        if when is None:
            raise errors.MalformedXML()
        mtime = when.timestamp()
    if obj.Size is not None:
        size = ascii_int(obj.Size)
        if size is None:
            raise errors.MalformedXML()
    return _delete_condition(obj.ETag, mtime, size)
