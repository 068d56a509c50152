"""PutObject, DeleteObject, DeleteObjects."""
from ...engine.types import PutSpec
from ...http.asgi import Response
from ...meta.errors import DomainError
from .. import errors
from ..xml import codec, shapes
from .common import (ChecksumRequest, body_length, checksum_response_headers, content_md5,
                     make_verifier, object_spec_fields, quote_etag, read_xml, write_condition,
                     xml)
from .lifecycle import expiration_headers
from .tagging import tags_from_header

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
    spec = PutSpec(owner=ctx.owner, checksum_algorithm=ck.algorithm,
                   tags=tags_from_header(req.headers), **object_spec_fields(req.headers))
    v = await ctx.svc.engine.put_object(ctx.bucket, ctx.key, req.body, spec,
                                        make_verifier(req, md5, ck),
                                        write_condition(req.headers))
    headers = [("ETag", quote_etag(v.etag))] + expiration_headers(ctx, v)
    if ck.requested:
        headers += checksum_response_headers(v.checksum_algorithm, v.checksum_value,
                                             v.checksum_type)
    return Response(200, headers)


async def DeleteObject(ctx) -> Response:
    if "versionId" in ctx.req.query and ctx.req.query["versionId"] != "null":
        raise errors.NotImplemented("Object versions are not supported yet.")
    await ctx.svc.engine.delete_object(ctx.bucket, ctx.key)
    return Response(204)


async def DeleteObjects(ctx) -> Response:
    doc = await read_xml(ctx.req, shapes.Delete, limit=MAX_DELETE_XML, required_digest=True)
    if not doc.Object or len(doc.Object) > MAX_DELETE_KEYS:
        raise errors.MalformedXML()
    result = shapes.DeleteResult()
    for obj in doc.Object:
        try:
            if obj.VersionId not in (None, "null"):
                raise errors.NotImplemented("Object versions are not supported yet.")
            if (obj.ETag, obj.LastModifiedTime, obj.Size) != (None, None, None):
                # A conditional delete must never delete unconditionally.
                raise errors.NotImplemented("Conditional deletes are not supported yet.")
            if not obj.Key or len(obj.Key.encode()) > MAX_KEY:
                raise errors.InvalidArgument("Invalid key")
            await ctx.svc.engine.delete_object(ctx.bucket, obj.Key)
        except (errors.S3Error, DomainError) as e:
            err = e if isinstance(e, errors.S3Error) else (errors.from_domain(e)
                                                            or errors.InternalError())
            result.Error.append(shapes.DeleteError(obj.Key, err.code, err.message))
            continue
        if not doc.Quiet:
            result.Deleted.append(shapes.DeletedObject(obj.Key))
    return xml(result)
