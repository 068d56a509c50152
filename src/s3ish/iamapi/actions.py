"""The IAM actions s3ish answers, each named as the AWS operation: parameters in, the result
element's content out (iamapi/xml.py renders it). Shapes follow botocore's IAM model
(botocore/data/iam/2010-05-08/service-2.json).
"""
from dataclasses import dataclass
from typing import Awaitable, Callable
from urllib.parse import quote

from ..engine.errors import DomainError
from ..engine.iam import check_name
from ..iam import policy as iam_policy
from ..iam.principals import (group_arn, policy_arn, policy_display_name, policy_name_of,
                              root_arn, user_arn)
from .errors import IamError

INLINE_MAX = 2048       # characters (whitespace aside) of a user's inline policy, as IAM
MANAGED_MAX = 6144      # of a managed policy


@dataclass
class Action:
    run: Callable[["Call"], Awaitable[dict | None]]
    kind: str           # the resource it acts on: user(s), group(s), policy, policies
    mutates: bool = False


class Call:
    """One request: the engine's identities, the caller and the form parameters."""

    def __init__(self, identities, caller, params: dict):
        self.ids = identities
        self.caller = caller
        self.params = params

    def req(self, name: str) -> str:
        value = self.params.get(name)
        if not value:
            raise IamError("ValidationError", "1 validation error detected: Value null at "
                           f"'{name[0].lower() + name[1:]}' failed to satisfy constraint: "
                           "Member must not be null")
        return value

    def opt(self, name: str, default: str = "") -> str:
        return self.params.get(name) or default

    def user_name(self) -> str:
        """UserName, or the caller's own name (IAM's default for key operations)."""
        return self.params.get("UserName") or self.caller.user_name

    def policy_name(self) -> str:
        arn = self.req("PolicyArn")
        name = policy_name_of(arn)
        if name is None:
            raise IamError("NoSuchEntity", f"Policy {arn} does not exist or is not "
                           "attachable.", 404)
        return name

    async def resource(self, action: Action) -> str:
        if action.kind == "users":
            return user_arn("*")
        if action.kind == "policies":
            return policy_arn("*")
        if action.kind in ("roles", "oidc"):
            return "*"
        if action.kind == "groups":
            return group_arn("*")
        if action.kind == "group":
            name = self.params.get("GroupName", "")
            try:
                g, _ = await self.ids.get_group(name)
            except DomainError:
                return group_arn(name, self.opt("Path", "/"))
            return group_arn(g.name, g.path)
        if action.kind == "policy":
            return self.params.get("PolicyArn") or policy_arn(
                self.params.get("PolicyName", ""), self.opt("Path", "/"))
        name = self.user_name()
        try:
            u = await self.ids.get_user(name)
        except DomainError:      # not there (yet): the ARN it would have
            return user_arn(name, self.opt("Path", "/"))
        return root_arn() if u.root else user_arn(u.name, u.path)

    def page(self, items: list, key) -> tuple[list, bool, str | None]:
        """IAM's Marker/MaxItems paging: (this page, more after it?, the next Marker)."""
        try:
            limit = int(self.opt("MaxItems", "100"))
        except ValueError:
            limit = 0
        if not 1 <= limit <= 1000:
            raise IamError("ValidationError", "MaxItems must be between 1 and 1000")
        marker = self.params.get("Marker")
        if marker:
            items = [i for i in items if key(i) > marker]
        more = len(items) > limit
        items = items[:limit]
        return items, more, key(items[-1]) if more else None


def _user(u) -> dict:
    return {"Path": u.path, "UserName": u.name, "UserId": u.user_id,
            "Arn": root_arn() if u.root else user_arn(u.name, u.path), "CreateDate": u.created}


def _key(k, user_name: str, secret: bool = False) -> dict:
    return {"UserName": user_name, "AccessKeyId": k.access_key, "Status": k.status,
            "SecretAccessKey": k.secret if secret else None, "CreateDate": k.created}


def _policy(p, attachments: int) -> dict:
    return {"PolicyName": policy_display_name(p.name), "PolicyId": p.policy_id,
            "Arn": policy_arn(p.name, p.path),
            "Path": p.path, "DefaultVersionId": "v1", "AttachmentCount": attachments,
            "PermissionsBoundaryUsageCount": 0, "IsAttachable": True,
            "Description": p.description or None, "CreateDate": p.created,
            "UpdateDate": p.updated or p.created}


def _document(c: Call, limit: int, name_param: str = "PolicyName") -> str:
    """The request's policy document, checked as IAM checks it (MalformedPolicy ->
    MalformedPolicyDocument at the error boundary), after the policy's name."""
    check_name(c.req(name_param), "policyName", 128)
    text = c.req("PolicyDocument")
    if sum(not c.isspace() for c in text) > limit:
        raise IamError("LimitExceeded", f"Maximum policy size of {limit} bytes exceeded.",
                       409)
    iam_policy.parse(text, kind="identity", max_size=1 << 20)
    return text


# ---- users ----

async def create_user(c: Call):
    u = await c.ids.create_user(c.req("UserName"), c.opt("Path", "/"))
    return {"User": _user(u)}


async def get_user(c: Call):
    return {"User": _user(await c.ids.get_user(c.user_name()))}


async def list_users(c: Call):
    users = await c.ids.list_users(c.opt("PathPrefix", "/"))
    users, more, marker = c.page(users, lambda u: u.name.lower())
    return {"Users": [_user(u) for u in users], "IsTruncated": more, "Marker": marker}


async def update_user(c: Call):
    await c.ids.update_user(c.req("UserName"), c.opt("NewUserName"), c.opt("NewPath"))


async def delete_user(c: Call):
    await c.ids.delete_user(c.req("UserName"))


# ---- access keys ----

async def create_access_key(c: Call):
    name = c.user_name()
    u = await c.ids.get_user(name)
    return {"AccessKey": _key(await c.ids.create_access_key(name), u.name, secret=True)}


async def list_access_keys(c: Call):
    u = await c.ids.get_user(c.user_name())
    keys = await c.ids.list_access_keys(u.name)
    keys, more, marker = c.page(keys, lambda k: k.access_key)
    return {"AccessKeyMetadata": [_key(k, u.name) for k in keys], "IsTruncated": more,
            "Marker": marker}


async def update_access_key(c: Call):
    await c.ids.update_access_key(c.user_name(), c.req("AccessKeyId"), c.req("Status"))


async def delete_access_key(c: Call):
    await c.ids.delete_access_key(c.user_name(), c.req("AccessKeyId"))


# ---- inline user policies ----

async def put_user_policy(c: Call):
    doc = _document(c, INLINE_MAX)
    await c.ids.put_user_policy(c.req("UserName"), c.req("PolicyName"), doc)


async def get_user_policy(c: Call):
    u = await c.ids.get_user(c.req("UserName"))
    doc = await c.ids.get_user_policy(u.name, c.req("PolicyName"))
    # IAM sends documents URL-encoded (the SDKs decode them).
    return {"UserName": u.name, "PolicyName": c.req("PolicyName"),
            "PolicyDocument": quote(doc, safe="")}


async def delete_user_policy(c: Call):
    await c.ids.delete_user_policy(c.req("UserName"), c.req("PolicyName"))


async def list_user_policies(c: Call):
    names = await c.ids.user_policy_names(c.req("UserName"))
    names, more, marker = c.page(names, lambda n: n)
    return {"PolicyNames": names, "IsTruncated": more, "Marker": marker}


# ---- managed policies ----

async def create_policy(c: Call):
    doc = _document(c, MANAGED_MAX)
    p = await c.ids.create_policy(c.req("PolicyName"), doc, c.opt("Path", "/"),
                                  c.opt("Description"))
    return {"Policy": _policy(p, 0)}


async def get_policy(c: Call):
    p, n = await c.ids.get_policy(c.policy_name())
    return {"Policy": _policy(p, n)}


async def get_policy_version(c: Call):
    p, _ = await c.ids.get_policy(c.policy_name())
    if c.req("VersionId") != "v1":
        raise IamError("NoSuchEntity", f"Policy {c.req('PolicyArn')} version "
                       f"{c.req('VersionId')} does not exist.", 404)
    return {"PolicyVersion": {"Document": quote(p.document, safe=""), "VersionId": "v1",
                              "IsDefaultVersion": True, "CreateDate": p.created}}


async def list_policies(c: Call):
    scope = c.opt("Scope", "All")
    found = [(p, n) for p, n in await c.ids.list_policies(c.opt("PathPrefix", "/"),
                                                          c.opt("OnlyAttached") == "true")
             if scope == "All" or (scope == "AWS") == p.name.startswith("aws:")]
    found, more, marker = c.page(found, lambda pc: pc[0].name.lower())
    return {"Policies": [_policy(p, n) for p, n in found], "IsTruncated": more,
            "Marker": marker}


async def delete_policy(c: Call):
    await c.ids.delete_policy(c.policy_name())


async def attach_user_policy(c: Call):
    await c.ids.attach_user_policy(c.req("UserName"), c.policy_name())


async def detach_user_policy(c: Call):
    await c.ids.detach_user_policy(c.req("UserName"), c.policy_name())


async def list_attached_user_policies(c: Call):
    found = await c.ids.attached_policies(c.req("UserName"))
    found = [p for p in found if p is not None and p.path.startswith(c.opt("PathPrefix", "/"))]
    found, more, marker = c.page(found, lambda p: p.name.lower())
    return {"AttachedPolicies": attached(found), "IsTruncated": more, "Marker": marker}


def attached(policies) -> list[dict]:
    return [{"PolicyName": policy_display_name(p.name), "PolicyArn": policy_arn(p.name, p.path)}
            for p in policies]


async def list_roles(c: Call):
    """s3ish has users and groups but no roles (CreateRole is not implemented): the list is
    always empty. Tools that clean an account up (Ceph's s3-tests) list roles first."""
    c.page([], lambda x: x)         # the paging parameters are still checked
    return {"Roles": [], "IsTruncated": False}


async def list_open_id_connect_providers(c: Call):
    return {"OpenIDConnectProviderList": []}    # no web identity federation either


def _a(run, kind, mutates=False) -> Action:
    return Action(run, kind, mutates)


ACTIONS = {
    "CreateUser": _a(create_user, "user", True), "GetUser": _a(get_user, "user"),
    "ListUsers": _a(list_users, "users"), "UpdateUser": _a(update_user, "user", True),
    "DeleteUser": _a(delete_user, "user", True),
    "CreateAccessKey": _a(create_access_key, "user", True),
    "ListAccessKeys": _a(list_access_keys, "user"),
    "UpdateAccessKey": _a(update_access_key, "user", True),
    "DeleteAccessKey": _a(delete_access_key, "user", True),
    "PutUserPolicy": _a(put_user_policy, "user", True),
    "GetUserPolicy": _a(get_user_policy, "user"),
    "DeleteUserPolicy": _a(delete_user_policy, "user", True),
    "ListUserPolicies": _a(list_user_policies, "user"),
    "CreatePolicy": _a(create_policy, "policy", True), "GetPolicy": _a(get_policy, "policy"),
    "GetPolicyVersion": _a(get_policy_version, "policy"),
    "ListPolicies": _a(list_policies, "policies"),
    "DeletePolicy": _a(delete_policy, "policy", True),
    "AttachUserPolicy": _a(attach_user_policy, "user", True),
    "DetachUserPolicy": _a(detach_user_policy, "user", True),
    "ListAttachedUserPolicies": _a(list_attached_user_policies, "user"),
    "ListRoles": _a(list_roles, "roles"),
    "ListOpenIDConnectProviders": _a(list_open_id_connect_providers, "oidc"),
}
