"""The authorize step of the pipeline: every routed request, after authentication, asks
iam.authorize.decide whether its caller may do the route's IAM action on its resource.

The frontend calls `authorize` once per request (and, for CopyObject/UploadPartCopy, once more
for the copy source); DeleteObjects calls `authorize_key` for each key, PostObject
`authorize_object` for the form's key. What each route does is named by the route table
(routes.Route.action, from iam.arn.ACTIONS); no handler checks ownership itself.

The common case costs little: with no bucket policy and no identity policy nothing is
compiled and no condition context is built; a bucket policy is compiled once per (bucket,
document) and cached; an object's record is read only when the decision needs it (its owner
or ACL, or a policy reading s3:ExistingObjectTag/*).

Principals (see README "Access control"): a user is an account of its own, named
`arn:aws:iam::<canonical id>:root`, `arn:aws:iam::<canonical id>:user/<name>` and Ceph's
`arn:aws:iam::<tenant>:user/<name>` (tenant "" for a user name without `tenant$`), and by its
canonical id (Principal {"CanonicalUser": ...}).
"""
import logging
from urllib.parse import parse_qsl, unquote

from ..engine.errors import DeleteMarker, NoSuchKey, NoSuchVersion
from ..iam import authorize as az
from ..iam.arn import PER_KEY, SOURCE_ACTIONS, bucket_arn, object_arn
from ..iam.errors import MalformedPolicy
from ..iam.policy import Policy, Principal, is_public, parse, referenced_keys
from ..iam.principals import user_arn
from . import errors
from .condition_keys import request_context

log = logging.getLogger("s3ish.s3")

MAX_CACHED = 4096
_TAG_KEY = "s3:existingobjecttag/"
_BYPASS = "x-amz-bypass-governance-retention"
_BYPASSING = frozenset({"DeleteObject", "PutObjectRetention"})   # and DeleteObjects' keys
_DEFERRABLE = frozenset({"GetObject", "HeadObject"})    # their handlers call check_object
_PENDING = "authorize_object"
_READS = frozenset({"s3:getobject", "s3:getobjectversion"})
_COPY_SOURCE_ERROR = ("Copy Source must mention the source bucket and key: "
                      "sourcebucket/sourcekey")


class CompiledPolicy:
    """A bucket policy compiled once: the policy, whether it is public, and whether it reads
    an object's existing tags."""
    __slots__ = ("policy", "public", "keys", "reads_tags")

    def __init__(self, policy):
        self.policy = policy
        self.public = is_public(policy)
        self.keys = referenced_keys(policy)
        self.reads_tags = any(k.startswith(_TAG_KEY) or k == _TAG_KEY[:-1] for k in self.keys)


_policies: dict[tuple[str, str], CompiledPolicy] = {}
_callers: dict[int, tuple[object, az.Caller]] = {}
_identity_keys: dict[int, tuple[object, frozenset]] = {}


def bucket_policy(bucket: str, text: str) -> CompiledPolicy | None:
    """The compiled policy of `bucket` whose document is `text` ("" none), from the cache."""
    if not text:
        return None
    hit = _policies.get((bucket, text))
    if hit is None:
        try:
            policy = parse(text, kind="bucket", bucket=bucket)
        except MalformedPolicy as e:
            # Stored before a rule it breaks existed: it allows and denies nothing (the
            # owner can still read, replace or delete it).
            log.warning("bucket %s: stored policy no longer valid (%s)", bucket, e.message)
            policy = Policy(text, "2012-10-17", None, [])
        hit = CompiledPolicy(policy)
        if len(_policies) >= MAX_CACHED:
            _policies.clear()
        _policies[(bucket, text)] = hit
    return hit


def _wanted(compiled: CompiledPolicy | None, caller: az.Caller) -> frozenset:
    """The context keys the policies that apply read."""
    keys = compiled.keys if compiled is not None else frozenset()
    for p in caller.policies:
        hit = _identity_keys.get(id(p))
        if hit is None or hit[0] is not p:
            if len(_identity_keys) >= MAX_CACHED:
                _identity_keys.clear()
            hit = _identity_keys[id(p)] = (p, referenced_keys(p))
        keys = keys | hit[1]
    return keys


def principal_names(identity) -> frozenset:
    """The AWS principal ARNs naming a user (see the module docstring)."""
    cid, name = identity.owner_id, identity.user_name
    tenant, sep, short = name.partition("$")
    return frozenset({f"arn:aws:iam::{cid}:root", f"arn:aws:iam::{cid}:user/{name}",
                      f"arn:aws:iam::{tenant}:user/{short}" if sep
                      else user_arn(name)})     # the ARN the IAM API shows


def caller_of(identity) -> az.Caller:
    if identity is None:
        return az.ANONYMOUS_CALLER
    hit = _callers.get(id(identity))
    if hit is not None and hit[0] is identity:
        return hit[1]
    caller = az.Caller(Principal(principal_names(identity), identity.owner_id),
                       identity.owner_id, identity.is_root, tuple(identity.policies))
    if len(_callers) >= MAX_CACHED:
        _callers.clear()
    _callers[id(identity)] = (identity, caller)
    return caller


def check_expected_owner(headers: dict, name: str, bucket) -> None:
    expected = headers.get(name)
    if expected is not None and expected != bucket.owner:
        raise errors.AccessDenied()


async def authorize(ctx, route) -> None:
    """The request's own authorization; sets ctx.bucket_record for the handler."""
    op = route.action
    bucket = None
    if op.kind != "service" and route.operation != "CreateBucket":
        bucket = ctx.bucket_record = await ctx.svc.engine.get_bucket(ctx.bucket)
        check_expected_owner(ctx.req.headers, "x-amz-expected-bucket-owner", bucket)
    if route.operation in PER_KEY:
        return                         # each key is authorized by the handler
    version = ctx.req.query.get("versionId") or None
    await check(ctx, op.for_request(version), op.kind, ctx.bucket, ctx.key, bucket, version,
                defer=route.operation in _DEFERRABLE)
    if route.operation in _BYPASSING:
        await _check_bypass(ctx, ctx.key, bucket, version)
    source = SOURCE_ACTIONS.get(route.operation)
    if source is not None:
        src_bucket, src_key, src_version = copy_source(ctx.req.headers["x-amz-copy-source"])
        record = bucket if src_bucket == ctx.bucket else await ctx.svc.engine.get_bucket(
            src_bucket)
        check_expected_owner(ctx.req.headers, "x-amz-source-expected-bucket-owner", record)
        await check(ctx, source.for_request(src_version), "object", src_bucket, src_key,
                    record, src_version)


async def authorize_key(ctx, action_of, key: str, version: str | None) -> None:
    """One key of a batch (DeleteObjects): `action_of` is the route's OperationAction."""
    await check(ctx, action_of.for_request(version), "object", ctx.bucket, key,
                ctx.bucket_record, version)
    await _check_bypass(ctx, key, ctx.bucket_record, version)


async def _check_bypass(ctx, key: str, bucket, version: str | None) -> None:
    """x-amz-bypass-governance-retention needs s3:BypassGovernanceRetention as well."""
    if ctx.req.headers.get(_BYPASS, "").strip().lower() == "true":
        await check(ctx, "s3:BypassGovernanceRetention", "object", ctx.bucket, key, bucket,
                    version)


async def authorize_object(ctx, action: str, key: str) -> None:
    """An object action on `key` of the request's bucket (PostObject: s3:PutObject)."""
    if ctx.bucket_record is None:
        ctx.bucket_record = await ctx.svc.engine.get_bucket(ctx.bucket)
    await check(ctx, action, "object", ctx.bucket, key, ctx.bucket_record, None)


async def check(ctx, action: str, kind: str, bucket_name: str, key: str, bucket,
                version: str | None, defer: bool = False) -> None:
    """Raise AccessDenied unless the caller may do `action` on the resource. With `defer`
    (GetObject, HeadObject), a bucket owner's read that depends on the object's owner or ACL
    is finished by `check_object` when the handler reads the record anyway: an owner's GET
    costs no extra metadata read."""
    caller = caller_of(ctx.identity)
    compiled = bucket_policy(bucket_name, bucket.policy) if bucket is not None else None
    if caller.is_root and compiled is None:
        return                               # the administrator, and nothing denies it
    resource = (object_arn(bucket_name, key) if kind == "object" else
                bucket_arn(bucket_name) if kind == "bucket" else "*")
    context = (request_context(ctx, version, _wanted(compiled, caller))
               if compiled is not None or caller.policies else {})
    target = az.Target(action.lower(), resource, kind, context)
    obj = az.UNKNOWN
    if compiled is not None and compiled.reads_tags and kind == "object":
        obj = await _version(ctx, bucket_name, key, version)
        if obj is not None:
            context.update({_TAG_KEY + k.lower(): v for k, v in obj.tags.items()})
    policy = compiled.policy if compiled is not None else None
    public = compiled.public if compiled is not None else False
    verdict = az.decide(caller, target, bucket, policy, public, obj, ctx.svc.acl_mode)
    if verdict == az.NEED_OBJECT:
        # The policies said nothing (else the decision would be made): only the record's
        # owner and ACL are left, decided without evaluating them again.
        rest = az.Caller(caller.principal, caller.canonical, caller.is_root)
        if defer and caller.canonical == bucket.owner:
            # The owner learns of a missing key (404) anyway: the handler's record will do.
            ctx.extra[_PENDING] = (rest, target, bucket)
            return
        obj = await _version(ctx, bucket_name, key, version)
        verdict = az.decide(rest, target, bucket, None, False, obj, ctx.svc.acl_mode)
    if verdict != az.ALLOW and not await _may_learn_missing(
            ctx, caller, target, bucket_name, key, version, bucket, compiled, obj):
        raise errors.AccessDenied()


def check_object(ctx, v) -> None:
    """The handler of a deferred read (see `check`) calls this with the version it read,
    before it sends anything."""
    pending = ctx.extra.get(_PENDING)
    if pending is not None:
        caller, target, bucket = pending
        if az.decide(caller, target, bucket, obj=v, acl_mode=ctx.svc.acl_mode) != az.ALLOW:
            raise errors.AccessDenied()


async def _may_learn_missing(ctx, caller, target, bucket_name, key, version, bucket,
                             compiled, obj) -> bool:
    """A read of a key that does not exist: AWS answers 404 to a caller allowed to list the
    bucket (s3:ListBucket, with the key as s3:prefix), 403 to anyone else."""
    if target.action not in _READS or bucket is None:
        return False
    if obj is az.UNKNOWN:
        obj = await _version(ctx, bucket_name, key, version)
    if obj is not None:
        return False
    listing = az.Target("s3:listbucket", bucket_arn(bucket_name), "bucket",
                        {**target.context, "s3:prefix": key})
    policy = compiled.policy if compiled is not None else None
    public = compiled.public if compiled is not None else False
    return az.decide(caller, listing, bucket, policy, public, None,
                     ctx.svc.acl_mode) == az.ALLOW


async def _version(ctx, bucket: str, key: str, version: str | None):
    """The version the request is about (None: none, or a delete marker)."""
    try:
        return await ctx.svc.engine.head_object(bucket, key, version)
    except (NoSuchKey, NoSuchVersion, DeleteMarker):
        return None


def copy_source(value: str) -> tuple[str, str, str | None]:
    """x-amz-copy-source `[/]bucket/key[?versionId=...]`, URL-encoded -> (bucket, key,
    version id or None)."""
    path, _, query = value.partition("?")
    bucket, sep, key = unquote(path).lstrip("/").partition("/")
    if not sep or not bucket or not key:
        raise errors.InvalidArgument(_COPY_SOURCE_ERROR, ArgumentName="x-amz-copy-source",
                                     ArgumentValue=value)
    version = None
    for name, v in parse_qsl(query, keep_blank_values=True):
        if name == "versionId":
            version = v
            break
    if version == "":
        raise errors.InvalidArgument("Invalid version id specified",
                                     ArgumentName="x-amz-copy-source", ArgumentValue=value)
    return bucket, key, version
