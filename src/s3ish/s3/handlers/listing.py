"""ListObjects (v1) and ListObjectsV2."""
import base64
import binascii
from urllib.parse import quote

from ...util.clock import from_ts
from .. import errors
from ..xml import shapes
from .common import object_owner_of, quote_etag, xml


def max_keys_arg(q) -> int:
    value = q.get("max-keys", "1000")
    try:
        n = int(value)
    except ValueError:
        raise errors.InvalidArgument("Provided max-keys not an integer or within integer range",
                                     ArgumentName="max-keys", ArgumentValue=value) from None
    if n < 0:
        raise errors.InvalidArgument("Argument maxKeys must be an integer between 0 and "
                                     "2147483647", ArgumentName="maxKeys", ArgumentValue=value)
    return min(n, 1000)


def encoder(q):
    enc = q.get("encoding-type")
    if enc is None:
        return None, lambda s: s
    if enc != "url":
        raise errors.InvalidArgument("Invalid Encoding Method specified in Request",
                                     ArgumentName="encoding-type", ArgumentValue=enc)
    return "url", lambda s: s if s is None else quote(s, safe="/")


async def _list(ctx, start_after: str):
    q = ctx.req.query
    max_keys = max_keys_arg(q)
    res = await ctx.svc.engine.list_objects(ctx.bucket, q.get("prefix", ""),
                                            q.get("delimiter", ""), start_after, max_keys)
    return res, max_keys


def _contents(ctx, rows, enc, with_owner: bool):
    return [shapes.Object(enc(r.key), from_ts(r.mtime), quote_etag(r.etag), r.size,
                          r.storage_class, object_owner_of(ctx, r.owner) if with_owner else None)
            for r in rows]


async def ListObjects(ctx):
    q = ctx.req.query
    enc_type, enc = encoder(q)
    marker = q.get("marker", "")
    res, max_keys = await _list(ctx, marker)
    delimiter = q.get("delimiter") or None
    return xml(shapes.ListBucketResult(
        Name=ctx.bucket, Prefix=enc(q.get("prefix", "")), Marker=enc(marker),
        NextMarker=enc(res.next_marker) if delimiter and res.is_truncated else None,
        MaxKeys=max_keys, Delimiter=enc(delimiter), EncodingType=enc_type,
        IsTruncated=res.is_truncated, Contents=_contents(ctx, res.contents, enc, True),
        CommonPrefixes=[shapes.CommonPrefix(enc(p)) for p in res.common_prefixes]))


def _token(key: str) -> str:
    return base64.urlsafe_b64encode(key.encode("utf-8", "surrogateescape")).decode()


def _untoken(token: str) -> str:
    try:
        return base64.urlsafe_b64decode(token.encode("ascii")).decode("utf-8")
    except (binascii.Error, ValueError, UnicodeError):
        raise errors.InvalidArgument("The continuation token provided is incorrect",
                                     ArgumentName="continuation-token") from None


async def ListObjectsV2(ctx):
    q = ctx.req.query
    if q.get("list-type") != "2":
        raise errors.InvalidArgument("Invalid List Type specified in Request",
                                     ArgumentName="list-type", ArgumentValue=q.get("list-type"))
    enc_type, enc = encoder(q)
    token = q.get("continuation-token")
    start_after = q.get("start-after", "")
    res, max_keys = await _list(ctx, _untoken(token) if token is not None else start_after)
    delimiter = q.get("delimiter") or None
    return xml(shapes.ListBucketResult(
        Name=ctx.bucket, Prefix=enc(q.get("prefix", "")),
        StartAfter=enc(start_after) if "start-after" in q else None,
        ContinuationToken=token,
        NextContinuationToken=_token(res.next_marker) if res.is_truncated else None,
        KeyCount=len(res.contents) + len(res.common_prefixes), MaxKeys=max_keys,
        Delimiter=enc(delimiter), EncodingType=enc_type, IsTruncated=res.is_truncated,
        Contents=_contents(ctx, res.contents, enc, q.get("fetch-owner") == "true"),
        CommonPrefixes=[shapes.CommonPrefix(enc(p)) for p in res.common_prefixes]))
