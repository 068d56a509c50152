"""Identities: users, access keys and identity policies, kept in the metadata store.

The operations the IAM API (and start-up import) need, in domain terms: names and paths
checked as IAM checks them, access keys and secrets generated here, every change one
journaled mutation (meta/iam_records.py, decided by meta/iam_rules.py). Policy documents
arrive validated (iam.policy, above this layer); they are stored as sent.
"""
import secrets
import string
import time

from ..meta import iam_errors as errors
from ..meta import iam_records as r
from ..meta.iam_rules import NAME, find_user

_UPPER = string.ascii_uppercase + string.digits
_SECRET = string.ascii_letters + string.digits + "+/"
_POLICY_NAME_MAX = 128


def _token(alphabet: str, n: int) -> str:
    return "".join(secrets.choice(alphabet) for _ in range(n))


def new_access_key() -> str:
    return "AKIA" + _token(_UPPER, 16)


def check_name(name: str, what: str = "userName", limit: int = 64) -> None:
    if not name or len(name) > limit or not NAME.match(name[:64]) or (
            len(name) > 64 and not NAME.match(name[64:])):
        raise errors.ValidationError(
            f"The specified value for {what} is invalid. It must contain only alphanumeric "
            "characters and/or the following: +=,.@_-")


def check_path(path: str) -> None:
    if not (path.startswith("/") and path.endswith("/")) or len(path) > 512 or any(
            not 0x21 <= ord(c) <= 0x7e for c in path):
        raise errors.ValidationError("The specified value for path is invalid. It must begin "
                                     "and end with / and contain only printable ASCII "
                                     "characters.")


class Identities:
    """Over a MetaStore with the identity reads (meta/sqlite_iam.IamStoreMixin)."""

    def __init__(self, meta):
        self.meta = meta

    # ---- reads ----
    async def generation(self) -> int:
        return await self.meta.iam_generation()

    async def snapshot(self) -> dict:
        return await self.meta.iam_snapshot()

    async def get_user(self, name: str) -> r.User:
        u = await self.meta.iam_read(find_user, name)
        if u is None:
            raise errors.NoSuchEntity(f"The user with name {name} cannot be found.")
        return u

    async def list_users(self, path_prefix: str = "/") -> list[r.User]:
        """Every user but root whose path starts with the prefix, by name (case-insensitive),
        as IAM lists them."""
        snap = await self.snapshot()
        users = [u for u in snap["users"] if not u.root and u.path.startswith(path_prefix)]
        return sorted(users, key=lambda u: r.name_key(u.name))

    async def list_access_keys(self, user_name: str) -> list[r.AccessKey]:
        u = await self.get_user(user_name)
        return await self.meta.iam_read(lambda tx: tx.keys_of(u.user_id))

    async def user_policy_names(self, user_name: str) -> list[str]:
        u = await self.get_user(user_name)
        return await self.meta.iam_read(lambda tx: tx.inline_names(u.user_id))

    async def get_user_policy(self, user_name: str, policy_name: str) -> str:
        u = await self.get_user(user_name)
        doc = await self.meta.iam_read(lambda tx: tx.inline_policy(u.user_id, policy_name))
        if doc is None:
            raise errors.NoSuchEntity(f"The user policy with name {policy_name} cannot be "
                                      "found.")
        return doc

    async def get_policy(self, name: str) -> tuple[r.ManagedPolicy, int]:
        """The managed policy and how many users it is attached to."""
        def q(tx):
            p = tx.policy(name)
            return p, tx.attachments(p.name) if p else 0
        p, n = await self.meta.iam_read(q)
        if p is None:
            raise errors.NoSuchEntity(f"Policy {name} was not found.")
        return p, n

    async def list_policies(self, path_prefix: str = "/",
                            only_attached: bool = False) -> list[tuple[r.ManagedPolicy, int]]:
        snap = await self.snapshot()
        counts: dict[str, int] = {}
        for names in snap["attached"].values():
            for n in names:
                counts[n] = counts.get(n, 0) + 1
        found = [(p, counts.get(p.name, 0)) for p in snap["policies"].values()
                 if p.path.startswith(path_prefix) and (counts.get(p.name) or not only_attached)]
        return sorted(found, key=lambda pc: r.name_key(pc[0].name))

    async def attached_policies(self, user_name: str) -> list[r.ManagedPolicy]:
        u = await self.get_user(user_name)
        return await self.meta.iam_read(
            lambda tx: [tx.policy(n) for n in tx.attached(u.user_id)])

    # ---- users ----
    async def create_user(self, name: str, path: str = "/") -> r.User:
        check_name(name)
        check_path(path)
        u = r.User(secrets.token_hex(32), name, time.time(), path=path)
        await self.meta.apply(r.CreateUser(u))
        return u

    async def update_user(self, name: str, new_name: str = "", new_path: str = "") -> None:
        if new_name:
            check_name(new_name, "newUserName")
        if new_path:
            check_path(new_path)
        await self.meta.apply(r.UpdateUser(name, new_name, new_path))

    async def delete_user(self, name: str) -> None:
        await self.meta.apply(r.DeleteUser(name))

    # ---- access keys ----
    async def create_access_key(self, user_name: str) -> r.AccessKey:
        key = r.AccessKey(new_access_key(), "", _token(_SECRET, 40), time.time())
        m = r.CreateAccessKey(user_name, key)
        await self.meta.apply(m)
        return m.key

    async def update_access_key(self, user_name: str, access_key: str, status: str) -> None:
        if status not in ("Active", "Inactive"):
            raise errors.ValidationError(f"Value '{status}' at 'status' failed to satisfy "
                                         "constraint: Member must satisfy enum value set: "
                                         "[Active, Inactive]")
        await self.meta.apply(r.UpdateAccessKey(user_name, access_key, status))

    async def delete_access_key(self, user_name: str, access_key: str) -> None:
        await self.meta.apply(r.DeleteAccessKey(user_name, access_key))

    # ---- policies (documents validated by the caller) ----
    async def put_user_policy(self, user_name: str, policy_name: str, document: str) -> None:
        check_name(policy_name, "policyName", _POLICY_NAME_MAX)
        await self.meta.apply(r.PutUserPolicy(user_name, policy_name, document))

    async def delete_user_policy(self, user_name: str, policy_name: str) -> None:
        await self.meta.apply(r.DeleteUserPolicy(user_name, policy_name))

    async def create_policy(self, name: str, document: str, path: str = "/",
                            description: str = "") -> r.ManagedPolicy:
        check_name(name, "policyName", _POLICY_NAME_MAX)
        check_path(path)
        now = time.time()
        p = r.ManagedPolicy(name, "ANPA" + _token(_UPPER, 17), document, now, path,
                            description, now)
        await self.meta.apply(r.CreatePolicy(p))
        return p

    async def delete_policy(self, name: str) -> None:
        await self.meta.apply(r.DeletePolicy(name))

    async def attach_user_policy(self, user_name: str, policy_name: str) -> None:
        await self.meta.apply(r.AttachUserPolicy(user_name, policy_name))

    async def detach_user_policy(self, user_name: str, policy_name: str) -> None:
        await self.meta.apply(r.DetachUserPolicy(user_name, policy_name))

    # ---- groups ----
    async def get_group(self, name: str) -> tuple[r.Group, list[r.User]]:
        """The group and its members."""
        def q(tx):
            g = tx.group_by_name(name)
            return (g, [tx.user_by_id(u) for u in tx.members(g.group_id)]) if g else (g, [])
        g, users = await self.meta.iam_read(q)
        if g is None:
            raise errors.NoSuchEntity(f"The group with name {name} cannot be found.")
        return g, sorted((u for u in users if u), key=lambda u: r.name_key(u.name))

    async def list_groups(self, path_prefix: str = "/") -> list[r.Group]:
        snap = await self.snapshot()
        return sorted((g for g in snap["groups"] if g.path.startswith(path_prefix)),
                      key=lambda g: r.name_key(g.name))

    async def groups_for_user(self, user_name: str) -> list[r.Group]:
        u = await self.get_user(user_name)
        snap = await self.snapshot()
        mine = set(snap["members"].get(u.user_id, []))
        return sorted((g for g in snap["groups"] if g.group_id in mine),
                      key=lambda g: r.name_key(g.name))

    async def group_policy_names(self, group_name: str) -> list[str]:
        g, _ = await self.get_group(group_name)
        return await self.meta.iam_read(lambda tx: tx.inline_names(g.group_id))

    async def get_group_policy(self, group_name: str, policy_name: str) -> str:
        g, _ = await self.get_group(group_name)
        doc = await self.meta.iam_read(lambda tx: tx.inline_policy(g.group_id, policy_name))
        if doc is None:
            raise errors.NoSuchEntity(f"The group policy with name {policy_name} cannot be "
                                      "found.")
        return doc

    async def group_attached_policies(self, group_name: str) -> list[r.ManagedPolicy]:
        g, _ = await self.get_group(group_name)
        return await self.meta.iam_read(
            lambda tx: [tx.policy(n) for n in tx.attached(g.group_id)])

    async def create_group(self, name: str, path: str = "/") -> r.Group:
        check_name(name, "groupName", 128)
        check_path(path)
        g = r.Group("AGPA" + _token(_UPPER, 17), name, time.time(), path)
        await self.meta.apply(r.CreateGroup(g))
        return g

    async def update_group(self, name: str, new_name: str = "", new_path: str = "") -> None:
        if new_name:
            check_name(new_name, "newGroupName", 128)
        if new_path:
            check_path(new_path)
        await self.meta.apply(r.UpdateGroup(name, new_name, new_path))

    async def change_group(self, mutation) -> None:
        """DeleteGroup, AddUserToGroup, RemoveUserFromGroup, DeleteGroupPolicy,
        Attach/DetachGroupPolicy: no input of their own to check."""
        await self.meta.apply(mutation)

    async def put_group_policy(self, group_name: str, policy_name: str, document: str) -> None:
        check_name(policy_name, "policyName", _POLICY_NAME_MAX)
        await self.meta.apply(r.PutGroupPolicy(group_name, policy_name, document))

    # ---- start-up import ----
    async def import_key(self, access_key: str, secret: str, user_id: str, name: str,
                         display_name: str, email: str, source: str) -> bool:
        """Import a key from the environment (source "env": root) or an auth file; a no-op
        (nothing journaled) when the store already holds it as given. Returns whether
        anything changed."""
        m = r.ImportKey(access_key, secret, user_id, name, display_name, email, source,
                        time.time())
        if await self.meta.iam_read(_import_is_noop, m):
            return False
        await self.meta.apply(m)
        return True


def _import_is_noop(tx, m: r.ImportKey) -> bool:
    k = tx.key(m.access_key)
    if not tx.imported(m.access_key):
        return False
    if k is None:
        return m.source != "env"        # deleted through IAM: stays so (root's comes back)
    u = tx.user_by_id(k.user_id)
    if m.source == "env" and (u is None or not u.root or any(
            o.source == "env" and o.access_key != m.access_key
            for o in tx.keys_of(u.user_id))):
        return False
    return k.secret == m.secret and u is not None and (u.display_name, u.email) == (
        m.display_name, m.email)
