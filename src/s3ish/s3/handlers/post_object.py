"""PostObject: browser-based uploads with a signed POST policy (multipart/form-data)."""
from urllib.parse import quote, urlencode

from ...engine.types import PutSpec
from ...http.asgi import Response
from ...http.formdata import FormError, FormReader, boundary_of
from ...util import checksums
from .. import errors
from ..access import authorize_object
from ..auth.post_policy import authenticate_post, check_conditions
from .common import STORED_HEADERS, ChecksumRequest, object_spec_fields, quote_etag, xml
from .header_rules import check_value, wire_form
from .object_lock import check_lock_write
from .object_write import DEFAULT_CHECKSUM, MAX_PUT
from .sse_headers import check_request as check_sse_fields, response_headers, write_request
from .tagging import tags_from_header, validate_tags
from ..xml import codec, shapes
from . import acl
from .versioning import new_version_header

# Form fields that carry the SigV4 signature, not a property of the object.
_SIGNATURE_FIELDS = frozenset({"x-amz-algorithm", "x-amz-credential", "x-amz-date",
                               "x-amz-signature", "x-amz-security-token"})
# A form with none of these is an anonymous upload (AWS: allowed to a bucket that lets
# everyone write); with any of them it must carry a valid policy and signature.
_SIGNED_FORM = frozenset({"policy", "x-amz-signature", "signature", "awsaccesskeyid",
                          "x-amz-credential"})


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
    if ctx.identity is None and not _SIGNED_FORM.intersection(fields):
        conditions = None        # an anonymous upload: a bucket policy or ACL must allow it
    else:
        ctx.identity, conditions = authenticate_post(fields, ctx.svc.users, ctx.svc.region)
    if file is None:
        raise errors.IncorrectNumberOfFilesInPostRequest()
    filename, _, stream = file
    key = fields.get("key", "")
    if not key:
        raise errors.InvalidArgument("Bucket POST must contain a field named 'key'.",
                                     ArgumentName="key")
    key = key.replace("${filename}", filename)
    fields["key"] = key
    length_range = (check_conditions(conditions, fields, ctx.bucket)
                    if conditions is not None else None)
    await authorize_object(ctx, "s3:PutObject", key)
    record = ctx.bucket_record
    redirect = fields.get("success_action_redirect") or fields.get("redirect")
    if redirect:
        check_value("success_action_redirect", wire_form(redirect))
    headers = _object_headers(fields)
    check_sse_fields(ctx, "PostObject", headers)
    encryption = write_request(headers)
    ck = ChecksumRequest(headers, default=DEFAULT_CHECKSUM, form=True)
    spec = PutSpec(owner=ctx.owner, checksum_algorithm=ck.algorithm,
                   tags=_tags(fields) or tags_from_header(headers), sse=encryption,
                   **object_spec_fields(headers))
    check_lock_write(record, spec)
    spec.acl = acl.for_write(ctx, record, headers)

    def verify(d):
        low, high = length_range or (0, MAX_PUT)
        if d.size < low:
            raise errors.EntityTooSmall(ProposedSize=str(d.size), MinSizeAllowed=str(low))
        if d.size > high:
            raise errors.EntityTooLarge(ProposedSize=str(d.size), MaxSizeAllowed=str(high))
        if ck.expected is not None and checksums.b64(d.checksum) != ck.expected:
            raise errors.BadDigest(f"The {ck.algorithm} you specified did not match the "
                                   "calculated checksum.")

    try:
        v = await ctx.svc.engine.put_object(ctx.bucket, key, stream, spec, verify)
    except FormError as e:
        raise errors.MalformedPOSTRequest(str(e)) from None
    resp = _success(ctx, fields, key, v)
    resp.headers += new_version_header(v.version_id)
    resp.headers += response_headers(v, encryption and encryption.customer, context=True)
    return resp


def _object_headers(fields: dict) -> dict:
    """The form fields that stand for request headers, as PutObject would receive them: every
    x-amz-* field but the signature's own, the standard object headers, `acl`. They go through
    the same checks as PutObject's headers (unsupported ones refused, names and values valid)."""
    headers = {}
    for name, value in fields.items():
        if (name.startswith("x-amz-") and name not in _SIGNATURE_FIELDS) \
                or name in STORED_HEADERS or name == "content-type":
            headers[name] = wire_form(value)
    if "acl" in fields:
        headers["x-amz-acl"] = fields["acl"]
    if "x-amz-checksum-algorithm" in headers:
        # The form's name for what PutObject calls x-amz-sdk-checksum-algorithm.
        headers["x-amz-sdk-checksum-algorithm"] = headers.pop("x-amz-checksum-algorithm")
    return headers


def _tags(fields: dict) -> dict:
    """The `tagging` field: a Tagging XML document, as in PutObjectTagging."""
    doc = fields.get("tagging")
    if doc is None:
        return {}
    try:
        tagging = codec.decode(doc.encode(), shapes.Tagging)
    except codec.XMLDecodeError:
        raise errors.MalformedXML() from None
    if tagging.TagSet is None:
        raise errors.MalformedXML()
    return validate_tags([(t.Key, t.Value) for t in tagging.TagSet.Tag])


def _success(ctx, fields: dict, key: str, v) -> Response:
    etag = quote_etag(v.etag)
    host = ctx.req.headers.get("host", "localhost")
    location = f"http://{host}/{ctx.bucket}/{quote(key)}"
    redirect = fields.get("success_action_redirect") or fields.get("redirect")
    if redirect:
        sep = "&" if "?" in redirect else "?"
        target = wire_form(redirect) + sep + urlencode({"bucket": ctx.bucket, "key": key,
                                                        "etag": etag})
        return Response(303, [("Location", target), ("ETag", etag)])
    status = fields.get("success_action_status", "204")
    if status == "201":
        resp = xml(shapes.PostResponse(location, ctx.bucket, key, etag), status=201)
        resp.headers += [("ETag", etag), ("Location", location)]
        return resp
    return Response(200 if status == "200" else 204, [("ETag", etag), ("Location", location)])
