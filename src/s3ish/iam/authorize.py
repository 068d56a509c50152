"""The one authorize decision: may this caller do this action on this resource?

As ISSUE 10 agreed, after AWS ("Policy evaluation logic", "How Amazon S3 authorizes a request"):
- an explicit Deny in one of the caller's identity policies or in the bucket policy wins;
- the root user (the server's administrator) is allowed everything else; it may always read,
  change and delete a bucket policy, even one that denies it, so it can never be locked out;
- a bucket policy is read, changed and deleted only by its bucket's owner (and root), as AWS
  allows only the owner's account, whatever a policy grants;
- anyone else is allowed when the resource is theirs (the bucket's owner for bucket operations
  and object writes, the object's owner for object reads and ACL operations), or an identity
  policy allows, or the bucket policy allows, or an ACL grant allows (only when ACLs are
  enforced and the bucket's object ownership is not BucketOwnerEnforced; public grants count
  for nothing under the public access block's IgnorePublicAcls);
- a public bucket policy under RestrictPublicBuckets allows only the bucket's owner (each
  s3ish user is an account of its own: nobody else is "within the bucket owner's account").

Pure and synchronous: the caller passes the bucket record and, when `decide` asks for it by
returning NEED_OBJECT, the object version's record (None: no such version). Records are taken
duck-typed (`owner`, `acl`, `ownership`, `public_access_block`) so iam imports nothing of meta.
"""
from dataclasses import dataclass, field

from . import acl as acls
from .policy import ANONYMOUS, Principal, evaluate

ALLOW, DENY, NEED_OBJECT = "Allow", "Deny", "NeedObject"
UNKNOWN = object()          # the object version has not been looked up (yet)
ENFORCED = "BucketOwnerEnforced"

# Object actions whose owner is the object's owner (who wrote it, unless the bucket owner
# owns every object): reading it and its ACL. Every other object action (writes, deletes,
# tags, retention, uploads) belongs to the bucket's owner.
OBJECT_OWNER_ACTIONS = frozenset({
    "s3:getobject", "s3:getobjectversion", "s3:getobjectacl", "s3:getobjectversionacl",
    "s3:putobjectacl", "s3:putobjectversionacl", "s3:getobjecttagging",
    "s3:getobjectversiontagging", "s3:getobjectattributes", "s3:getobjectversionattributes"})
# The bucket policy's own actions: only its bucket's owner (and root) may use them, and root
# even when the policy denies it (AWS's guard against locking the account out).
POLICY_ACTIONS = frozenset({"s3:getbucketpolicy", "s3:putbucketpolicy",
                            "s3:deletebucketpolicy"})


@dataclass(frozen=True)
class Caller:
    """Who asks. `canonical` is None for an anonymous request."""
    principal: Principal = ANONYMOUS
    canonical: str | None = None
    is_root: bool = False
    policies: tuple = ()        # compiled identity policies (iam.policy.Policy)


ANONYMOUS_CALLER = Caller()


@dataclass
class Target:
    """What is asked: a lower-case IAM action on a resource ARN of a kind ("service",
    "bucket", "object"), with the request's condition context (lower-case keys)."""
    action: str
    resource: str
    kind: str
    context: dict = field(default_factory=dict)


def decide(caller: Caller, target: Target, bucket=None, policy=None, public_policy=False,
           obj=UNKNOWN, acl_mode: str = "enforce") -> str:
    """ALLOW, DENY, or NEED_OBJECT (call again with `obj`). `bucket`: the bucket record (None
    for the service or a bucket being created); `policy`: its compiled bucket policy (None:
    none); `public_policy`: whether that policy is public (iam.policy.is_public)."""
    action = target.action
    from_identity = "NoDecision"
    if caller.policies:
        from_identity = evaluate(caller.policies, caller.principal, action, target.resource,
                                 target.context)
        if from_identity == DENY:
            return DENY
    from_policy = "NoDecision"
    if policy is not None:
        from_policy = evaluate((policy,), caller.principal, action, target.resource,
                               target.context)
        if from_policy == DENY and not (caller.is_root and action in POLICY_ACTIONS):
            return DENY
    if caller.is_root:
        return ALLOW
    if action in POLICY_ACTIONS and (bucket is None or caller.canonical != bucket.owner):
        return DENY         # AWS: only the bucket owner's account, whatever a policy says
    if caller.canonical is not None and _owns_simply(caller, target, bucket):
        return ALLOW
    if from_identity == ALLOW:
        return ALLOW
    if from_policy == ALLOW and not (
            public_policy and _restrict_public(bucket)
            and (bucket is None or caller.canonical != bucket.owner)):
        return ALLOW
    return _by_object_or_acl(caller, target, bucket, obj, acl_mode)


def _owns_simply(caller: Caller, target: Target, bucket) -> bool:
    """Ownership that needs no object record: the service (a user lists and creates its own
    buckets), a bucket's own operations, its owner's object writes, and object reads where
    the bucket owner owns every object."""
    if target.kind == "service" or bucket is None:
        return True
    if caller.canonical != bucket.owner:
        return False
    return target.kind == "bucket" or target.action not in OBJECT_OWNER_ACTIONS or (
        bucket.ownership == ENFORCED)


def _by_object_or_acl(caller: Caller, target: Target, bucket, obj, acl_mode: str) -> str:
    if bucket is None:
        return DENY
    enforced = bucket.ownership == ENFORCED
    owner_action = target.kind == "object" and target.action in OBJECT_OWNER_ACTIONS
    use_acl = acl_mode == "enforce" and not enforced
    needed = acls.needed(target.action) if use_acl else None
    if (owner_action and not enforced and caller.canonical is not None) or (
            needed is not None and needed[0] == "object"):
        if obj is UNKNOWN:
            return NEED_OBJECT
        if obj is None:
            # No such object: its bucket's owner gets the 404, anyone else learns nothing.
            return ALLOW if caller.canonical == bucket.owner else DENY
        if owner_action and caller.canonical is not None and caller.canonical == obj.owner:
            return ALLOW
    if needed is None:
        return DENY
    ignore = _ignore_public_acls(bucket)
    kind, permission = needed
    if kind == "bucket":
        ok = acls.grants(bucket.acl, bucket.owner, caller.canonical, permission, ignore)
    else:
        ok = acls.grants(obj.acl, obj.owner, caller.canonical, permission, ignore)
    return ALLOW if ok else DENY


def _restrict_public(bucket) -> bool:
    pab = getattr(bucket, "public_access_block", None)
    return bool(pab and pab.restrict_public_buckets)


def _ignore_public_acls(bucket) -> bool:
    pab = getattr(bucket, "public_access_block", None)
    return bool(pab and pab.ignore_public_acls)
