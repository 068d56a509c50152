"""The one authorize decision (iam.authorize.decide), table-driven, no HTTP: owner, other user,
anonymous, root, explicit deny, identity policy, bucket policy with conditions, ACL grants,
object ownership and the public access block."""
import json
from dataclasses import dataclass, field

import pytest

from s3ish.iam import authorize as az
from s3ish.iam.policy import ANONYMOUS, Principal, is_public, parse
from s3ish.meta.bucketconf import Grant, PublicAccessBlock

OWNER, ALT, THIRD = "o" * 64, "a" * 64, "t" * 64


@dataclass
class B:
    owner: str = OWNER
    policy: str = ""
    acl: list | None = None
    ownership: str = "BucketOwnerEnforced"
    public_access_block: PublicAccessBlock | None = None


@dataclass
class V:
    owner: str = OWNER
    acl: list | None = None
    tags: dict = field(default_factory=dict)


def caller(cid, root=False, policies=()):
    if cid is None:
        return az.Caller(ANONYMOUS, None)
    names = frozenset({f"arn:aws:iam::{cid}:root", f"arn:aws:iam:::user/u{cid[0]}"})
    return az.Caller(Principal(names, cid), cid, root, tuple(policies))


def bucket_policy(*statements, bucket="bk"):
    return parse(json.dumps({"Version": "2012-10-17", "Statement": list(statements)}),
                 kind="bucket", bucket=bucket)


def identity_policy(effect, action, resource="*"):
    return parse(json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": effect, "Action": action, "Resource": resource}]}), kind="identity")


def st(effect, action, resource="arn:aws:s3:::bk/*", principal="*", condition=None):
    s = {"Effect": effect, "Principal": principal, "Action": action, "Resource": resource}
    if condition:
        s["Condition"] = condition
    return s


GET = ("s3:getobject", "arn:aws:s3:::bk/k", "object")
PUT = ("s3:putobject", "arn:aws:s3:::bk/k", "object")
LIST = ("s3:listbucket", "arn:aws:s3:::bk", "bucket")
PUT_POLICY = ("s3:putbucketpolicy", "arn:aws:s3:::bk", "bucket")
GET_BUCKET_ACL = ("s3:getbucketacl", "arn:aws:s3:::bk", "bucket")
LIST_ALL = ("s3:listallmybuckets", "*", "service")
PUBLIC_READ = [Grant("group:AllUsers", "READ")]
AUTH_READ = [Grant("group:AuthenticatedUsers", "READ")]

ALLOW_GET_ALL = st("Allow", "s3:GetObject")
DENY_ALL = st("Deny", "s3:*", ["arn:aws:s3:::bk", "arn:aws:s3:::bk/*"])
ALLOW_ALT_GET = st("Allow", "s3:GetObject", principal={"AWS": f"arn:aws:iam::{ALT}:root"})
FROM_LOCAL = st("Allow", "s3:GetObject", condition={"IpAddress": {"aws:SourceIp":
                                                                    "127.0.0.0/8"}})
PREFIX_ONLY = st("Allow", "s3:ListBucket", "arn:aws:s3:::bk",
                 condition={"StringLike": {"s3:prefix": "home/${aws:username}/*"}})
TAGGED = st("Allow", "s3:GetObject",
            condition={"StringEquals": {"s3:ExistingObjectTag/security": "public"}})

ENFORCED, WRITER = "BucketOwnerEnforced", "ObjectWriter"
ROWS = [
    # (name, caller, (action, resource, kind), bucket, policy statements, identity policies,
    #  context, object, expected)
    ("owner reads its bucket", OWNER, LIST, B(), [], [], {}, az.UNKNOWN, "Allow"),
    ("owner writes its object", OWNER, PUT, B(ownership=WRITER), [], [], {}, az.UNKNOWN,
     "Allow"),
    ("owner reads: bucket owner owns every object", OWNER, GET, B(), [], [], {}, az.UNKNOWN,
     "Allow"),
    ("other user is denied", ALT, GET, B(), [], [], {}, az.UNKNOWN, "Deny"),
    ("other user lists: denied", ALT, LIST, B(), [], [], {}, az.UNKNOWN, "Deny"),
    ("anonymous is denied", None, GET, B(), [], [], {}, az.UNKNOWN, "Deny"),
    ("anonymous may not list buckets", None, LIST_ALL, None, [], [], {}, az.UNKNOWN, "Deny"),
    ("a user lists its own buckets", ALT, LIST_ALL, None, [], [], {}, az.UNKNOWN, "Allow"),
    ("root reads anyone's object", "root", GET, B(owner=ALT), [], [], {}, az.UNKNOWN,
     "Allow"),
    ("root denied by the bucket policy", "root", GET, B(), [DENY_ALL], [], {}, az.UNKNOWN,
     "Deny"),
    ("root may change a policy that denies it", "root", PUT_POLICY, B(), [DENY_ALL], [], {},
     az.UNKNOWN, "Allow"),
    ("only the owner reads a policy, whatever it grants", ALT,
     ("s3:getbucketpolicy", "arn:aws:s3:::bk", "bucket"), B(),
     [st("Allow", "s3:GetBucketPolicy", "arn:aws:s3:::bk")], [], {}, az.UNKNOWN, "Deny"),
    ("owner denied by its own bucket policy", OWNER, LIST, B(), [DENY_ALL], [], {},
     az.UNKNOWN, "Deny"),
    ("identity deny beats ownership", OWNER, LIST, B(), [],
     [identity_policy("Deny", "s3:ListBucket")], {}, az.UNKNOWN, "Deny"),
    ("identity allow", ALT, GET, B(), [], [identity_policy("Allow", "s3:Get*")], {},
     az.UNKNOWN, "Allow"),
    ("identity allow of another action", ALT, GET, B(), [],
     [identity_policy("Allow", "s3:PutObject")], {}, az.UNKNOWN, "Deny"),
    ("bucket policy allows everyone", ALT, GET, B(), [ALLOW_GET_ALL], [], {}, az.UNKNOWN,
     "Allow"),
    ("bucket policy allows anonymous", None, GET, B(), [ALLOW_GET_ALL], [], {}, az.UNKNOWN,
     "Allow"),
    ("bucket policy names alt", ALT, GET, B(), [ALLOW_ALT_GET], [], {}, az.UNKNOWN, "Allow"),
    ("bucket policy names alt, not a third", THIRD, GET, B(), [ALLOW_ALT_GET], [], {},
     az.UNKNOWN, "Deny"),
    ("bucket policy deny beats identity allow", ALT, GET, B(), [ALLOW_GET_ALL, DENY_ALL],
     [identity_policy("Allow", "s3:*")], {}, az.UNKNOWN, "Deny"),
    ("condition holds: source ip", ALT, GET, B(), [FROM_LOCAL], [],
     {"aws:sourceip": "127.0.0.1"}, az.UNKNOWN, "Allow"),
    ("condition fails: source ip", ALT, GET, B(), [FROM_LOCAL], [],
     {"aws:sourceip": "10.1.1.1"}, az.UNKNOWN, "Deny"),
    ("policy variable in a condition", ALT, LIST, B(), [PREFIX_ONLY], [],
     {"aws:username": "alt", "s3:prefix": "home/alt/x"}, az.UNKNOWN, "Allow"),
    ("policy variable: someone else's home", ALT, LIST, B(), [PREFIX_ONLY], [],
     {"aws:username": "alt", "s3:prefix": "home/bob/x"}, az.UNKNOWN, "Deny"),
    ("existing object tag", ALT, GET, B(), [TAGGED], [],
     {"s3:existingobjecttag/security": "public"}, V(), "Allow"),
    ("existing object tag missing", ALT, GET, B(), [TAGGED], [], {}, V(), "Deny"),
    # ACLs count only without BucketOwnerEnforced.
    ("public-read bucket ACL, enforced ownership", None, LIST, B(acl=PUBLIC_READ), [], [],
     {}, az.UNKNOWN, "Deny"),
    ("public-read bucket ACL", None, LIST, B(acl=PUBLIC_READ, ownership=WRITER), [], [], {},
     az.UNKNOWN, "Allow"),
    ("authenticated-read: anonymous denied", None, LIST,
     B(acl=AUTH_READ, ownership=WRITER), [], [], {}, az.UNKNOWN, "Deny"),
    ("authenticated-read: a user allowed", ALT, LIST, B(acl=AUTH_READ, ownership=WRITER),
     [], [], {}, az.UNKNOWN, "Allow"),
    ("grant to a user id", ALT, GET_BUCKET_ACL,
     B(acl=[Grant("id:" + ALT, "READ_ACP")], ownership=WRITER), [], [], {}, az.UNKNOWN,
     "Allow"),
    ("grant to another user id", THIRD, GET_BUCKET_ACL,
     B(acl=[Grant("id:" + ALT, "FULL_CONTROL")], ownership=WRITER), [], [], {}, az.UNKNOWN,
     "Deny"),
    ("public object ACL", None, GET, B(ownership=WRITER), [], [], {}, V(acl=PUBLIC_READ),
     "Allow"),
    ("object ACL asks for the object", None, GET, B(ownership=WRITER), [], [], {},
     az.UNKNOWN, "NeedObject"),
    ("no such object: anonymous", None, GET, B(ownership=WRITER), [], [], {}, None, "Deny"),
    ("no such object: the bucket owner gets its 404", OWNER, GET, B(ownership=WRITER), [],
     [], {}, None, "Allow"),
    ("object writer owns its object", ALT, GET, B(ownership=WRITER), [], [], {},
     V(owner=ALT), "Allow"),
    ("bucket owner may not read a writer's object", OWNER, GET, B(ownership=WRITER), [], [],
     {}, V(owner=ALT), "Deny"),
    ("...unless the writer granted it", OWNER, GET, B(ownership=WRITER), [], [], {},
     V(owner=ALT, acl=[Grant("id:" + OWNER, "FULL_CONTROL")]), "Allow"),
    ("bucket WRITE grant lets a user upload", ALT, PUT,
     B(acl=[Grant("id:" + ALT, "WRITE")], ownership=WRITER), [], [], {}, az.UNKNOWN,
     "Allow"),
    # Public access block.
    ("IgnorePublicAcls", None, LIST,
     B(acl=PUBLIC_READ, ownership=WRITER, public_access_block=PublicAccessBlock(
         ignore_public_acls=True)), [], [], {}, az.UNKNOWN, "Deny"),
    ("IgnorePublicAcls keeps user grants", ALT, GET_BUCKET_ACL,
     B(acl=[Grant("id:" + ALT, "READ_ACP")], ownership=WRITER,
       public_access_block=PublicAccessBlock(ignore_public_acls=True)), [], [], {},
     az.UNKNOWN, "Allow"),
    ("RestrictPublicBuckets: anonymous", None, GET,
     B(public_access_block=PublicAccessBlock(restrict_public_buckets=True)),
     [ALLOW_GET_ALL], [], {}, az.UNKNOWN, "Deny"),
    ("RestrictPublicBuckets: another user", ALT, GET,
     B(public_access_block=PublicAccessBlock(restrict_public_buckets=True)),
     [ALLOW_GET_ALL], [], {}, az.UNKNOWN, "Deny"),
    ("RestrictPublicBuckets: a non-public policy still applies", ALT, GET,
     B(public_access_block=PublicAccessBlock(restrict_public_buckets=True)),
     [ALLOW_ALT_GET], [], {}, az.UNKNOWN, "Allow"),
]


@pytest.mark.parametrize("row", ROWS, ids=[r[0] for r in ROWS])
def test_decision(row):
    _, who, (action, resource, kind), bucket, statements, ipols, context, obj, want = row
    c = caller(OWNER, root=True) if who == "root" else caller(who, policies=ipols)
    policy = bucket_policy(*statements) if statements else None
    public = policy is not None and is_public(policy)
    target = az.Target(action, resource, kind, context)
    assert az.decide(c, target, bucket, policy, public, obj) == want


def test_acl_modes_other_than_enforce_ignore_grants():
    b = B(acl=PUBLIC_READ, ownership=WRITER)
    target = az.Target(*LIST)
    assert az.decide(caller(None), target, b, acl_mode="enforce") == "Allow"
    for mode in ("record", "ignore"):
        assert az.decide(caller(None), target, b, acl_mode=mode) == "Deny"


def test_arn_condition_with_a_policy_variable():
    """`${aws:userid}` holds a colon of its own: the ARN is still six parts."""
    policy = bucket_policy(st("Allow", "s3:GetObject", condition={
        "ArnLike": {"aws:PrincipalArn": "arn:aws:iam::${aws:userid}:*"}}))
    target = az.Target(*GET, {"aws:userid": ALT, "aws:principalarn":
                              f"arn:aws:iam::{ALT}:user/alt"})
    assert az.decide(caller(ALT), target, B(), policy) == "Allow"
    target.context["aws:principalarn"] = f"arn:aws:iam::{THIRD}:user/x"
    assert az.decide(caller(ALT), target, B(), policy) == "Deny"
