"""ACL rules of the engine: canned ACLs, how an ACL is stored and listed, and object ownership
controls (which ACL writes a bucket accepts, who owns an object).

The stored form of an ACL (the owner's FULL_CONTROL left implicit) is meta/ownership.py's.
The owner keeps every right whatever its ACL says.
"""
from ..meta.bucketconf import Grant
from ..meta import ownership
from ..meta.errors import DomainError, InvalidBucketAclWithObjectOwnership

ENFORCED, PREFERRED, WRITER = ownership.ENFORCED, ownership.PREFERRED, ownership.WRITER
OWNERSHIPS = ownership.OWNERSHIPS
OWNER_WITHHELD = ownership.OWNER_WITHHELD
stored = ownership.stored       # the stored form of an ACL's grants

ALL_USERS = "group:AllUsers"
AUTHENTICATED_USERS = "group:AuthenticatedUsers"
LOG_DELIVERY = "group:LogDelivery"
GROUPS = {ALL_USERS, AUTHENTICATED_USERS, LOG_DELIVERY}
PERMISSIONS = ("FULL_CONTROL", "READ", "WRITE", "READ_ACP", "WRITE_ACP")
# The canonical user AWS's aws-exec-read grants READ (EC2 reading AMI bundles).
EXEC_READ_ID = "6aa5a366c34c1cbe25dc49211496e913e0351eb0e8c37aa3477e40942ec6b97c"

CANNED = ("private", "public-read", "public-read-write", "authenticated-read",
          "aws-exec-read", "bucket-owner-read", "bucket-owner-full-control",
          "log-delivery-write")
BUCKET_OWNER_FULL_CONTROL = "bucket-owner-full-control"


class AccessControlListNotSupported(DomainError):
    """An ACL write on a bucket whose ownership controls disable ACLs."""


class AccessDenied(DomainError):
    """A public ACL on a bucket whose public access block has BlockPublicAcls."""


def canned(name: str, kind: str, owner: str, bucket_owner: str) -> list[Grant]:
    """Every grant of the canned ACL `name` on a resource ("bucket" or "object") owned by
    `owner`, the owner's FULL_CONTROL included (AWS's "Canned ACL" table). The bucket-owner-*
    ACLs mean nothing more than private on a bucket."""
    grants = [Grant("id:" + owner, "FULL_CONTROL")]
    if name == "public-read":
        grants.append(Grant(ALL_USERS, "READ"))
    elif name == "public-read-write":
        grants += [Grant(ALL_USERS, "READ"), Grant(ALL_USERS, "WRITE")]
    elif name == "authenticated-read":
        grants.append(Grant(AUTHENTICATED_USERS, "READ"))
    elif name == "aws-exec-read":
        grants.append(Grant("id:" + EXEC_READ_ID, "READ"))
    elif name == "log-delivery-write":
        grants += [Grant(LOG_DELIVERY, "WRITE"), Grant(LOG_DELIVERY, "READ_ACP")]
    elif kind == "object" and name == "bucket-owner-read" and bucket_owner != owner:
        grants.append(Grant("id:" + bucket_owner, "READ"))
    elif kind == "object" and name == BUCKET_OWNER_FULL_CONTROL and bucket_owner != owner:
        grants.append(Grant("id:" + bucket_owner, "FULL_CONTROL"))
    return grants


def listed(acl: list[Grant] | None, owner: str, inert: bool = False) -> list[Grant]:
    """The grants an ACL lists for a resource owned by `owner` now. `inert`: ACLs are
    disabled (BucketOwnerEnforced, or the server ignores ACLs): the owner's grant only."""
    mine = Grant("id:" + owner, "FULL_CONTROL")
    if acl is None or inert:
        return [mine]
    if OWNER_WITHHELD in acl:
        return [g for g in acl if g != OWNER_WITHHELD]
    # The owner's grant last, as RGW lists it (and the Ceph suite indexes it).
    return [g for g in acl if g != mine] + [mine]


def is_public(grants) -> bool:
    return any(g.grantee in (ALL_USERS, AUTHENTICATED_USERS) for g in grants or ())


def object_owner(bucket, version) -> str:
    """Who owns a version now: the bucket owner under BucketOwnerEnforced (which makes every
    object the bucket owner's, those written before too), else its writer (or the bucket
    owner it was handed to)."""
    return bucket.owner if bucket.ownership == ENFORCED else version.owner


def acls_disabled(bucket) -> bool:
    return bucket.ownership == ENFORCED


def check_write(bucket, grants: list[Grant] | None, canned_name: str | None) -> None:
    """An ACL write (a request that gave an ACL: canned, grant headers or a document whose
    grants are `grants`) on `bucket` or its objects, refused as AWS refuses it: under
    BucketOwnerEnforced anything but bucket-owner-full-control or its equivalent (FULL_CONTROL
    to the bucket owner, nothing else); a public ACL where BlockPublicAcls is on."""
    if acls_disabled(bucket) and canned_name != BUCKET_OWNER_FULL_CONTROL:
        mine = Grant("id:" + bucket.owner, "FULL_CONTROL")
        if canned_name is not None or not grants or any(g != mine for g in grants):
            raise AccessControlListNotSupported("The bucket does not allow ACLs")
    block = bucket.public_access_block
    if block is not None and block.block_public_acls and is_public(grants):
        raise AccessDenied("public ACLs are blocked on this bucket")


def check_create(ownership: str, grants: list[Grant], owner: str) -> None:
    """CreateBucket: BucketOwnerEnforced takes no ACL but private."""
    if ownership == ENFORCED and stored(grants, owner) is not None:
        raise InvalidBucketAclWithObjectOwnership(
            "Bucket cannot have ACLs set with ObjectOwnership's BucketOwnerEnforced setting")
