"""The IAM policy language with no HTTP: validation messages, evaluation (allow, explicit deny,
NotPrincipal/NotAction/NotResource, wildcards, variables, every condition operator with IfExists
and the set qualifiers), and that a compiled policy compiles nothing more when evaluated."""
import json
from datetime import datetime, timezone

import pytest

from s3ish.iam import arn, patterns
from s3ish.iam.errors import MalformedPolicy
from s3ish.iam.policy import ANONYMOUS, Principal, evaluate, is_public, parse

ALICE_ARN = "arn:aws:iam::111111111111:user/alice"
BOB_ARN = "arn:aws:iam::111111111111:user/bob"
ALICE = Principal(frozenset({"arn:aws:iam::111111111111:user/alice",
                             "arn:aws:iam::111111111111:root"}), "c-alice")
BOB = Principal(frozenset({"arn:aws:iam::111111111111:user/bob",
                           "arn:aws:iam::111111111111:root"}), "c-bob")
B = "arn:aws:s3:::b"
OBJ = "arn:aws:s3:::b/home/alice/x.txt"


def doc(*statements, version="2012-10-17"):
    return json.dumps({"Version": version, "Statement": list(statements)})


def st(effect="Allow", principal="*", action="s3:GetObject", resource="arn:aws:s3:::b/*",
       **extra):
    s = {"Effect": effect, "Action": action, "Resource": resource, **extra}
    if principal is not None:
        s["Principal"] = principal
    return s


def decide(statements, who=ALICE, action="s3:GetObject", resource=OBJ, ctx=None,
           version="2012-10-17"):
    return evaluate([parse(doc(*statements, version=version), bucket="b")], who, action,
                    resource, ctx or {})


# --- evaluation: principals, actions, resources ---------------------------------------------

NOT_ALICE = {"Effect": "Deny", "NotPrincipal": {"CanonicalUser": "c-alice"}, "Action": "s3:*",
             "Resource": "arn:aws:s3:::b/*"}

EVAL = [
    ("allow everyone", [st()], ANONYMOUS, "s3:GetObject", OBJ, "Allow"),
    ("AWS * is everyone", [st(principal={"AWS": "*"})], ANONYMOUS, "s3:GetObject", OBJ, "Allow"),
    ("no statement applies", [st(action="s3:PutObject")], ALICE, "s3:GetObject", OBJ,
     "NoDecision"),
    ("explicit deny wins", [st(), st("Deny", principal={"AWS": ALICE_ARN})],
     ALICE, "s3:GetObject", OBJ, "Deny"),
    ("deny for someone else", [st(), st("Deny", principal={"AWS": BOB_ARN})],
     ALICE, "s3:GetObject", OBJ, "Allow"),
    ("tenant account (as Ceph names it)", [st(principal={"AWS": "arn:aws:iam::t1:root"})],
     Principal(frozenset({"arn:aws:iam::t1:root"})), "s3:GetObject", OBJ, "Allow"),
    ("empty account (as Ceph names users)", [st(principal={"AWS": "arn:aws:iam:::user/u"})],
     Principal(frozenset({"arn:aws:iam:::user/u"})), "s3:GetObject", OBJ, "Allow"),
    ("account id names the root", [st(principal={"AWS": "111111111111"})], BOB, "s3:GetObject",
     OBJ, "Allow"),
    ("canonical user", [st(principal={"CanonicalUser": "c-alice"})], ALICE, "s3:GetObject", OBJ,
     "Allow"),
    ("canonical user other", [st(principal={"CanonicalUser": "c-alice"})], BOB, "s3:GetObject",
     OBJ, "NoDecision"),
    ("anonymous not a named user", [st(principal={"AWS": ["arn:aws:iam::111111111111:root"]})],
     ANONYMOUS, "s3:GetObject", OBJ, "NoDecision"),
    ("NotPrincipal deny others", [st(), NOT_ALICE], BOB, "s3:GetObject", OBJ, "Deny"),
    ("NotPrincipal spares the named", [st(), NOT_ALICE], ALICE, "s3:GetObject", OBJ, "Allow"),
    ("action case-insensitive", [st(action="S3:getobject")], ALICE, "s3:GetObject", OBJ, "Allow"),
    ("action wildcard", [st(action="s3:Get*")], ALICE, "s3:GetObjectTagging", OBJ, "Allow"),
    ("action ? wildcard", [st(action="s3:?etObject")], ALICE, "s3:GetObject", OBJ, "Allow"),
    ("action wildcard no match", [st(action="s3:Get*")], ALICE, "s3:PutObject", OBJ, "NoDecision"),
    ("action *", [st(action="*")], ALICE, "s3:DeleteObject", OBJ, "Allow"),
    ("NotAction allows the rest", [{**st(), "NotAction": "s3:DeleteObject", "Action": None}],
     ALICE, "s3:PutObject", OBJ, "Allow"),
    ("NotAction excludes", [{**st(), "NotAction": "s3:Delete*", "Action": None}],
     ALICE, "s3:DeleteObject", OBJ, "NoDecision"),
    ("resource case-sensitive", [st(resource="arn:aws:s3:::b/HOME/*")], ALICE, "s3:GetObject",
     OBJ, "NoDecision"),
    ("resource ? wildcard", [st(resource="arn:aws:s3:::b/home/alic?/x.txt")], ALICE,
     "s3:GetObject", OBJ, "Allow"),
    ("resource * crosses slashes", [st(resource="arn:aws:s3:::b/*.txt")], ALICE, "s3:GetObject",
     OBJ, "Allow"),
    ("bucket resource is not its objects", [st(action="s3:*", resource=B)], ALICE,
     "s3:GetObject", OBJ, "NoDecision"),
    ("NotResource", [{**st(), "NotResource": "arn:aws:s3:::b/private/*", "Resource": None}],
     ALICE, "s3:GetObject", OBJ, "Allow"),
    ("NotResource excludes", [{**st(), "NotResource": "arn:aws:s3:::b/home/*", "Resource": None}],
     ALICE, "s3:GetObject", OBJ, "NoDecision"),
    ("list of resources", [st(resource=["arn:aws:s3:::b/a/*", "arn:aws:s3:::b/home/*"])], ALICE,
     "s3:GetObject", OBJ, "Allow"),
]


def _clean(statements):
    return [{k: v for k, v in s.items() if v is not None} for s in statements]


@pytest.mark.parametrize("name,statements,who,action,resource,expected", EVAL,
                         ids=[e[0] for e in EVAL])
def test_evaluate(name, statements, who, action, resource, expected):
    assert decide(_clean(statements), who, action, resource) == expected


# --- policy variables ------------------------------------------------------------------------

VARIABLES = [
    ("arn:aws:s3:::b/home/${aws:username}/*", {"aws:username": "alice"}, "Allow"),
    ("arn:aws:s3:::b/home/${aws:username}/*", {"aws:username": "bob"}, "NoDecision"),
    ("arn:aws:s3:::b/home/${aws:username}/*", {}, "NoDecision"),       # unresolved: no match
    ("arn:aws:s3:::b/home/${AWS:UserName}/*", {"aws:username": "alice"}, "Allow"),
    ("arn:aws:s3:::b/home/${aws:userid}/*", {"aws:userid": "alice"}, "Allow"),
    ("arn:aws:s3:::b/home/${aws:username, 'alice'}/*", {}, "Allow"),    # default value
    ("arn:aws:s3:::b/home/${aws:username}/*", {"aws:username": "*"}, "NoDecision"),  # literal
    ("arn:aws:s3:::b/home/alice/x${?}txt", {}, "NoDecision"),           # ${?} is a literal ?
    ("arn:aws:s3:::b/home/alice/${*}", {}, "NoDecision"),
]


@pytest.mark.parametrize("resource,ctx,expected", VARIABLES)
def test_variables_in_resources(resource, ctx, expected):
    assert decide([st(resource=resource)], ctx=ctx) == expected


def test_escaped_characters_match_literally():
    statements = [st(resource="arn:aws:s3:::b/a${*}b${?}c${$}")]
    assert decide(statements, resource="arn:aws:s3:::b/a*b?c$") == "Allow"
    assert decide(statements, resource="arn:aws:s3:::b/aXbYc$") == "NoDecision"


def test_variables_are_literal_in_version_2008():
    statements = [st(resource="arn:aws:s3:::b/${aws:username}/*")]
    ctx = {"aws:username": "alice"}
    assert decide(statements, resource="arn:aws:s3:::b/alice/x", ctx=ctx,
                  version="2008-10-17") == "NoDecision"
    assert decide(statements, resource="arn:aws:s3:::b/${aws:username}/x", ctx=ctx,
                  version="2008-10-17") == "Allow"


def test_variable_in_condition_value():
    cond = {"StringLike": {"s3:prefix": ["home/${aws:username}/*", "home/${aws:username}"]}}
    statements = [st(action="s3:ListBucket", resource=B, Condition=cond)]
    ctx = {"aws:username": "alice", "s3:prefix": "home/alice/docs"}
    assert decide(statements, action="s3:ListBucket", resource=B, ctx=ctx) == "Allow"
    ctx["s3:prefix"] = "home/bob/"
    assert decide(statements, action="s3:ListBucket", resource=B, ctx=ctx) == "NoDecision"


# --- conditions ------------------------------------------------------------------------------

CONDITIONS = [
    # operator, key, policy values, request context value (None: absent), holds?
    ("StringEquals", "s3:x-amz-acl", "private", "private", True),
    ("StringEquals", "s3:x-amz-acl", "private", "Private", False),
    ("StringEquals", "s3:x-amz-acl", ["public-read", "private"], "private", True),
    ("StringEquals", "s3:x-amz-acl", "private", None, False),
    ("StringEquals", "s3:x-amz-acl", "pri*", "private", False),       # no wildcards in Equals
    ("StringNotEquals", "s3:x-amz-acl", "private", "public-read", True),
    ("StringNotEquals", "s3:x-amz-acl", ["a", "private"], "private", False),
    ("StringNotEquals", "s3:x-amz-acl", "private", None, True),        # negated: absent holds
    ("StringEqualsIgnoreCase", "s3:x-amz-acl", "PRIVATE", "private", True),
    ("StringNotEqualsIgnoreCase", "s3:x-amz-acl", "PRIVATE", "private", False),
    ("StringNotEqualsIgnoreCase", "s3:x-amz-acl", "PRIVATE", "public-read", True),
    ("StringLike", "s3:prefix", "home/*", "home/alice/", True),
    ("StringLike", "s3:prefix", "home/?", "home/a", True),
    ("StringLike", "s3:prefix", "home/*", "Home/alice", False),
    ("StringNotLike", "s3:prefix", "home/*", "etc/", True),
    ("StringNotLike", "s3:prefix", "home/*", "home/x", False),
    ("NumericEquals", "s3:max-keys", "10", "10", True),
    ("NumericEquals", "s3:max-keys", 10, "10.0", True),
    ("NumericEquals", "s3:max-keys", "10", "abc", False),
    ("NumericNotEquals", "s3:max-keys", "10", "11", True),
    ("NumericNotEquals", "s3:max-keys", "10", None, True),
    ("NumericLessThan", "s3:max-keys", "10", "9", True),
    ("NumericLessThan", "s3:max-keys", "10", "10", False),
    ("NumericLessThanEquals", "s3:max-keys", "10", "10", True),
    ("NumericGreaterThan", "s3:max-keys", "10", "11", True),
    ("NumericGreaterThan", "s3:max-keys", "10", "10", False),
    ("NumericGreaterThanEquals", "s3:max-keys", "10", "10", True),
    ("DateEquals", "aws:CurrentTime", "2026-01-01T00:00:00Z", "2026-01-01T00:00:00+00:00", True),
    ("DateEquals", "aws:CurrentTime", "1767225600", "2026-01-01T00:00:00Z", True),   # epoch
    ("DateNotEquals", "aws:CurrentTime", "2026-01-01", "2026-01-02T00:00:00Z", True),
    ("DateLessThan", "aws:CurrentTime", "2026-01-01T00:00:00Z", "2025-12-31T23:59:59Z", True),
    ("DateLessThan", "aws:CurrentTime", "2026-01-01T00:00:00Z", "2026-01-01T00:00:00Z", False),
    ("DateLessThanEquals", "aws:CurrentTime", "2026-01-01T00:00:00Z", "1767225600", True),
    ("DateGreaterThan", "aws:CurrentTime", "2026-01-01T00:00:00Z", "2026-06-01T00:00:00Z", True),
    ("DateGreaterThanEquals", "aws:CurrentTime", "2026-01-01T01:00:00+01:00",
     "2026-01-01T00:00:00Z", True),
    ("DateGreaterThan", "aws:CurrentTime", "2026-01-01T00:00:00Z", "not a date", False),
    ("Bool", "aws:SecureTransport", "true", "true", True),
    ("Bool", "aws:SecureTransport", True, "TRUE", True),
    ("Bool", "aws:SecureTransport", "false", "true", False),
    ("Bool", "aws:SecureTransport", "false", None, False),
    ("BinaryEquals", "s3:blob", "QmluYXJ5", "QmluYXJ5", True),
    ("BinaryEquals", "s3:blob", "QmluYXJ5", "QmluYXJ6", False),
    ("IpAddress", "aws:SourceIp", "192.168.1.0/24", "192.168.1.77", True),
    ("IpAddress", "aws:SourceIp", "192.168.1.0/24", "192.168.2.1", False),
    ("IpAddress", "aws:SourceIp", ["10.0.0.0/8", "192.168.1.7/32"], "192.168.1.7", True),
    ("IpAddress", "aws:SourceIp", "2001:db8::/32", "2001:db8:1::5", True),
    ("IpAddress", "aws:SourceIp", "2001:db8::/32", "192.168.1.7", False),
    ("IpAddress", "aws:SourceIp", "192.168.1.0/24", None, False),
    ("NotIpAddress", "aws:SourceIp", "192.168.1.0/24", "10.0.0.1", True),
    ("NotIpAddress", "aws:SourceIp", "192.168.1.0/24", "192.168.1.1", False),
    ("NotIpAddress", "aws:SourceIp", "::1/128", "::1", False),
    ("ArnEquals", "aws:SourceArn", "arn:aws:s3:::b", "arn:aws:s3:::b", True),
    ("ArnLike", "aws:SourceArn", "arn:aws:iam::*:user/*", "arn:aws:iam::1:user/alice", True),
    ("ArnLike", "aws:SourceArn", "arn:aws:iam::*:user/*", "arn:aws:iam::1:role/x", False),
    ("ArnLike", "aws:SourceArn", "arn:aws:*:::b", "arn:aws:s3:x:y:b", False),   # per part
    ("ArnNotEquals", "aws:SourceArn", "arn:aws:s3:::b", "arn:aws:s3:::c", True),
    ("ArnNotLike", "aws:SourceArn", "arn:aws:s3:::b*", "arn:aws:s3:::bx", False),
    ("Null", "s3:x-amz-acl", "true", None, True),
    ("Null", "s3:x-amz-acl", "true", "private", False),
    ("Null", "s3:x-amz-acl", "false", "private", True),
    ("Null", "s3:x-amz-acl", "false", None, False),
    ("StringEqualsIfExists", "s3:x-amz-acl", "private", None, True),
    ("StringEqualsIfExists", "s3:x-amz-acl", "private", "public-read", False),
    ("NumericLessThanIfExists", "s3:max-keys", "10", None, True),
    ("NumericLessThanIfExists", "s3:max-keys", "10", "11", False),
    ("IpAddressIfExists", "aws:SourceIp", "10.0.0.0/8", None, True),
    ("DateLessThanIfExists", "aws:CurrentTime", "2026-01-01", None, True),
    ("BoolIfExists", "aws:SecureTransport", "true", "false", False),
    ("ArnLikeIfExists", "aws:SourceArn", "arn:*", None, True),
    ("ForAnyValue:StringEquals", "s3:RequestObjectTagKeys", ["a", "b"], ["x", "b"], True),
    ("ForAnyValue:StringEquals", "s3:RequestObjectTagKeys", ["a", "b"], ["x", "y"], False),
    ("ForAnyValue:StringEquals", "s3:RequestObjectTagKeys", ["a", "b"], None, False),
    ("ForAnyValue:StringNotEquals", "s3:RequestObjectTagKeys", ["a"], ["a", "z"], True),
    ("ForAllValues:StringEquals", "s3:RequestObjectTagKeys", ["a", "b"], ["a", "b"], True),
    ("ForAllValues:StringEquals", "s3:RequestObjectTagKeys", ["a", "b"], ["a", "c"], False),
    ("ForAllValues:StringEquals", "s3:RequestObjectTagKeys", ["a", "b"], None, True),
    ("ForAllValues:StringEquals", "s3:RequestObjectTagKeys", ["a", "b"], [], True),
    ("ForAllValues:StringLike", "s3:RequestObjectTagKeys", ["team-*"], ["team-a", "team-b"], True),
    ("ForAllValues:StringNotEquals", "s3:RequestObjectTagKeys", ["secret"], ["a", "b"], True),
    ("ForAllValues:StringNotEquals", "s3:RequestObjectTagKeys", ["secret"], ["a", "secret"],
     False),
    ("ForAnyValue:StringLikeIfExists", "s3:RequestObjectTagKeys", ["a*"], None, True),
]


@pytest.mark.parametrize("op,key,values,value,holds", CONDITIONS,
                         ids=[f"{c[0]}-{i}" for i, c in enumerate(CONDITIONS)])
def test_condition_operator(op, key, values, value, holds):
    ctx = {} if value is None else {key: value}
    statements = [st(Condition={op: {key: values}})]
    assert decide(statements, ctx=ctx) == ("Allow" if holds else "NoDecision")


def test_dates_in_the_context_may_be_datetimes_or_numbers():
    statements = [st(Condition={"DateLessThan": {"aws:CurrentTime": "2026-01-01T00:00:00Z"}})]
    early = datetime(2025, 12, 31, 23, 0, tzinfo=timezone.utc)
    assert decide(statements, ctx={"aws:CurrentTime": early}) == "Allow"
    assert decide(statements, ctx={"aws:CurrentTime": early.replace(tzinfo=None)}) == "Allow"
    assert decide(statements, ctx={"aws:CurrentTime": 1767225600 + 1}) == "NoDecision"
    assert decide(statements, ctx={"aws:CurrentTime": "2025-12-31T23:59:59.500Z"}) == "Allow"


def test_condition_keys_are_case_insensitive():
    statements = [st(Condition={"stringequals": {"AWS:SourceIP": "1.2.3.4"}})]
    assert decide(statements, ctx={"aws:sourceip": "1.2.3.4"}) == "Allow"


def test_conditions_and_between_keys_and_operators_or_within_values():
    cond = {"StringEquals": {"s3:x-amz-acl": ["private", "bucket-owner-full-control"],
                             "s3:prefix": "p"},
            "IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}
    statements = [st(Condition=cond)]
    good = {"s3:x-amz-acl": "bucket-owner-full-control", "s3:prefix": "p",
            "aws:SourceIp": "10.1.1.1"}
    assert decide(statements, ctx=good) == "Allow"
    for key, bad in (("s3:x-amz-acl", "public-read"), ("s3:prefix", "q"),
                     ("aws:SourceIp", "11.0.0.1")):
        assert decide(statements, ctx={**good, key: bad}) == "NoDecision"


def test_deny_unless_secure_transport():
    deny = st("Deny", action="s3:*", Condition={"Bool": {"aws:SecureTransport": "false"}})
    statements = [st(), deny]
    assert decide(statements, ctx={"aws:SecureTransport": "false"}) == "Deny"
    assert decide(statements, ctx={"aws:SecureTransport": "true"}) == "Allow"


# --- identity policies -----------------------------------------------------------------------

def test_identity_policy_has_no_principal_and_evaluates_for_the_caller():
    policy = parse(doc(st(principal=None, action=["s3:List*", "s3:Get*"], resource="*")),
                   kind="identity")
    assert evaluate([policy], ALICE, "s3:ListBucket", B, {}) == "Allow"
    with pytest.raises(MalformedPolicy, match="should not specify a principal"):
        parse(doc(st()), kind="identity")
    with pytest.raises(MalformedPolicy, match="must be in ARN format"):
        parse(doc(st(principal=None, resource="b/*")), kind="identity")


def test_several_policies_deny_in_any_wins():
    allow = parse(doc(st(principal=None, action="s3:*", resource="*")), kind="identity")
    deny = parse(doc(st("Deny", principal={"AWS": ALICE_ARN})),
                 bucket="b")
    assert evaluate([allow, deny], ALICE, "s3:GetObject", OBJ) == "Deny"
    assert evaluate([allow, deny], BOB, "s3:GetObject", OBJ) == "Allow"


# --- malformed documents ---------------------------------------------------------------------

MALFORMED = [
    ("not json", " [1]", "first byte must be '{'"),
    ("bad json", "{\"Version\": ", "invalid Json"),
    ("deeply nested", '{"Id": ' + "[" * 9000 + "]" * 9000 + "}", "invalid Json"),
    ("too big", "{" + " " * (20 * 1024) + "}", "maximum allowed document size"),
    ("bad version", json.dumps({"Version": "2012-10-18", "Statement": [st()]}), "version"),
    ("no statement", json.dumps({"Version": "2012-10-17"}), "Missing required field Statement"),
    ("empty statement", json.dumps({"Version": "2012-10-17", "Statement": []}),
     "not well formatted"),
    ("unknown top field", json.dumps({"Version": "2012-10-17", "Foo": 1, "Statement": [st()]}),
     "Unknown field Foo"),
    ("unknown field", doc({**st(), "Foo": 1}), "Unknown field Foo"),
    ("no effect", doc({k: v for k, v in st().items() if k != "Effect"}),
     "Missing required field Effect"),
    ("bad effect", doc(st("Permit")), "Invalid effect: Permit"),
    ("no action", doc({k: v for k, v in st().items() if k != "Action"}),
     "Missing required field Action"),
    ("no resource", doc({k: v for k, v in st().items() if k != "Resource"}),
     "Missing required field Resource"),
    ("no principal", doc(st(principal=None)), "Missing required field Principal"),
    ("both Action and NotAction", doc({**st(), "NotAction": "s3:PutObject"}), "both Action"),
    ("unknown s3 action", doc(st(action="s3:GetObjekt")), "Policy has invalid action"),
    ("other service", doc(st(action="iam:CreateUser")), "Policy has invalid action"),
    ("action without service", doc(st(action="GetObject")), "Policy has invalid action"),
    ("empty action list", doc(st(action=[])), "Policy has invalid action"),
    ("resource *", doc(st(resource="*")), "Policy has invalid resource"),
    ("resource not s3", doc(st(resource="arn:aws:sqs:::b")), "Policy has invalid resource"),
    ("resource other bucket", doc(st(resource="arn:aws:s3:::other/*")),
     "Policy has invalid resource"),
    ("object action on bucket", doc(st(resource=B)),
     "Action does not apply to any resource(s) in statement"),
    ("bucket action on objects", doc(st(action="s3:ListBucket")),
     "Action does not apply to any resource(s) in statement"),
    ("principal not a dict", doc(st(principal="alice")), "Invalid principal in policy"),
    ("principal bad kind", doc(st(principal={"Alien": "x"})), "Invalid principal in policy"),
    ("principal bad aws", doc(st(principal={"AWS": "alice"})), "Invalid principal in policy"),
    ("principal wildcard", doc(st(principal={"AWS": "arn:aws:iam::1:user/*"})),
     "Invalid principal in policy"),
    ("allow with NotPrincipal", doc({"Effect": "Allow", "NotPrincipal": {"AWS": "*"},
                                     "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}),
     "Invalid principal in policy"),
    ("principal empty", doc(st(principal={"AWS": []})), "Invalid principal in policy"),
    ("duplicate sid", doc({**st(), "Sid": "a"}, {**st(), "Sid": "a"}), "must be unique"),
    ("unknown operator", doc(st(Condition={"StringEqualz": {"a": "b"}})),
     "Invalid Condition type : StringEqualz"),
    ("bad number", doc(st(Condition={"NumericEquals": {"s3:max-keys": "ten"}})),
     "Invalid Condition value"),
    ("bad date", doc(st(Condition={"DateEquals": {"aws:CurrentTime": "yesterday"}})),
     "Invalid Condition value"),
    ("bad cidr", doc(st(Condition={"IpAddress": {"aws:SourceIp": "300.1.1.1/8"}})),
     "Invalid Condition value"),
    ("bad null", doc(st(Condition={"Null": {"s3:x": "maybe"}})), "Invalid Condition type"),
    ("condition not object", doc(st(Condition=["x"])), "Condition"),
    ("condition value object", doc(st(Condition={"StringEquals": {"a": {"b": 1}}})),
     "Invalid Condition value"),
]


@pytest.mark.parametrize("name,text,message", MALFORMED, ids=[m[0] for m in MALFORMED])
def test_malformed(name, text, message):
    with pytest.raises(MalformedPolicy) as err:
        parse(text, bucket="b")
    assert message in err.value.message


def test_principal_lookup_and_statement_as_object():
    text = json.dumps({"Version": "2012-10-17", "Id": "p", "Statement": st(
        principal={"AWS": [ALICE_ARN]})})
    assert parse(text, bucket="b", principal_exists=lambda name: True).statements
    with pytest.raises(MalformedPolicy, match="Invalid principal in policy"):
        parse(text, bucket="b", principal_exists=lambda name: False)


def test_valid_bucket_policy_shapes():
    text = doc(st(action=["s3:ListBucket", "s3:GetObject"], resource=[B, B + "/*"], Sid="1"),
               st("Deny", principal={"AWS": "*"}, action="s3:*", resource="arn:aws:s3:::b*"),
               version="2008-10-17")
    assert len(parse(text, bucket="b").statements) == 2
    assert parse(doc(st()).encode(), bucket="b").version == "2012-10-17"


PUBLIC = [
    ([st()], True),
    ([st(principal={"AWS": "*"}, action="s3:ListBucket", resource=[B, B + "/*"])], True),
    ([st(principal={"AWS": "arn:aws:iam::t1:root"})], False),
    ([st("Deny")], False),
    ([st(Condition={"IpAddress": {"aws:SourceIp": "10.0.0.0/32"}})], False),
    ([st(Condition={"IpAddress": {"aws:SourceIp": "0.0.0.0/0"}})], True),
    ([st(Condition={"NotIpAddress": {"aws:SourceIp": "10.0.0.0/8"}})], True),
    ([st(Condition={"StringEquals": {"aws:SourceAccount": "111111111111"}})], False),
    ([st(Condition={"StringLike": {"aws:SourceArn": "arn:aws:s3:::*"}})], True),
    ([st(Condition={"ArnEquals": {"aws:SourceArn": "arn:aws:s3:::logs"}})], False),
    ([st(Condition={"StringEqualsIfExists": {"aws:SourceAccount": "1"}})], True),
    ([st(Condition={"StringLike": {"aws:Referer": "http://example.com/*"}})], True),
]


@pytest.mark.parametrize("statements,public", PUBLIC)
def test_is_public(statements, public):
    assert is_public(parse(doc(*statements), bucket="b")) is public


# --- compiled once ---------------------------------------------------------------------------

def test_evaluation_compiles_nothing():
    statements = [st("Allow" if i % 4 else "Deny",
                     principal={"AWS": f"arn:aws:iam::1111111111{i:02}:root"},
                     action=["s3:Get*", "s3:List*"],
                     resource=[f"arn:aws:s3:::b/p{i}/*", "arn:aws:s3:::b/home/${aws:username}/*"],
                     Condition={"StringLike": {"s3:prefix": f"p{i}*"},
                                "IpAddressIfExists": {"aws:SourceIp": "10.0.0.0/8"}})
                  for i in range(19)]
    statements.append(st(resource="arn:aws:s3:::b/*.txt"))
    policy = parse(doc(*statements), bucket="b")
    before = patterns.COMPILED[0]
    ctx = {"aws:username": "alice", "s3:prefix": "p3/x", "aws:SourceIp": "10.2.3.4"}
    for _ in range(50):
        assert evaluate([policy], ALICE, "s3:GetObject", OBJ, ctx) == "Allow"
        assert evaluate([policy], ANONYMOUS, "s3:GetObject", "arn:aws:s3:::b/x.bin",
                        ctx) == "NoDecision"
    assert patterns.COMPILED[0] == before


# --- the operation -> action table -----------------------------------------------------------

def test_every_route_names_its_action():
    from s3ish.s3 import routes
    for route in routes.ROUTES:
        if route.access == "preflight":
            continue        # a CORS preflight is never authorized: it carries no identity
        entry = arn.ACTIONS[route.operation]
        assert entry.action.lower() in arn.KNOWN_ACTIONS
        assert entry.kind in ("service", "bucket", "object")


def test_version_actions_and_arns():
    assert arn.ACTIONS["GetObject"].for_request(None) == "s3:GetObject"
    assert arn.ACTIONS["GetObject"].for_request("v1") == "s3:GetObjectVersion"
    assert arn.ACTIONS["PutObjectTagging"].for_request("v1") == "s3:PutObjectVersionTagging"
    assert arn.ACTIONS["ListObjectVersions"].for_request(None) == "s3:ListBucketVersions"
    assert arn.ACTIONS["PutObjectRetention"].for_request("v1") == "s3:PutObjectRetention"
    assert arn.SOURCE_ACTIONS["CopyObject"].for_request("v1") == "s3:GetObjectVersion"
    assert arn.bucket_arn("b") == B and arn.object_arn("b", "k/1") == "arn:aws:s3:::b/k/1"


def test_patterns_with_variables_match_as_their_substituted_text():
    """The per-request matchers (str pieces, char glob) agree with the precompiled regex of the
    same pattern with the variable's value written in."""
    ctx = {"v": "ab"}
    shapes = ["${v}", "x${v}", "${v}*", "*${v}", "*${v}*", "${v}*${v}", "a*${v}*b", "${v}?",
              "?${v}*", "${v}*?b", "*", "${v}**${v}"]
    values = ["", "ab", "xab", "abab", "aab", "abb", "abxab", "ab?", "abc", "zabz", "axabyb",
              "aab_b", "abxb", "AB"]
    for shape in shapes:
        with_var = patterns.Pattern(shape, variables=True)
        written = patterns.Pattern(shape.replace("${v}", "ab"))
        folded = patterns.Pattern(shape, variables=True, ignore_case=True)
        for value in values:
            assert with_var.match(value, ctx) == written.match(value, {}), (shape, value)
            assert folded.match(value, ctx) == written.match(value.lower(), {}), (shape, value)
