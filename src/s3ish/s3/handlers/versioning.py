"""Bucket versioning: Put/GetBucketVersioning, ListObjectVersions, and the `versionId`
argument and `x-amz-version-id` header every object operation shares."""
from ...http.asgi import Response
from ...util.clock import from_ts
from .. import errors
from ..xml import shapes
from .common import object_owner_of, quote_etag, read_xml, xml
from .listing import encoder, max_keys_arg

MAX_VERSIONING_XML = 4096


def version_arg(req) -> str | None:
    """The request's `versionId` query argument (None: the current version)."""
    value = req.query.get("versionId")
    if value is None:
        return None
    if value == "":
        raise errors.InvalidArgument("Version id cannot be the empty string",
                                     ArgumentName="versionId", ArgumentValue="")
    return value


def version_header(bucket, version_id: str) -> list[tuple[str, str]]:
    """`x-amz-version-id`, sent for every version of a bucket that has (had) versioning on,
    and never for the `null` version of a bucket that never had it (as S3 does)."""
    if version_id and (version_id != "null" or bucket.versioning):
        return [("x-amz-version-id", version_id)]
    return []


def new_version_header(version_id: str) -> list[tuple[str, str]]:
    """`x-amz-version-id` on a write's response: only for a version with an id of its own (a
    write in a suspended bucket makes the `null` version and says nothing, as S3 does)."""
    return [("x-amz-version-id", version_id)] if version_id and version_id != "null" else []


def deletion_headers(bucket, outcome) -> list[tuple[str, str]]:
    h = version_header(bucket, outcome.version_id)
    if outcome.delete_marker:
        h.append(("x-amz-delete-marker", "true"))
    return h


async def PutBucketVersioning(ctx) -> Response:
    doc = await read_xml(ctx.req, shapes.VersioningConfiguration, limit=MAX_VERSIONING_XML,
                         required_digest=True)
    if doc.MfaDelete not in (None, "Enabled", "Disabled"):
        raise errors.MalformedXML()
    if doc.MfaDelete == "Enabled" or "x-amz-mfa" in ctx.req.headers:
        raise errors.NotImplemented("MFA delete is not supported: s3ish has no MFA devices.",
                                    Header="MfaDelete")
    if doc.Status not in ("Enabled", "Suspended"):
        if doc.Status is None and doc.MfaDelete is not None:
            return Response(200)    # only MfaDelete: Disabled, which it is
        raise errors.MalformedXML()
    await ctx.svc.engine.set_bucket_versioning(ctx.bucket, doc.Status)
    return Response(200)


async def GetBucketVersioning(ctx) -> Response:
    # A bucket that never had versioning answers an empty configuration.
    return xml(shapes.VersioningConfiguration(ctx.bucket_record.versioning or None))


async def ListObjectVersions(ctx) -> Response:
    q = ctx.req.query
    enc_type, enc = encoder(q)
    limit = max_keys_arg(q)
    key_marker, vid_marker = q.get("key-marker", ""), q.get("version-id-marker", "")
    if vid_marker and not key_marker:
        raise errors.InvalidArgument("A version-id marker cannot be specified without a key "
                                     "marker.", ArgumentName="version-id-marker",
                                     ArgumentValue=vid_marker)
    prefix, delimiter = q.get("prefix", ""), q.get("delimiter", "")
    res = await ctx.svc.engine.list_object_versions(ctx.bucket, prefix, delimiter, key_marker,
                                                    vid_marker, limit)
    entries = [_entry(ctx, row, enc) for row in res.versions]
    return xml(shapes.ListVersionsResult(
        Name=ctx.bucket, Prefix=enc(prefix), KeyMarker=enc(key_marker),
        VersionIdMarker=vid_marker,
        NextKeyMarker=enc(res.next_key_marker) if res.is_truncated else None,
        NextVersionIdMarker=res.next_version_id_marker if res.is_truncated else None,
        MaxKeys=limit, Delimiter=enc(delimiter) or None, EncodingType=enc_type,
        IsTruncated=res.is_truncated, Version=entries,
        CommonPrefixes=[shapes.CommonPrefix(enc(p)) for p in res.common_prefixes]))


def _entry(ctx, row, enc):
    v, latest = row.version, row.vpos == ""
    owner = object_owner_of(ctx, v.owner)
    if v.delete_marker:
        return shapes.DeleteMarkerEntry(enc(v.key), v.version_id, latest, from_ts(v.mtime),
                                        owner)
    return shapes.VersionEntry(enc(v.key), v.version_id, latest, from_ts(v.mtime),
                               quote_etag(v.etag), v.size, v.storage_class, owner,
                               v.checksum_algorithm or None, v.checksum_type or None)
