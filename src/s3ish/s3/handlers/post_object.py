"""PostObject: browser-based uploads with a signed POST policy (multipart/form-data)."""
from urllib.parse import quote, urlencode

from ...engine.types import PutSpec
from ...http.asgi import Response
from ...http.formdata import FormError, FormReader, boundary_of
from .. import errors
from ..auth.post_policy import authenticate_post, check_conditions
from .common import object_spec_fields, quote_etag, xml
from .object_write import DEFAULT_CHECKSUM, MAX_PUT
from ..xml import shapes


async def PostObject(ctx) -> Response:
    req = ctx.req
    boundary = boundary_of(req.headers.get("content-type", ""))
    if boundary is None:
        raise errors.InvalidRequest("POST requires a multipart/form-data body")
    try:
        raw_fields, file = await FormReader(req.body, boundary).read_until_file()
    except FormError as e:
        raise errors.MalformedPOSTRequest(str(e)) from None
    fields = {k.lower(): v for k, v in raw_fields.items()}
    ident, conditions = authenticate_post(fields, ctx.svc.users, ctx.svc.region)
    ctx.identity = ident
    record = await ctx.svc.engine.get_bucket(ctx.bucket)
    if record.owner != ident.owner_id:
        raise errors.AccessDenied()
    if file is None:
        raise errors.IncorrectNumberOfFilesInPostRequest()
    filename, _, stream = file
    key = fields.get("key", "")
    if not key:
        raise errors.InvalidArgument("Bucket POST must contain a field named 'key'.",
                                     ArgumentName="key")
    key = key.replace("${filename}", filename)
    fields["key"] = key
    length_range = check_conditions(conditions, fields, ctx.bucket)
    headers = {k: v for k, v in fields.items()
               if k.startswith("x-amz-meta-") or k in ("content-type", "cache-control",
                                                       "content-disposition", "expires",
                                                       "content-encoding", "x-amz-storage-class")}
    spec = PutSpec(owner=ident.owner_id, checksum_algorithm=DEFAULT_CHECKSUM,
                   **object_spec_fields(headers))

    def verify(d):
        low, high = length_range or (0, MAX_PUT)
        if d.size < low:
            raise errors.EntityTooSmall(ProposedSize=str(d.size), MinSizeAllowed=str(low))
        if d.size > high:
            raise errors.EntityTooLarge(ProposedSize=str(d.size), MaxSizeAllowed=str(high))

    try:
        v = await ctx.svc.engine.put_object(ctx.bucket, key, stream, spec, verify)
    except FormError as e:
        raise errors.MalformedPOSTRequest(str(e)) from None
    return _success(ctx, fields, key, v)


def _success(ctx, fields: dict, key: str, v) -> Response:
    etag = quote_etag(v.etag)
    host = ctx.req.headers.get("host", "localhost")
    location = f"http://{host}/{ctx.bucket}/{quote(key)}"
    redirect = fields.get("success_action_redirect") or fields.get("redirect")
    if redirect:
        sep = "&" if "?" in redirect else "?"
        target = redirect + sep + urlencode({"bucket": ctx.bucket, "key": key, "etag": etag})
        return Response(303, [("Location", target), ("ETag", etag)])
    status = fields.get("success_action_status", "204")
    if status == "201":
        resp = xml(shapes.PostResponse(location, ctx.bucket, key, etag), status=201)
        resp.headers += [("ETag", etag), ("Location", location)]
        return resp
    return Response(200 if status == "200" else 204, [("ETag", etag), ("Location", location)])
