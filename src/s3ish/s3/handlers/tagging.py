"""Object tagging: the x-amz-tagging header and Get/Put/DeleteObjectTagging."""
from urllib.parse import parse_qsl

from ...http.asgi import Response
from .. import errors
from ..xml import shapes
from .common import read_xml, xml
from .versioning import version_arg, version_header

MAX_TAGS = 10
# The largest legal Tagging document: 10 tags of a 128-character key and a 256-character value,
# every character written as the longest XML character reference (`&#x10FFFF;`, 10 bytes),
# plus the elements around them and room for indentation, with the declaration and root.
MAX_TAGGING_XML = MAX_TAGS * ((128 + 256) * 10 + 128) + 1024


def validate_tags(pairs: list[tuple[str, str]]) -> dict:
    tags = {}
    if len(pairs) > MAX_TAGS:
        raise errors.InvalidTag("Object tags cannot be greater than 10")
    for k, v in pairs:
        if not k or len(k) > 128:
            raise errors.InvalidTag("The TagKey you have provided is invalid")
        if len(v) > 256:
            raise errors.InvalidTag("The TagValue you have provided is invalid")
        if k.startswith("aws:"):
            raise errors.InvalidTag("Your TagKey cannot be prefixed with aws:")
        if k in tags:
            raise errors.InvalidTag("Cannot provide multiple Tags with the same key")
        tags[k] = v
    return tags


def tags_from_header(headers: dict) -> dict:
    """`x-amz-tagging: k1=v1&k2=v2` (URL-encoded query form)."""
    value = headers.get("x-amz-tagging")
    if not value:
        return {}
    return validate_tags(parse_qsl(value, keep_blank_values=True))


def tag_count_header(tags: dict) -> list[tuple[str, str]]:
    return [("x-amz-tagging-count", str(len(tags)))] if tags else []


async def GetObjectTagging(ctx) -> Response:
    v = await ctx.svc.engine.head_object(ctx.bucket, ctx.key, version_arg(ctx.req))
    resp = xml(shapes.Tagging(shapes.TagSet([shapes.Tag(k, val) for k, val in v.tags.items()])))
    resp.headers += version_header(ctx.bucket_record, v.version_id)
    return resp


async def PutObjectTagging(ctx) -> Response:
    doc = await read_xml(ctx.req, shapes.Tagging, limit=MAX_TAGGING_XML)
    if doc.TagSet is None:
        # TagSet is required: <Tagging/> is malformed, <Tagging><TagSet/></Tagging> clears.
        raise errors.MalformedXML()
    tags = validate_tags([(t.Key, t.Value) for t in doc.TagSet.Tag])
    out = await ctx.svc.engine.set_object_tags(ctx.bucket, ctx.key, tags, version_arg(ctx.req))
    return Response(200, version_header(ctx.bucket_record, out.version_id))


async def DeleteObjectTagging(ctx) -> Response:
    out = await ctx.svc.engine.set_object_tags(ctx.bucket, ctx.key, {}, version_arg(ctx.req))
    return Response(204, version_header(ctx.bucket_record, out.version_id))
