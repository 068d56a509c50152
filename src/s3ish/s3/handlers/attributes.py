"""GetObjectAttributes: what HeadObject and ListParts tell, for the attributes asked for in
x-amz-object-attributes.

As AWS answers (general purpose buckets): the ETag unquoted; the checksum without the `-N`
part count a composite checksum carries on HEAD/GET; ObjectParts only for objects uploaded in
parts, with the parts themselves (and their checksums) only when the object has a composite
checksum, paged by x-amz-max-parts / x-amz-part-number-marker.
"""
from ...engine import sse
from ...http.asgi import Response
from ...util.clock import from_ts, http_date
from ...util.numbers import ascii_int
from .. import errors
from ..xml import shapes
from .common import xml
from .sse_headers import customer_key
from .versioning import version_arg, version_header

ATTRIBUTES = ("ETag", "Checksum", "ObjectParts", "StorageClass", "ObjectSize")
MAX_PARTS = 1000
_MAX_INT = 2147483647


def requested_attributes(headers: dict) -> set[str]:
    """The names in x-amz-object-attributes (comma-separated); at least one, all known."""
    names = {n.strip() for n in headers.get("x-amz-object-attributes", "").split(",")}
    names.discard("")
    if not names or not names <= set(ATTRIBUTES):
        raise errors.InvalidArgument("Invalid attribute name specified.")
    return names


def _int_header(headers: dict, name: str, default: int) -> int:
    value = headers.get(name)
    if value is None:
        return default
    number = ascii_int(value)
    if number is None or number > _MAX_INT:
        raise errors.InvalidArgument(f"Invalid value for {name}: must be an integer between "
                                     f"0 and {_MAX_INT}", ArgumentName=name,
                                     ArgumentValue=value)
    return number


def checksum_element(v) -> shapes.ObjectChecksum | None:
    if not v.checksum_algorithm or not v.checksum_value:
        return None
    value = v.checksum_value.split("-")[0]
    return shapes.ObjectChecksum(**{f"Checksum{v.checksum_algorithm}": value},
                                 ChecksumType=v.checksum_type or None)


def object_parts(v, max_parts: int, marker: int) -> shapes.GetObjectAttributesParts | None:
    """The ObjectParts element of version `v` (None when it was not uploaded in parts). Part
    numbers are completion positions: checksummed uploads are completed with parts numbered
    1..N, so these are the numbers the client gave."""
    if not v.is_multipart:
        return None
    if v.checksum_type != "COMPOSITE":
        return shapes.GetObjectAttributesParts(PartsCount=len(v.parts))
    page = list(enumerate(v.parts, 1))[marker:marker + max_parts]
    truncated = marker + max_parts < len(v.parts)
    field = f"Checksum{v.checksum_algorithm}"
    return shapes.GetObjectAttributesParts(
        PartsCount=len(v.parts), PartNumberMarker=marker,
        NextPartNumberMarker=page[-1][0] if page else marker, MaxParts=max_parts,
        IsTruncated=truncated,
        Part=[shapes.ObjectPart(number, p.size, **({field: p.checksum} if p.checksum else {}))
              for number, p in page])


async def GetObjectAttributes(ctx) -> Response:
    headers = ctx.req.headers
    wanted = requested_attributes(headers)
    max_parts = min(_int_header(headers, "x-amz-max-parts", MAX_PARTS), MAX_PARTS)
    marker = _int_header(headers, "x-amz-part-number-marker", 0)
    customer = customer_key(headers)
    v = await ctx.svc.engine.head_object(ctx.bucket, ctx.key, version_arg(ctx.req))
    sse.check_read(v, customer)      # an SSE-C object's attributes need its key too
    result = shapes.GetObjectAttributesResponse(
        ETag=v.etag if "ETag" in wanted else None,
        Checksum=checksum_element(v) if "Checksum" in wanted else None,
        ObjectParts=object_parts(v, max_parts, marker) if "ObjectParts" in wanted else None,
        StorageClass=v.storage_class if "StorageClass" in wanted else None,
        ObjectSize=v.size if "ObjectSize" in wanted else None)
    resp = xml(result)
    resp.headers.append(("Last-Modified", http_date(from_ts(v.mtime))))
    resp.headers += version_header(ctx.bucket_record, v.version_id)
    return resp
