"""The IAM policy language: parse and validate a document once, evaluate it per request.

`parse(text, kind=...)` checks a document as AWS does (a bucket policy: `kind="bucket"`, which
needs a Principal and S3 actions and resources; an identity policy: `kind="identity"`, which must
not name a Principal) and compiles every pattern, so `evaluate` only compares. An invalid document
raises MalformedPolicy with AWS's message.

`evaluate(policies, principal, action, resource, context)` follows AWS's logic: an applicable
Deny statement anywhere wins ("Deny"); otherwise an applicable Allow gives "Allow"; otherwise
"NoDecision" (the caller turns that into AccessDenied unless an ACL grants). `context` maps
condition keys (any case) to a string or a list of strings; policy variables are read from it
too (`${aws:username}` is the context's aws:username).
"""
import json
import re
from dataclasses import dataclass, field

from .arn import ACTION_KINDS, KNOWN_ACTIONS, PREFIX
from .conditions import Clause, compile_block
from .errors import MalformedPolicy
from .patterns import Pattern, Var

MAX_BUCKET_POLICY = 20 * 1024
VERSIONS = ("2012-10-17", "2008-10-17")
_TOP = {"Version", "Id", "Statement"}
_FIELDS = {"Sid", "Effect", "Principal", "NotPrincipal", "Action", "NotAction", "Resource",
           "NotResource", "Condition"}
_ACTION = re.compile(r"^[A-Za-z0-9-]+:[A-Za-z0-9*?]+$")
_ACCOUNT = re.compile(r"^\d{12}$")
# arn:aws:iam::<account>:root|user/<name>|role/<name>...; s3ish's accounts need not be 12 digits
# (Ceph names tenants, or leaves the account empty), but a principal never has wildcards.
_PRINCIPAL_ARN = re.compile(r"^arn:aws:(iam|sts)::[A-Za-z0-9_.-]*:[^*?]+$")


@dataclass(frozen=True)
class Principal:
    """Who asks: the names a policy's Principal may use for them. `aws` holds the user's ARN and
    its account's root ARN (`arn:aws:iam::<account>:root`); `canonical` the canonical id. The
    anonymous principal has neither and is matched only by `"*"`."""
    aws: frozenset = frozenset()
    canonical: str | None = None


ANONYMOUS = Principal()


@dataclass
class PrincipalSet:
    everyone: bool = False
    aws: set = field(default_factory=set)
    canonical: set = field(default_factory=set)
    other: set = field(default_factory=set)    # Service/Federated: no s3ish caller is one

    def contains(self, who: Principal) -> bool:
        return self.everyone or bool(self.aws and not self.aws.isdisjoint(who.aws)) or (
            who.canonical is not None and who.canonical in self.canonical)


@dataclass
class Statement:
    sid: str | None
    allow: bool
    principals: PrincipalSet | None      # None: no Principal element (identity policy)
    not_principal: bool
    actions: list
    not_action: bool
    resources: list
    not_resource: bool
    conditions: list[Clause]

    def applies(self, who: Principal, action: str, resource: str, ctx: dict) -> bool:
        if self.principals is not None and self.principals.contains(who) == self.not_principal:
            return False
        if any(p.match(action, ctx) for p in self.actions) == self.not_action:
            return False
        if any(p.match(resource, ctx) for p in self.resources) == self.not_resource:
            return False
        return all(t.holds(ctx) for t in self.conditions)


@dataclass
class Policy:
    text: str
    version: str
    id: str | None
    statements: list[Statement]


def parse(text, kind: str = "bucket", bucket: str | None = None,
          max_size: int = MAX_BUCKET_POLICY, principal_exists=None) -> Policy:
    """Validate and compile one document. `bucket`: the bucket a bucket policy is put on (its
    resources must be in it); `principal_exists(name)`: whether an AWS principal is known."""
    if isinstance(text, str):
        text = text.encode()
    doc = _document(text, max_size)
    version, pid = doc.get("Version", "2008-10-17"), doc.get("Id")
    raw = doc["Statement"]
    raw = [raw] if isinstance(raw, dict) else raw
    if not isinstance(raw, list) or not raw:
        raise MalformedPolicy("Could not parse the policy: Statement is not well formatted.")
    statements, sids = [], set()
    for s in raw:
        st = _statement(s, kind, bucket, version == "2012-10-17", principal_exists)
        if st.sid is not None:
            if st.sid in sids:
                raise MalformedPolicy("Statement IDs (SID) in a single policy must be unique")
            sids.add(st.sid)
        statements.append(st)
    return Policy(text.decode(), version, pid, statements)


def _document(text: bytes, max_size: int) -> dict:
    """The JSON object of a document, with its top-level fields checked."""
    if len(text) > max_size:
        raise MalformedPolicy("Policy exceeds the maximum allowed document size.")
    if not text.lstrip()[:1] == b"{":
        raise MalformedPolicy("Policies must be valid JSON and the first byte must be '{'")
    try:
        doc = json.loads(text)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise MalformedPolicy("This policy contains invalid Json") from None
    for name in doc:
        if name not in _TOP:
            raise MalformedPolicy(f"Unknown field {name}")
    if doc.get("Version", "2008-10-17") not in VERSIONS:
        raise MalformedPolicy(f"Invalid policy document version: {doc['Version']}")
    if "Statement" not in doc:
        raise MalformedPolicy("Missing required field Statement")
    if doc.get("Id") is not None and not isinstance(doc["Id"], str):
        raise MalformedPolicy("Id must be a string")
    return doc


def _statement(s, kind, bucket, variables, principal_exists) -> Statement:
    if not isinstance(s, dict):
        raise MalformedPolicy("Could not parse the policy: Statement is not well formatted.")
    for name in s:
        if name not in _FIELDS:
            raise MalformedPolicy(f"Unknown field {name}")
    sid = s.get("Sid")
    if sid is not None and not isinstance(sid, str):
        raise MalformedPolicy("Statement IDs (SID) must be strings")
    if "Effect" not in s:
        raise MalformedPolicy("Missing required field Effect")
    if s["Effect"] not in ("Allow", "Deny"):
        raise MalformedPolicy(f"Invalid effect: {s['Effect']}")
    principals, not_principal = _principal_element(s, kind, principal_exists)
    actions, not_action = _pair(s, "Action")
    resources, not_resource = _pair(s, "Resource")
    for a in actions:
        _check_action(a, kind)
    for r in resources:
        _check_resource(r, kind, bucket)
    if kind == "bucket" and not not_action and not not_resource:
        _check_applies(actions, resources)
    return Statement(
        sid, s["Effect"] == "Allow", principals, not_principal,
        [Pattern(a.casefold()) for a in actions], not_action,
        [Pattern(r, variables=variables) for r in resources], not_resource,
        compile_block(s["Condition"], variables) if "Condition" in s else [])


def _pair(s, name) -> tuple[list[str], bool]:
    """The values of Name or NotName (exactly one of them), as a list of strings."""
    both = [n for n in (name, "Not" + name) if n in s]
    if not both:
        raise MalformedPolicy(f"Missing required field {name}")
    if len(both) == 2:
        raise MalformedPolicy(f"Statement cannot contain both {name} and Not{name}")
    values = s[both[0]]
    values = [values] if isinstance(values, str) else values
    if not isinstance(values, list) or not values or not all(
            isinstance(v, str) and v for v in values):
        raise MalformedPolicy(f"Policy has invalid {name.lower()}")
    return values, both[0] != name


def _check_action(action: str, kind: str) -> None:
    if action == "*":
        return
    if not _ACTION.match(action):
        raise MalformedPolicy("Policy has invalid action")
    if kind == "bucket":
        service, _, name = action.partition(":")
        if service.lower() != "s3" or ("*" not in name and "?" not in name
                                       and action.lower() not in KNOWN_ACTIONS):
            raise MalformedPolicy("Policy has invalid action")


def _check_resource(resource: str, kind: str, bucket: str | None) -> None:
    if resource == "*" and kind != "bucket":
        return
    if kind != "bucket":
        if not resource.startswith("arn:"):
            raise MalformedPolicy(f'Resource {resource} must be in ARN format or "*".')
        return
    if not resource.startswith(PREFIX) or len(resource) == len(PREFIX):
        raise MalformedPolicy("Policy has invalid resource")
    if bucket is not None:
        # A bucket policy speaks only of its own bucket (the bucket part may use wildcards).
        name = resource[len(PREFIX):].split("/", 1)[0]
        if not Pattern(name).match(bucket, {}):
            raise MalformedPolicy("Policy has invalid resource")


def _check_applies(actions: list[str], resources: list[str]) -> None:
    """AWS refuses a statement whose actions can touch none of its resources (object actions on
    bucket ARNs only, or bucket actions on object ARNs only)."""
    kinds = {ACTION_KINDS.get(a.lower(), "any") for a in actions}
    bucket_only = all("/" not in r and not any(c in r for c in "*?$") for r in resources)
    object_only = all("/" in r for r in resources)
    if kinds == {"object"} and bucket_only or kinds == {"bucket"} and object_only:
        raise MalformedPolicy("Action does not apply to any resource(s) in statement")


def _principal_element(s, kind, principal_exists) -> tuple[PrincipalSet | None, bool]:
    both = [n for n in ("Principal", "NotPrincipal") if n in s]
    if kind != "bucket":
        if both:
            raise MalformedPolicy("Policy document should not specify a principal.")
        return None, False
    if not both:
        raise MalformedPolicy("Missing required field Principal")
    if len(both) == 2:
        raise MalformedPolicy("Statement cannot contain both Principal and NotPrincipal")
    if both[0] == "NotPrincipal" and s["Effect"] == "Allow":
        # AWS supports NotPrincipal only to deny everyone but some (Ceph's s3-tests agree).
        raise MalformedPolicy("Invalid principal in policy")
    return _principals(s[both[0]], principal_exists), both[0] == "NotPrincipal"


def _principals(value, principal_exists) -> PrincipalSet:
    out = PrincipalSet()
    if value == "*":
        out.everyone = True
        return out
    if not isinstance(value, dict) or not value:
        raise MalformedPolicy("Invalid principal in policy")
    for kind, names in value.items():
        names = [names] if isinstance(names, str) else names
        if not isinstance(names, list) or not names or not all(
                isinstance(n, str) and n for n in names):
            raise MalformedPolicy("Invalid principal in policy")
        for name in names:
            _add_principal(out, kind, name, principal_exists)
    return out


def _add_principal(out: PrincipalSet, kind: str, name: str, principal_exists) -> None:
    if kind == "AWS":
        if name == "*":
            out.everyone = True
            return
        if _ACCOUNT.match(name):
            name = f"arn:aws:iam::{name}:root"    # an account id names its root
        if not _PRINCIPAL_ARN.match(name) or (
                principal_exists is not None and not principal_exists(name)):
            raise MalformedPolicy("Invalid principal in policy")
        out.aws.add(name)
    elif kind == "CanonicalUser":
        if principal_exists is not None and not principal_exists(name):
            raise MalformedPolicy("Invalid principal in policy")
        out.canonical.add(name)
    elif kind in ("Service", "Federated"):
        out.other.add(name)
    else:
        raise MalformedPolicy("Invalid principal in policy")


# Keys that, compared with fixed values, restrict who can use a grant to known callers: an Allow
# to "*" restricted by one of them is not public ("The meaning of public" in the S3 docs).
_FIXED_KEYS = frozenset({
    "aws:sourceip", "aws:sourcearn", "aws:sourcevpc", "aws:sourcevpce", "aws:sourceaccount",
    "aws:sourceowner", "aws:principalaccount", "aws:principalarn", "aws:principalorgid",
    "aws:userid", "s3:dataaccesspointarn", "s3:dataaccesspointaccount"})
_OPEN_NETS = ("0.0.0.0/0", "::/0")


def is_public(policy: Policy) -> bool:
    """Whether the policy grants anything to everyone (GetBucketPolicyStatus, and what a
    BlockPublicPolicy/RestrictPublicBuckets public access block refuses)."""
    return any(st.allow and st.principals is not None and st.principals.everyone
               and not any(_restricts(c) for c in st.conditions) for st in policy.statements)


def _restricts(clause: Clause) -> bool:
    if clause.key not in _FIXED_KEYS or clause.negated or clause.null or clause.if_exists:
        return False
    if clause.qualifier == "forallvalues":
        return False      # true for a request without the key: no restriction
    if clause.operator == "ipaddress":
        return all(str(net) not in _OPEN_NETS for net in clause.values)
    if clause.operator in ("stringlike", "arnlike", "arnequals"):
        return not any("*" in v.text or "?" in v.text for v in _texts(clause.values))
    return clause.operator in ("stringequals", "stringequalsignorecase")


def _texts(values):
    for v in values:
        yield from (v if isinstance(v, list) else [v])


def lower_context(context: dict | None) -> dict:
    """The request context with lower-case keys (condition keys are case-insensitive)."""
    return {k.lower(): v for k, v in context.items()} if context else {}


def evaluate(policies, principal: Principal, action: str, resource: str,
             context: dict | None = None) -> str:
    """"Deny" if an applicable statement denies, else "Allow" if one allows, else
    "NoDecision". `policies`: compiled Policy objects (bucket and identity policies alike)."""
    ctx = lower_context(context)
    action = action.casefold()
    allowed = False
    for policy in policies:
        for st in policy.statements:
            if (not allowed or not st.allow) and st.applies(principal, action, resource, ctx):
                if not st.allow:
                    return "Deny"
                allowed = True
    return "Allow" if allowed else "NoDecision"


def referenced_keys(policy: Policy) -> frozenset:
    """The context keys (lower case) the policy reads: its conditions' keys and its policy
    variables, so a caller computes only those (an object's existing tags only when asked)."""
    keys = set()
    for st in policy.statements:
        for p in (*st.actions, *st.resources):
            keys |= _variables(p)
        for c in st.conditions:
            keys.add(c.key)
            for v in c.values:
                for p in (v if isinstance(v, list) else [v]):
                    keys |= _variables(p)
    return frozenset(keys)


def _variables(pattern) -> set:
    if not isinstance(pattern, Pattern):
        return set()
    tokens = pattern.tokens or [t for seg in pattern.segments or () for t in seg]
    return {t.key for t in tokens if isinstance(t, Var)}
