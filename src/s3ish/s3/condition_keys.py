"""The condition keys of a request, as AWS documents them for S3 ("Actions, resources, and
condition keys for Amazon S3", "AWS global condition context keys"), computed only for the keys
the applicable policies read (iam.policy.referenced_keys): most requests need two or three.

Keys are lower case (condition keys are case-insensitive). s3:ExistingObjectTag/<key> needs the
object's record: access.py adds it. Values a request carries in its body (PutObjectTagging's
tags, PutObjectRetention's mode and date) are not known before the body is read, so only the
headers' forms of s3:RequestObjectTag/* and s3:object-lock-* are set.
"""
import time
from datetime import datetime, timezone
from urllib.parse import parse_qsl

from .handlers.lock_headers import parse_iso_date

_TAG = "s3:requestobjecttag/"
# Request headers that are condition keys of their own name (s3:<header>).
_HEADER_KEYS = ("x-amz-acl", "x-amz-grant-read", "x-amz-grant-write", "x-amz-grant-read-acp",
                "x-amz-grant-write-acp", "x-amz-grant-full-control",
                "x-amz-server-side-encryption", "x-amz-server-side-encryption-aws-kms-key-id",
                "x-amz-server-side-encryption-customer-algorithm",
                "x-amz-copy-source", "x-amz-metadata-directive", "x-amz-content-sha256",
                "x-amz-storage-class")
_LOCK_HEADERS = {"s3:object-lock-mode": "x-amz-object-lock-mode",
                 "s3:object-lock-retain-until-date": "x-amz-object-lock-retain-until-date",
                 "s3:object-lock-legal-hold": "x-amz-object-lock-legal-hold"}


def request_context(ctx, version: str | None, wanted) -> dict:
    """The values of the `wanted` keys (lower case) this request has."""
    out = {}
    for key in wanted:
        get = _GETTERS.get(key)
        if get is not None:
            value = get(ctx, version)
        elif key.startswith(_TAG):
            value = _request_tags(ctx.req.headers).get(key[len(_TAG):])
        else:
            continue
        if value is not None:
            out[key] = value
    return out


def _principal_type(ctx, _v):
    if ctx.identity is None:
        return "Anonymous"
    return "Account" if ctx.identity.is_root else "User"


def _header(name):
    return lambda ctx, _v: ctx.req.headers.get(name)


def _query(name):
    return lambda ctx, _v: ctx.req.query.get(name)


def _auth_type(ctx, _v):
    req = ctx.req
    if "authorization" in req.headers:
        return "REST-HEADER"
    if "X-Amz-Signature" in req.query or "Signature" in req.query:
        return "REST-QUERY-STRING"
    if req.method == "POST" and "multipart/form-data" in req.headers.get("content-type", ""):
        return "POST"
    return None


def _signature_version(ctx, _v):
    req = ctx.req
    auth = req.headers.get("authorization")
    if auth is not None:
        return "AWS" if auth.startswith("AWS ") else "AWS4-HMAC-SHA256"
    if "X-Amz-Signature" in req.query:
        return "AWS4-HMAC-SHA256"
    return "AWS" if "Signature" in req.query else None


def _request_tags(headers) -> dict:
    """x-amz-tagging (URL-encoded `k1=v1&k2=v2`), keys lower-cased as condition keys are."""
    value = headers.get("x-amz-tagging")
    return {k.lower(): v for k, v in parse_qsl(value, keep_blank_values=True)} if value else {}


def _request_tag_keys(ctx, _v):
    value = ctx.req.headers.get("x-amz-tagging")
    return [k for k, _ in parse_qsl(value, keep_blank_values=True)] if value else None


def _remaining_days(ctx, _v):
    until = ctx.req.headers.get("x-amz-object-lock-retain-until-date")
    when = parse_iso_date(until) if until else None
    return None if when is None else str(max(0, int((when - time.time()) // 86400)))


def _principal_arn(ctx, _v):
    i = ctx.identity
    if i is None:
        return None
    return f"arn:aws:iam::{i.owner_id}:" + ("root" if i.is_root else f"user/{i.user_name}")


def _identity(attr):
    return lambda ctx, _v: getattr(ctx.identity, attr) if ctx.identity is not None else None


_GETTERS = {
    "aws:sourceip": lambda ctx, _v: ctx.req.client,
    "aws:securetransport": lambda ctx, _v: (
        "true" if ctx.req.scope.get("scheme") == "https" else "false"),
    "aws:currenttime": lambda ctx, _v: datetime.now(timezone.utc).strftime(
        "%Y-%m-%dT%H:%M:%SZ"),
    "aws:epochtime": lambda ctx, _v: str(int(time.time())),
    "aws:principaltype": _principal_type,
    "aws:username": _identity("user_name"),
    "aws:userid": _identity("owner_id"),
    "aws:principalaccount": _identity("owner_id"),    # each user is an account of its own
    "aws:principalarn": _principal_arn,
    "aws:referer": _header("referer"),
    "aws:useragent": _header("user-agent"),
    "s3:prefix": _query("prefix"),
    "s3:delimiter": _query("delimiter"),
    "s3:max-keys": _query("max-keys"),
    "s3:versionid": lambda ctx, version: version,
    "s3:authtype": _auth_type,
    "s3:signatureversion": _signature_version,
    "s3:requestobjecttagkeys": _request_tag_keys,
    "s3:object-lock-remaining-retention-days": _remaining_days,
    **{"s3:" + name: _header(name) for name in _HEADER_KEYS},
    **{key: _header(name) for key, name in _LOCK_HEADERS.items()},
}
