"""Bucket tagging: PutBucketTagging, GetBucketTagging, DeleteBucketTagging."""
from ...engine.tags import MAX_BUCKET_TAGS, MAX_KEY, MAX_VALUE, validate_bucket_tags
from ...http.asgi import Response
from .. import errors
from ..xml import shapes
from .common import read_xml, xml

# The largest legal document: 50 tags of the longest key and value, every character written
# as the longest XML character reference (`&#x10FFFF;`, 10 bytes), plus the elements around
# them with room for indentation, the declaration and the root.
MAX_BUCKET_TAGGING_XML = MAX_BUCKET_TAGS * ((MAX_KEY + MAX_VALUE) * 10 + 128) + 1024


async def PutBucketTagging(ctx) -> Response:
    # The model marks the operation checksum-required: Content-MD5 or an x-amz-checksum-*.
    doc = await read_xml(ctx.req, shapes.Tagging, limit=MAX_BUCKET_TAGGING_XML,
                         required_digest=True)
    if doc.TagSet is None:
        raise errors.MalformedXML()
    tags = validate_bucket_tags([(t.Key, t.Value) for t in doc.TagSet.Tag])
    await ctx.svc.engine.set_bucket_tags(ctx.bucket, tags)
    return Response(204)


async def GetBucketTagging(ctx) -> Response:
    tags = (await ctx.svc.engine.get_bucket(ctx.bucket)).tags
    if not tags:
        raise errors.NoSuchTagSet()
    return xml(shapes.Tagging(shapes.TagSet([shapes.Tag(k, v) for k, v in tags.items()])))


async def DeleteBucketTagging(ctx) -> Response:
    await ctx.svc.engine.set_bucket_tags(ctx.bucket, {})
    return Response(204)
