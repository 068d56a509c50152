"""Typed identity metadata: users, their access keys, groups, inline and managed identity policies,
and the mutation records that change them (journaled like every other mutation, so users and
keys survive drive loss and `rebuild-index` from the journal).

A user's `user_id` is its canonical id (64 hex digits), stable for the user's life: buckets
and objects name their owner by it, so a key can be rotated without losing anything. Users
imported from the environment (root) or an auth file keep the id their first key gave them
before users were stored (s3.auth.credentials.legacy_owner_id), so existing data keeps its owners.

Names are case-insensitive and unique, as IAM's (`name_key`). Policy documents are stored as
the client sent them; they are validated (iam.policy) before a record is made.
"""
from __future__ import annotations

from dataclasses import dataclass

# Where an access key came from: the IAM API, S3ISH_ROOT_USER, or an --auth-file line.
SOURCES = ("iam", "env", "auth-file")
MAX_KEYS_PER_USER = 2           # IAM's default quota (AccessKeysPerUser)


def name_key(name: str) -> str:
    return name.lower()


@dataclass
class User:
    user_id: str                # canonical id
    name: str                   # IAM user name
    created: float
    path: str = "/"
    display_name: str = ""      # shown as Owner DisplayName ("" : the name)
    email: str = ""             # ACL grants may name the user by email
    root: bool = False          # the administrator (S3ISH_ROOT_USER)


@dataclass
class Group:
    group_id: str
    name: str
    created: float
    path: str = "/"


@dataclass
class AccessKey:
    access_key: str
    user_id: str
    secret: str
    created: float
    status: str = "Active"      # Active | Inactive
    source: str = "iam"


@dataclass
class ManagedPolicy:
    name: str
    policy_id: str
    document: str
    created: float
    path: str = "/"
    description: str = ""
    updated: float = 0.0


# AWS managed policies s3ish knows (their documents as AWS publishes them, minus the actions of
# services s3ish does not have): attachable by ARN (arn:aws:iam::aws:policy/<name>), never
# stored, changed or deleted. Their names carry the prefix "aws:", which no IAM name can.
AWS_MANAGED = {
    "AmazonS3FullAccess": '{"Version":"2012-10-17","Statement":[{"Effect":"Allow",'
                          '"Action":"s3:*","Resource":"*"}]}',
    "AmazonS3ReadOnlyAccess": '{"Version":"2012-10-17","Statement":[{"Effect":"Allow",'
                              '"Action":["s3:Get*","s3:List*","s3:Describe*"],'
                              '"Resource":"*"}]}',
}


def aws_managed(name: str) -> ManagedPolicy | None:
    """The AWS managed policy called `name` ("aws:<name>"), if s3ish knows it."""
    doc = AWS_MANAGED.get(name[4:]) if name.startswith("aws:") else None
    # Created when AWS published them (2015-02-06).
    return ManagedPolicy(name, "ANPA" + name[4:].upper()[:17], doc, 1423248058.0) if doc else None


# ---- mutation records ----

@dataclass
class CreateUser:
    user: User


@dataclass
class UpdateUser:
    name: str
    new_name: str = ""          # "": unchanged
    new_path: str = ""


@dataclass
class DeleteUser:
    name: str


@dataclass
class CreateAccessKey:
    user_name: str
    key: AccessKey              # its user_id is filled in by the rules


@dataclass
class UpdateAccessKey:
    user_name: str
    access_key: str
    status: str


@dataclass
class DeleteAccessKey:
    user_name: str
    access_key: str


@dataclass
class PutUserPolicy:
    user_name: str
    policy_name: str
    document: str


@dataclass
class DeleteUserPolicy:
    user_name: str
    policy_name: str


@dataclass
class CreatePolicy:
    policy: ManagedPolicy


@dataclass
class DeletePolicy:
    name: str


@dataclass
class AttachUserPolicy:
    user_name: str
    policy_name: str


@dataclass
class DetachUserPolicy:
    user_name: str
    policy_name: str


@dataclass
class CreateGroup:
    group: Group


@dataclass
class UpdateGroup:
    name: str
    new_name: str = ""
    new_path: str = ""


@dataclass
class DeleteGroup:
    name: str


@dataclass
class AddUserToGroup:
    group_name: str
    user_name: str


@dataclass
class RemoveUserFromGroup:
    group_name: str
    user_name: str


@dataclass
class PutGroupPolicy:
    group_name: str
    policy_name: str
    document: str


@dataclass
class DeleteGroupPolicy:
    group_name: str
    policy_name: str


@dataclass
class AttachGroupPolicy:
    group_name: str
    policy_name: str


@dataclass
class DetachGroupPolicy:
    group_name: str
    policy_name: str


@dataclass
class ImportKey:
    """A key from the environment (root) or an auth file, at start-up. The first time a key is
    seen its user is made (with `user_id`, the legacy id) or, for root, the key joins the root
    user, replacing root's earlier environment key. Later imports only update the secret, the
    display name and the email; a key deleted through the IAM API is not brought back."""
    access_key: str
    secret: str
    user_id: str
    name: str
    display_name: str
    email: str
    source: str
    now: float


IamMutation = (CreateUser | UpdateUser | DeleteUser | CreateAccessKey | UpdateAccessKey
               | DeleteAccessKey | PutUserPolicy | DeleteUserPolicy | CreatePolicy
               | DeletePolicy | AttachUserPolicy | DetachUserPolicy | ImportKey | CreateGroup
               | UpdateGroup | DeleteGroup | AddUserToGroup | RemoveUserFromGroup | PutGroupPolicy
               | DeleteGroupPolicy | AttachGroupPolicy | DetachGroupPolicy)
