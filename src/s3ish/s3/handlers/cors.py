"""Bucket CORS: PutBucketCors, GetBucketCors, DeleteBucketCors; the OPTIONS preflight
(answered without authentication: a browser never signs one); and the CORS headers of actual
requests that carry an Origin."""
from ...engine import cors
from ...engine.errors import DomainError
from ...http.asgi import Response
from ...meta.bucketconf import CorsRule
from .. import errors
from ..xml import shapes
from .common import read_xml, xml

MAX_CORS_XML = 64 * 1024      # S3's limit on a CORS configuration

_NOT_ALLOWED = ("CORSResponse: This CORS request is not allowed. This is usually because the "
                "evalution of Origin, request method / Access-Control-Request-Method or "
                "Access-Control-Request-Headers are not whitelisted by the resource's CORS spec.")


async def PutBucketCors(ctx) -> Response:
    # The model marks the operation checksum-required: Content-MD5 or an x-amz-checksum-*.
    doc = await read_xml(ctx.req, shapes.CORSConfiguration, limit=MAX_CORS_XML,
                         required_digest=True)
    rules = cors.validate([CorsRule(r.AllowedMethod, r.AllowedOrigin, r.AllowedHeader,
                                    r.ExposeHeader, r.MaxAgeSeconds, r.ID)
                           for r in doc.CORSRule])
    await ctx.svc.engine.set_bucket_cors(ctx.bucket, rules)
    return Response(200)


async def GetBucketCors(ctx) -> Response:
    rules = (await ctx.svc.engine.get_bucket(ctx.bucket)).cors
    if not rules:
        raise errors.NoSuchCORSConfiguration(BucketName=ctx.bucket)
    return xml(shapes.CORSConfiguration([
        shapes.CORSRule(r.id, r.allowed_headers, r.allowed_methods, r.allowed_origins,
                        r.expose_headers, r.max_age_seconds) for r in rules]))


async def DeleteBucketCors(ctx) -> Response:
    await ctx.svc.engine.set_bucket_cors(ctx.bucket, [])
    return Response(204)


async def OptionsObject(ctx) -> Response:
    """The preflight (`OPTIONS /bucket` or `/bucket/key`): 200 with the Access-Control-*
    headers of the first matching rule, else 403 AccessForbidden."""
    headers = ctx.req.headers
    origin = headers.get("origin")
    method = headers.get("access-control-request-method")
    if origin is None:
        raise errors.BadRequest("Insufficient information. Origin request header needed.")
    if method not in cors.METHODS:
        raise errors.BadRequest(f"Invalid Access-Control-Request-Method: {method}")
    rules = (await ctx.svc.engine.get_bucket(ctx.bucket)).cors
    where = {"Method": method, "ResourceType": "OBJECT" if ctx.key else "BUCKET"}
    if not rules:
        raise errors.AccessForbidden("CORSResponse: CORS is not enabled for this bucket.",
                                     **where)
    wanted = cors.request_headers(headers.get("access-control-request-headers"))
    match = cors.find_rule(rules, origin, method, wanted)
    if match is None:
        raise errors.AccessForbidden(_NOT_ALLOWED, **where)
    return Response(200, cors.response_headers(match, origin, wanted))


async def add_response_headers(ctx, resp: Response) -> None:
    """Give an actual (non-preflight) response of a bucket with CORS rules the headers of the
    rule matching the request's Origin and method; errors too, as S3 does. Costs nothing
    without an Origin; the bucket record is read only if the pipeline has not read it."""
    origin = ctx.req.headers.get("origin")
    if origin is None or not ctx.bucket or ctx.req.method == "OPTIONS":
        return
    record = ctx.bucket_record
    if record is None:
        try:
            record = await ctx.svc.engine.get_bucket(ctx.bucket)
        except DomainError:       # no such bucket: nothing to allow
            return
    if not record.cors:
        return
    # As S3 (and the Ceph suite) do: an actual request naming Access-Control-Request-Method
    # is matched with that method.
    method = ctx.req.headers.get("access-control-request-method") or ctx.req.method
    match = cors.find_rule(record.cors, origin, method)
    if match is None:
        resp.headers.append(("Vary", cors.VARY))
        return
    resp.headers += cors.response_headers(match, origin)
