"""Object lock: Put/GetObjectLockConfiguration (the bucket's default retention),
Put/GetObjectRetention and Put/GetObjectLegalHold (one object version's), and the checks
a write with object lock parameters must pass before its body is read."""
from ...engine import objectlock
from ...http.asgi import Response
from ...util.clock import from_ts
from .. import errors
from ..xml import lock_shapes as shapes
from .common import read_xml, xml
from .lock_headers import bypass_governance, parse_iso_date

# Object lock documents are a few hundred bytes; this leaves room for any indentation.
MAX_LOCK_XML = 64 * 1024
_NO_BUCKET_LOCK = "Bucket is missing Object Lock Configuration"


def check_lock_write(bucket, spec, md5=None, ck=None, what: str = "") -> None:
    """A write (PutSpec `spec`) to `bucket` (its record): lock parameters need the bucket's
    object lock; and a body that may be locked (parameters, or the bucket's default
    retention) must carry Content-MD5 or a checksum (`what` names the request in the
    error; empty for requests without a body)."""
    asked = bool(spec.lock_mode) or spec.legal_hold is not None
    lock = bucket.object_lock
    if asked and lock is None:
        raise errors.InvalidRequest("Bucket is missing ObjectLockConfiguration")
    if what and (asked or (lock is not None and lock.mode)) and md5 is None \
            and not (ck is not None and ck.requested):
        raise errors.InvalidRequest(f"Content-MD5 OR x-amz-checksum- HTTP header is required "
                                    f"for {what} requests with Object Lock parameters")


async def PutObjectLockConfiguration(ctx) -> Response:
    doc = await read_xml(ctx.req, shapes.ObjectLockConfiguration, limit=MAX_LOCK_XML,
                         required_digest=True)
    # Object lock cannot be turned off: "Enabled" is the only value the schema allows.
    if doc.ObjectLockEnabled != "Enabled":
        raise errors.MalformedXML()
    rule = doc.Rule
    if rule is not None and (rule.DefaultRetention is None
                             or rule.DefaultRetention.Mode is None):
        raise errors.MalformedXML()
    d = rule.DefaultRetention if rule is not None else shapes.DefaultRetention()
    config = objectlock.default_retention(d.Mode, d.Days, d.Years)
    await ctx.svc.engine.set_bucket_object_lock(ctx.bucket, config)
    return Response(200)


async def GetObjectLockConfiguration(ctx) -> Response:
    lock = ctx.bucket_record.object_lock
    if lock is None:
        raise errors.ObjectLockConfigurationNotFoundError()
    rule = None
    if lock.mode:
        rule = shapes.ObjectLockRule(shapes.DefaultRetention(
            lock.mode, lock.days or None, lock.years or None))
    return xml(shapes.ObjectLockConfiguration("Enabled", rule))


async def PutObjectRetention(ctx) -> Response:
    doc = await read_xml(ctx.req, shapes.Retention, limit=MAX_LOCK_XML, required_digest=True)
    if (doc.Mode is None) != (doc.RetainUntilDate is None):
        raise errors.MalformedXML()
    mode, until = doc.Mode or "", 0.0
    if mode:
        # A mode outside the schema's enumeration (even in lower case) is malformed XML.
        until = parse_iso_date(doc.RetainUntilDate)
        if mode not in objectlock.MODES or until is None:
            raise errors.MalformedXML()
    # An empty <Retention/> removes the retention (a GOVERNANCE one needs the bypass).
    await ctx.svc.engine.set_object_retention(ctx.bucket, ctx.key,
                                              ctx.req.query.get("versionId"), mode, until,
                                              bypass_governance(ctx.req.headers))
    return Response(200)


async def _locked_version(ctx):
    """The version a Get{Retention,LegalHold} names, in a bucket with object lock."""
    if ctx.bucket_record.object_lock is None:
        raise errors.InvalidRequest(_NO_BUCKET_LOCK)
    return await ctx.svc.engine.head_object(ctx.bucket, ctx.key,
                                            ctx.req.query.get("versionId"))


async def GetObjectRetention(ctx) -> Response:
    v = await _locked_version(ctx)
    if not v.lock_mode:
        raise errors.NoSuchObjectLockConfiguration()
    return xml(shapes.Retention(v.lock_mode, from_ts(v.lock_until)))


async def PutObjectLegalHold(ctx) -> Response:
    doc = await read_xml(ctx.req, shapes.LegalHold, limit=MAX_LOCK_XML, required_digest=True)
    if doc.Status not in ("ON", "OFF"):
        raise errors.MalformedXML()
    await ctx.svc.engine.set_object_legal_hold(ctx.bucket, ctx.key,
                                               ctx.req.query.get("versionId"),
                                               doc.Status == "ON")
    return Response(200)


async def GetObjectLegalHold(ctx) -> Response:
    v = await _locked_version(ctx)
    if v.legal_hold is None:
        raise errors.NoSuchObjectLockConfiguration()
    return xml(shapes.LegalHold("ON" if v.legal_hold else "OFF"))
