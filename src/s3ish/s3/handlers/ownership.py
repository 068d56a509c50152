"""Object ownership controls: PutBucketOwnershipControls, GetBucketOwnershipControls,
DeleteBucketOwnershipControls (BucketOwnerEnforced, BucketOwnerPreferred, ObjectWriter; a
bucket without them, made before they existed or after a delete, behaves as ObjectWriter)."""
from ...engine import acl
from ...http.asgi import Response
from .. import errors
from ..xml import acl_shapes as shapes
from .common import read_xml, xml

MAX_OWNERSHIP_XML = 4 * 1024


def ownership_header(headers: dict, default: str) -> str:
    """CreateBucket's x-amz-object-ownership, else the server's default."""
    value = headers.get("x-amz-object-ownership")
    if value is None:
        return default
    if value not in acl.OWNERSHIPS:
        raise errors.InvalidArgument("Invalid x-amz-object-ownership header: " + value,
                                     ArgumentName="x-amz-object-ownership",
                                     ArgumentValue=value)
    return value


async def PutBucketOwnershipControls(ctx) -> Response:
    doc = await read_xml(ctx.req, shapes.OwnershipControls, limit=MAX_OWNERSHIP_XML)
    if len(doc.Rule) != 1 or doc.Rule[0].ObjectOwnership not in acl.OWNERSHIPS:
        raise errors.MalformedXML()
    await ctx.svc.engine.set_bucket_ownership(ctx.bucket, doc.Rule[0].ObjectOwnership)
    return Response(200)


async def GetBucketOwnershipControls(ctx) -> Response:
    b = ctx.bucket_record or await ctx.svc.engine.get_bucket(ctx.bucket)
    if not b.ownership:
        raise errors.OwnershipControlsNotFoundError(BucketName=ctx.bucket)
    return xml(shapes.OwnershipControls([shapes.OwnershipControlsRule(b.ownership)]))


async def DeleteBucketOwnershipControls(ctx) -> Response:
    await ctx.svc.engine.set_bucket_ownership(ctx.bucket, "")
    return Response(204)
