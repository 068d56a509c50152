"""Bucket lifecycle: PutBucketLifecycleConfiguration (also the legacy PutBucketLifecycle
document), GetBucketLifecycleConfiguration, DeleteBucketLifecycle, and the `x-amz-expiration`
header of object responses.

This module only maps documents to `LifecycleRule` records and back, refusing what does not
fit S3's schema (MalformedXML); what a configuration may say and what it means is decided in
engine/lifecycle.py.
"""
import datetime as dt

from ...engine import lifecycle
from ...http.asgi import Response
from ...meta.bucketconf import (LifecycleFilter, LifecycleNoncurrentTransition,
                                LifecycleRule, LifecycleTransition)
from ...util.clock import from_ts, http_date
from .. import errors
from ..xml import shapes
from .common import read_xml, xml

# 1000 rules, each with an ID, a prefix of 1024 bytes and some tags, all escaped.
MAX_LIFECYCLE_XML = 4 * 1024 * 1024
MIN_SIZE_HEADER = "x-amz-transition-default-minimum-object-size"
MIN_SIZE_DEFAULT = "all_storage_classes_128K"


async def PutBucketLifecycleConfiguration(ctx) -> Response:
    min_size = ctx.req.headers.get(MIN_SIZE_HEADER)
    if min_size is not None and min_size != MIN_SIZE_DEFAULT:
        if min_size != "varies_by_storage_class":
            raise errors.InvalidRequest(f"Invalid value for {MIN_SIZE_HEADER}",
                                        ArgumentName=MIN_SIZE_HEADER, ArgumentValue=min_size)
        raise errors.NotImplemented(f"{MIN_SIZE_HEADER}: varies_by_storage_class is not "
                                    "supported yet.", Header=MIN_SIZE_HEADER)
    doc = await read_xml(ctx.req, shapes.LifecycleConfiguration, limit=MAX_LIFECYCLE_XML,
                         required_digest=True)
    rules = lifecycle.validate([_rule(r) for r in doc.Rule])
    await ctx.svc.engine.set_bucket_lifecycle(ctx.bucket, rules)
    return Response(200, [(MIN_SIZE_HEADER, MIN_SIZE_DEFAULT)])


async def GetBucketLifecycleConfiguration(ctx) -> Response:
    rules = (await ctx.svc.engine.get_bucket(ctx.bucket)).lifecycle
    if not rules:
        raise errors.NoSuchLifecycleConfiguration(BucketName=ctx.bucket)
    resp = xml(shapes.LifecycleConfiguration([_shape(r) for r in rules]))
    resp.headers.append((MIN_SIZE_HEADER, MIN_SIZE_DEFAULT))
    return resp


async def DeleteBucketLifecycle(ctx) -> Response:
    await ctx.svc.engine.set_bucket_lifecycle(ctx.bucket, [])
    return Response(204)


def expiration_headers(ctx, v) -> list[tuple[str, str]]:
    """`x-amz-expiration` for the current version `v` when a rule expires it."""
    b = ctx.bucket_record
    if b is None or not b.lifecycle or v.delete_marker or "versionId" in ctx.req.query:
        return []
    value = lifecycle.expiration_header(b.lifecycle, v.key, v.size, v.tags, v.mtime)
    return [("x-amz-expiration", value)] if value is not None else []


def abort_headers(ctx, upload) -> list[tuple[str, str]]:
    """`x-amz-abort-date` / `x-amz-abort-rule-id` for an upload a rule will abort."""
    b = ctx.bucket_record
    found = lifecycle.upload_rule(b.lifecycle, upload.key, upload.initiated) if b else None
    if found is None:
        return []
    return [("x-amz-abort-date", http_date(from_ts(found[0]))),
            ("x-amz-abort-rule-id", found[1])]


# ---- document -> records ----

def _malformed() -> errors.S3Error:
    return errors.MalformedXML()


def _rule(s: shapes.LifecycleRuleShape) -> LifecycleRule:
    if s.Status is None or (s.Filter is None) == (s.Prefix is None):
        raise _malformed()     # Filter or the legacy Prefix: exactly one of them
    rule = LifecycleRule(status=s.Status, id=s.ID or "")
    rule.filter = _filter(s.Filter) if s.Filter is not None else \
        LifecycleFilter(form="Prefix", prefix=s.Prefix)
    if s.Expiration is not None:
        e = s.Expiration
        if e.Days is None and e.Date is None and e.ExpiredObjectDeleteMarker is None:
            raise _malformed()
        rule.expiration_days = e.Days
        rule.expiration_date = None if e.Date is None else lifecycle.parse_date(e.Date)
        rule.expired_object_delete_marker = e.ExpiredObjectDeleteMarker
    if s.NoncurrentVersionExpiration is not None:
        n = s.NoncurrentVersionExpiration
        if n.NoncurrentDays is None and n.NewerNoncurrentVersions is None:
            raise _malformed()
        rule.noncurrent_days = n.NoncurrentDays
        rule.newer_noncurrent_versions = n.NewerNoncurrentVersions
    if s.AbortIncompleteMultipartUpload is not None:
        if s.AbortIncompleteMultipartUpload.DaysAfterInitiation is None:
            raise _malformed()
        rule.abort_incomplete_days = s.AbortIncompleteMultipartUpload.DaysAfterInitiation
    for t in s.Transition:
        if t.StorageClass is None:
            raise _malformed()
        rule.transitions.append(LifecycleTransition(
            t.StorageClass, t.Days, None if t.Date is None else lifecycle.parse_date(t.Date)))
    for t in s.NoncurrentVersionTransition:
        if t.StorageClass is None:
            raise _malformed()
        rule.noncurrent_transitions.append(LifecycleNoncurrentTransition(
            t.StorageClass, t.NoncurrentDays, t.NewerNoncurrentVersions))
    return rule


def _filter(f: shapes.LifecycleRuleFilter) -> LifecycleFilter:
    given = [x for x in (f.Prefix, f.Tag, f.ObjectSizeGreaterThan, f.ObjectSizeLessThan, f.And)
             if x is not None]
    if len(given) > 1:
        raise _malformed()     # one predicate, or several inside <And>
    if f.And is None:
        return LifecycleFilter(prefix=f.Prefix, tags=_tags([f.Tag] if f.Tag else []),
                               size_greater_than=f.ObjectSizeGreaterThan,
                               size_less_than=f.ObjectSizeLessThan)
    a = f.And
    count = len(a.Tag) + sum(x is not None for x in (a.Prefix, a.ObjectSizeGreaterThan,
                                                     a.ObjectSizeLessThan))
    if count < 2:
        raise _malformed()
    return LifecycleFilter(prefix=a.Prefix, tags=_tags(a.Tag),
                           size_greater_than=a.ObjectSizeGreaterThan,
                           size_less_than=a.ObjectSizeLessThan, use_and=True)


def _tags(tags: list[shapes.Tag]) -> dict:
    out = {}
    for t in tags:
        if t.Key in out:
            raise errors.InvalidRequest("Duplicate Tag Keys are not allowed.")
        out[t.Key] = t.Value
    return out


# ---- records -> document ----

def _date(ts: float | None) -> str | None:
    if ts is None:
        return None
    return dt.datetime.fromtimestamp(ts, dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _shape(r: LifecycleRule) -> shapes.LifecycleRuleShape:
    s = shapes.LifecycleRuleShape(ID=r.id, Status=r.status)
    f = r.filter
    if f.form == "Prefix":
        s.Prefix = f.prefix
    else:
        tags = [shapes.Tag(k, v) for k, v in f.tags.items()]
        if f.use_and:
            s.Filter = shapes.LifecycleRuleFilter(And=shapes.LifecycleRuleAndOperator(
                f.prefix, tags, f.size_greater_than, f.size_less_than))
        else:
            s.Filter = shapes.LifecycleRuleFilter(f.prefix, tags[0] if tags else None,
                                                  f.size_greater_than, f.size_less_than)
    if (r.expiration_days, r.expiration_date, r.expired_object_delete_marker) != \
            (None, None, None):
        s.Expiration = shapes.LifecycleExpiration(_date(r.expiration_date),
                                                  r.expiration_days,
                                                  r.expired_object_delete_marker)
    if r.noncurrent_days is not None:
        s.NoncurrentVersionExpiration = shapes.NoncurrentVersionExpiration(
            r.noncurrent_days, r.newer_noncurrent_versions)
    if r.abort_incomplete_days is not None:
        s.AbortIncompleteMultipartUpload = shapes.AbortIncompleteMultipartUpload(
            r.abort_incomplete_days)
    s.Transition = [shapes.Transition(_date(t.date), t.days, t.storage_class)
                    for t in r.transitions]
    s.NoncurrentVersionTransition = [shapes.NoncurrentVersionTransition(
        t.days, t.storage_class, t.newer_noncurrent_versions) for t in r.noncurrent_transitions]
    return s
