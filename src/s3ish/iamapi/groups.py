"""The IAM group actions: groups of users whose inline and attached policies apply to every
member (registered in actions.ACTIONS)."""
from urllib.parse import quote

from ..iam.principals import group_arn
from ..meta import iam_records as r
from .actions import INLINE_MAX, Action, Call, _document, _user, attached


def _group(g) -> dict:
    return {"Path": g.path, "GroupName": g.name, "GroupId": g.group_id,
            "Arn": group_arn(g.name, g.path), "CreateDate": g.created}


async def create_group(c: Call):
    return {"Group": _group(await c.ids.create_group(c.req("GroupName"), c.opt("Path", "/")))}


async def get_group(c: Call):
    g, users = await c.ids.get_group(c.req("GroupName"))
    users, more, marker = c.page(users, lambda u: u.name.lower())
    return {"Group": _group(g), "Users": [_user(u) for u in users], "IsTruncated": more,
            "Marker": marker}


async def list_groups(c: Call):
    groups, more, marker = c.page(await c.ids.list_groups(c.opt("PathPrefix", "/")),
                                  lambda g: g.name.lower())
    return {"Groups": [_group(g) for g in groups], "IsTruncated": more, "Marker": marker}


async def list_groups_for_user(c: Call):
    groups, more, marker = c.page(await c.ids.groups_for_user(c.req("UserName")),
                                  lambda g: g.name.lower())
    return {"Groups": [_group(g) for g in groups], "IsTruncated": more, "Marker": marker}


async def update_group(c: Call):
    await c.ids.update_group(c.req("GroupName"), c.opt("NewGroupName"), c.opt("NewPath"))


async def delete_group(c: Call):
    await c.ids.change_group(r.DeleteGroup(c.req("GroupName")))


async def add_user_to_group(c: Call):
    await c.ids.change_group(r.AddUserToGroup(c.req("GroupName"), c.req("UserName")))


async def remove_user_from_group(c: Call):
    await c.ids.change_group(r.RemoveUserFromGroup(c.req("GroupName"), c.req("UserName")))


async def put_group_policy(c: Call):
    doc = _document(c, INLINE_MAX * 5 // 2)     # IAM: 5120 characters per group
    await c.ids.put_group_policy(c.req("GroupName"), c.req("PolicyName"), doc)


async def get_group_policy(c: Call):
    g, _ = await c.ids.get_group(c.req("GroupName"))
    doc = await c.ids.get_group_policy(g.name, c.req("PolicyName"))
    return {"GroupName": g.name, "PolicyName": c.req("PolicyName"),
            "PolicyDocument": quote(doc, safe="")}


async def delete_group_policy(c: Call):
    await c.ids.change_group(r.DeleteGroupPolicy(c.req("GroupName"), c.req("PolicyName")))


async def list_group_policies(c: Call):
    names, more, marker = c.page(await c.ids.group_policy_names(c.req("GroupName")),
                                 lambda n: n)
    return {"PolicyNames": names, "IsTruncated": more, "Marker": marker}


async def attach_group_policy(c: Call):
    await c.ids.change_group(r.AttachGroupPolicy(c.req("GroupName"), c.policy_name()))


async def detach_group_policy(c: Call):
    await c.ids.change_group(r.DetachGroupPolicy(c.req("GroupName"), c.policy_name()))


async def list_attached_group_policies(c: Call):
    found = [p for p in await c.ids.group_attached_policies(c.req("GroupName"))
             if p is not None and p.path.startswith(c.opt("PathPrefix", "/"))]
    found, more, marker = c.page(found, lambda p: p.name.lower())
    return {"AttachedPolicies": attached(found), "IsTruncated": more, "Marker": marker}


ACTIONS = {
    "CreateGroup": Action(create_group, "group", True), "GetGroup": Action(get_group, "group"),
    "ListGroups": Action(list_groups, "groups"),
    "ListGroupsForUser": Action(list_groups_for_user, "user"),
    "UpdateGroup": Action(update_group, "group", True),
    "DeleteGroup": Action(delete_group, "group", True),
    "AddUserToGroup": Action(add_user_to_group, "group", True),
    "RemoveUserFromGroup": Action(remove_user_from_group, "group", True),
    "PutGroupPolicy": Action(put_group_policy, "group", True),
    "GetGroupPolicy": Action(get_group_policy, "group"),
    "DeleteGroupPolicy": Action(delete_group_policy, "group", True),
    "ListGroupPolicies": Action(list_group_policies, "group"),
    "AttachGroupPolicy": Action(attach_group_policy, "group", True),
    "DetachGroupPolicy": Action(detach_group_policy, "group", True),
    "ListAttachedGroupPolicies": Action(list_attached_group_policies, "group"),
}
