"""What every identity mutation does, over a small transaction interface (`IamTx`), like
rules.py for buckets and objects: store-independent and deterministic, so the journal replays
to the same users, keys and policies.

Every identity mutation bumps the store's identity generation (`changed`), which each worker
process polls to know when to reload its cache of users and keys.
"""
import re
from typing import Protocol

from . import iam_errors as errors
from . import iam_records as r
from .records import Outcome

# IAM's user and policy names: letters, digits and +=,.@_- (no spaces), 1 to 64 (128) long.
NAME = re.compile(r"^[\w+=,.@-]{1,64}$", re.ASCII)
CANONICAL = re.compile(r"^[0-9a-f]{64}$")


class IamTx(Protocol):
    def user_by_name(self, name: str) -> r.User | None: ...      # case-insensitive
    def user_by_id(self, user_id: str) -> r.User | None: ...
    def root_user(self) -> r.User | None: ...
    def put_user(self, u: r.User) -> None: ...                    # insert or replace by id
    def delete_user(self, user_id: str) -> None: ...
    def key(self, access_key: str) -> r.AccessKey | None: ...
    def keys_of(self, user_id: str) -> list[r.AccessKey]: ...
    def put_key(self, k: r.AccessKey) -> None: ...                # insert or replace
    def delete_key(self, access_key: str) -> None: ...
    def imported(self, access_key: str) -> bool: ...
    def mark_imported(self, access_key: str) -> None: ...
    # Inline policies and attachments of a user or group (`entity`: its id).
    def inline_policy(self, entity: str, name: str) -> str | None: ...
    def inline_names(self, entity: str) -> list[str]: ...
    def put_inline(self, entity: str, name: str, document: str) -> None: ...
    def delete_inline(self, entity: str, name: str) -> None: ...
    def policy(self, name: str) -> r.ManagedPolicy | None: ...    # case-insensitive
    def put_policy(self, p: r.ManagedPolicy) -> None: ...
    def delete_policy(self, name: str) -> None: ...
    def attached(self, entity: str) -> list[str]: ...             # managed policy names
    def attachments(self, policy_name: str) -> int: ...
    def attach(self, entity: str, policy_name: str) -> None: ...
    def detach(self, entity: str, policy_name: str) -> None: ...
    def group_by_name(self, name: str) -> r.Group | None: ...     # case-insensitive
    def put_group(self, g: r.Group) -> None: ...
    def delete_group(self, group_id: str) -> None: ...
    def members(self, group_id: str) -> list[str]: ...            # user ids
    def groups_of(self, user_id: str) -> list[str]: ...           # group ids
    def add_member(self, group_id: str, user_id: str) -> None: ...
    def remove_member(self, group_id: str, user_id: str) -> None: ...
    def changed(self) -> None: ...                                # bump the generation


def apply(tx: IamTx, m) -> Outcome:
    RULES[type(m)](tx, m)
    tx.changed()
    return Outcome()


def find_user(tx: IamTx, name: str) -> r.User | None:
    """The user named `name`, or whose canonical id it is (Ceph RGW's IAM API takes user ids
    where AWS takes names, and its s3-tests do too)."""
    u = tx.user_by_name(name)
    if u is None and CANONICAL.match(name):
        u = tx.user_by_id(name)
    return u


def _user(tx: IamTx, name: str) -> r.User:
    u = find_user(tx, name)
    if u is None:
        raise errors.NoSuchEntity(f"The user with name {name} cannot be found.")
    return u


def _user_key(tx: IamTx, user_name: str, access_key: str) -> r.AccessKey:
    u = _user(tx, user_name)
    k = tx.key(access_key)
    if k is None or k.user_id != u.user_id:
        raise errors.NoSuchEntity(f"The Access Key with id {access_key} cannot be found.")
    return k


# ---- users ----

def create_user(tx: IamTx, m: r.CreateUser) -> None:
    if tx.user_by_name(m.user.name) is not None or tx.user_by_id(m.user.user_id) is not None:
        raise errors.EntityAlreadyExists(f"User with name {m.user.name} already exists.")
    tx.put_user(m.user)


def update_user(tx: IamTx, m: r.UpdateUser) -> None:
    u = _user(tx, m.name)
    if m.new_name and r.name_key(m.new_name) != r.name_key(u.name):
        if tx.user_by_name(m.new_name) is not None:
            raise errors.EntityAlreadyExists(f"User with name {m.new_name} already exists.")
    if m.new_name:
        u.name = m.new_name
    if m.new_path:
        u.path = m.new_path
    tx.put_user(u)


def delete_user(tx: IamTx, m: r.DeleteUser) -> None:
    u = _user(tx, m.name)
    if u.root:
        raise errors.DeleteConflict("The root user cannot be deleted.")
    if tx.keys_of(u.user_id):
        raise errors.DeleteConflict("Cannot delete entity, must delete access keys first.")
    if tx.inline_names(u.user_id):
        raise errors.DeleteConflict("Cannot delete entity, must delete policies first.")
    if tx.attached(u.user_id):
        raise errors.DeleteConflict("Cannot delete entity, must detach all policies first.")
    if tx.groups_of(u.user_id):
        raise errors.DeleteConflict("Cannot delete entity, must remove users from group "
                                    "first.")
    tx.delete_user(u.user_id)


# ---- access keys ----

def create_access_key(tx: IamTx, m: r.CreateAccessKey) -> None:
    u = _user(tx, m.user_name)
    if tx.key(m.key.access_key) is not None:
        raise errors.EntityAlreadyExists(f"Access key {m.key.access_key} already exists.")
    if len(tx.keys_of(u.user_id)) >= r.MAX_KEYS_PER_USER:
        raise errors.LimitExceeded(
            f"Cannot exceed quota for AccessKeysPerUser: {r.MAX_KEYS_PER_USER}")
    m.key.user_id = u.user_id
    tx.put_key(m.key)


def _not_from_env(k: r.AccessKey) -> None:
    """Root's key from the environment changes only with the environment: disabling or
    deleting it through the API would lock the administrator out until the next start."""
    if k.source == "env":
        raise errors.InvalidInput("The root user's key from S3ISH_ROOT_USER changes only "
                                  "with S3ISH_ROOT_USER / S3ISH_ROOT_PASSWORD.")


def update_access_key(tx: IamTx, m: r.UpdateAccessKey) -> None:
    if m.status not in ("Active", "Inactive"):
        raise ValueError(m.status)
    k = _user_key(tx, m.user_name, m.access_key)
    if m.status == "Inactive":
        _not_from_env(k)
    k.status = m.status
    tx.put_key(k)


def delete_access_key(tx: IamTx, m: r.DeleteAccessKey) -> None:
    k = _user_key(tx, m.user_name, m.access_key)
    _not_from_env(k)
    tx.delete_key(k.access_key)


# ---- policies ----

def put_user_policy(tx: IamTx, m: r.PutUserPolicy) -> None:
    tx.put_inline(_user(tx, m.user_name).user_id, m.policy_name, m.document)


def delete_user_policy(tx: IamTx, m: r.DeleteUserPolicy) -> None:
    _delete_inline(tx, _user(tx, m.user_name).user_id, m.policy_name)


def _policy(tx: IamTx, name: str) -> r.ManagedPolicy:
    p = tx.policy(name)
    if p is None:
        raise errors.NoSuchEntity(f"Policy {name} was not found.")
    return p


def create_policy(tx: IamTx, m: r.CreatePolicy) -> None:
    if tx.policy(m.policy.name) is not None:
        raise errors.EntityAlreadyExists(f"A policy called {m.policy.name} already exists. "
                                         "Duplicate names are not allowed.")
    tx.put_policy(m.policy)


def delete_policy(tx: IamTx, m: r.DeletePolicy) -> None:
    p = _policy(tx, m.name)
    if r.aws_managed(p.name):
        raise errors.InvalidInput("AWS managed policies cannot be deleted.")
    if tx.attachments(p.name):
        raise errors.DeleteConflict("Cannot delete a policy attached to entities.")
    tx.delete_policy(p.name)


def _attach(tx: IamTx, entity: str, policy_name: str) -> None:
    tx.attach(entity, _policy(tx, policy_name).name)


def _detach(tx: IamTx, entity: str, name: str, policy_name: str) -> None:
    p = _policy(tx, policy_name)
    if p.name not in tx.attached(entity):
        raise errors.NoSuchEntity(f"Policy {p.name} is not attached to {name}.")
    tx.detach(entity, p.name)


def _delete_inline(tx: IamTx, entity: str, policy_name: str) -> None:
    if tx.inline_policy(entity, policy_name) is None:
        raise errors.NoSuchEntity(f"The policy with name {policy_name} cannot be found.")
    tx.delete_inline(entity, policy_name)


def attach_user_policy(tx: IamTx, m: r.AttachUserPolicy) -> None:
    _attach(tx, _user(tx, m.user_name).user_id, m.policy_name)


def detach_user_policy(tx: IamTx, m: r.DetachUserPolicy) -> None:
    u = _user(tx, m.user_name)
    _detach(tx, u.user_id, f"user {u.name}", m.policy_name)


# ---- groups ----

def _group(tx: IamTx, name: str) -> r.Group:
    g = tx.group_by_name(name)
    if g is None:
        raise errors.NoSuchEntity(f"The group with name {name} cannot be found.")
    return g


def create_group(tx: IamTx, m: r.CreateGroup) -> None:
    if tx.group_by_name(m.group.name) is not None:
        raise errors.EntityAlreadyExists(f"Group with name {m.group.name} already exists.")
    tx.put_group(m.group)


def update_group(tx: IamTx, m: r.UpdateGroup) -> None:
    g = _group(tx, m.name)
    if m.new_name and r.name_key(m.new_name) != r.name_key(g.name):
        if tx.group_by_name(m.new_name) is not None:
            raise errors.EntityAlreadyExists(f"Group with name {m.new_name} already exists.")
    g.name = m.new_name or g.name
    g.path = m.new_path or g.path
    tx.put_group(g)


def delete_group(tx: IamTx, m: r.DeleteGroup) -> None:
    g = _group(tx, m.name)
    if tx.members(g.group_id):
        raise errors.DeleteConflict("Cannot delete entity, must remove users from group "
                                    "first.")
    if tx.inline_names(g.group_id) or tx.attached(g.group_id):
        raise errors.DeleteConflict("Cannot delete entity, must delete policies first.")
    tx.delete_group(g.group_id)


def add_user_to_group(tx: IamTx, m: r.AddUserToGroup) -> None:
    tx.add_member(_group(tx, m.group_name).group_id, _user(tx, m.user_name).user_id)


def remove_user_from_group(tx: IamTx, m: r.RemoveUserFromGroup) -> None:
    g, u = _group(tx, m.group_name), _user(tx, m.user_name)
    if u.user_id not in tx.members(g.group_id):
        raise errors.NoSuchEntity(f"User {u.name} is not in group {g.name}.")
    tx.remove_member(g.group_id, u.user_id)


def put_group_policy(tx: IamTx, m: r.PutGroupPolicy) -> None:
    tx.put_inline(_group(tx, m.group_name).group_id, m.policy_name, m.document)


def delete_group_policy(tx: IamTx, m: r.DeleteGroupPolicy) -> None:
    _delete_inline(tx, _group(tx, m.group_name).group_id, m.policy_name)


def attach_group_policy(tx: IamTx, m: r.AttachGroupPolicy) -> None:
    _attach(tx, _group(tx, m.group_name).group_id, m.policy_name)


def detach_group_policy(tx: IamTx, m: r.DetachGroupPolicy) -> None:
    g = _group(tx, m.group_name)
    _detach(tx, g.group_id, f"group {g.name}", m.policy_name)


# ---- start-up import (root from the environment, auth-file users) ----

def import_key(tx: IamTx, m: r.ImportKey) -> None:
    k = tx.key(m.access_key)
    if m.source == "env":
        _import_root_key(tx, m, k)
    elif tx.imported(m.access_key):
        if k is not None:       # else deleted through the IAM API: it stays deleted
            _refresh(tx, m, k)
    elif k is not None:
        raise errors.EntityAlreadyExists(f"Access key {m.access_key} already exists.")
    else:
        u = tx.user_by_id(m.user_id) or _new_user(tx, m, root=False)
        tx.put_key(r.AccessKey(m.access_key, u.user_id, m.secret, m.now, source=m.source))
    tx.mark_imported(m.access_key)


def _refresh(tx: IamTx, m: r.ImportKey, k: r.AccessKey) -> None:
    """An imported key seen again: the file (or environment) says what its secret is."""
    if k.secret != m.secret:
        k.secret = m.secret
        tx.put_key(k)
    u = tx.user_by_id(k.user_id)
    if u is not None and (u.display_name, u.email) != (m.display_name, m.email):
        u.display_name, u.email = m.display_name, m.email
        tx.put_user(u)


def _import_root_key(tx: IamTx, m: r.ImportKey, k: r.AccessKey | None) -> None:
    """S3ISH_ROOT_USER's key belongs to the root user; a new one replaces root's earlier
    environment key (the root user, and what it owns, stay)."""
    root = tx.root_user()
    if k is not None and (root is None or k.user_id != root.user_id):
        raise errors.EntityAlreadyExists(
            f"the root access key {m.access_key} is the key of another user")
    if root is None:
        root = _new_user(tx, m, root=True)
    for old in tx.keys_of(root.user_id):
        if old.source == "env" and old.access_key != m.access_key:
            tx.delete_key(old.access_key)
    if k is None:
        tx.put_key(r.AccessKey(m.access_key, root.user_id, m.secret, m.now, source="env"))
    else:
        _refresh(tx, m, k)


def _new_user(tx: IamTx, m: r.ImportKey, root: bool) -> r.User:
    """The user of a key seen for the first time, with the canonical id it had before users
    were stored, and a free IAM name: its display name or access key, if valid."""
    candidates = [m.name, m.access_key, "user-" + m.user_id[:16]]
    name = next(c for c in candidates
                if NAME.match(c) and tx.user_by_name(c) is None)
    u = r.User(m.user_id, name, m.now, display_name=m.display_name, email=m.email, root=root)
    tx.put_user(u)
    return u


RULES = {
    r.CreateUser: create_user, r.UpdateUser: update_user, r.DeleteUser: delete_user,
    r.CreateAccessKey: create_access_key, r.UpdateAccessKey: update_access_key,
    r.DeleteAccessKey: delete_access_key, r.PutUserPolicy: put_user_policy,
    r.DeleteUserPolicy: delete_user_policy, r.CreatePolicy: create_policy,
    r.DeletePolicy: delete_policy, r.AttachUserPolicy: attach_user_policy,
    r.DetachUserPolicy: detach_user_policy, r.ImportKey: import_key,
    r.CreateGroup: create_group, r.UpdateGroup: update_group, r.DeleteGroup: delete_group,
    r.AddUserToGroup: add_user_to_group, r.RemoveUserFromGroup: remove_user_from_group,
    r.PutGroupPolicy: put_group_policy, r.DeleteGroupPolicy: delete_group_policy,
    r.AttachGroupPolicy: attach_group_policy, r.DetachGroupPolicy: detach_group_policy,
}
