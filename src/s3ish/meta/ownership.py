"""Object ownership controls and the stored form of ACLs, as the metadata rules apply them
at commit (engine/acl.py has the rest of the ACL rules).

Stored form (records' `acl`: a list of `bucketconf.Grant`, None for private): the grants an
ACL lists, except the owner's FULL_CONTROL, which every canned ACL gives and which a listing
shows for whoever owns the resource then. An ACL set explicitly that does not give the owner
FULL_CONTROL keeps the marker `OWNER_WITHHELD` instead, so it lists exactly as it was set.
"""
from .bucketconf import Grant

ENFORCED, PREFERRED, WRITER = "BucketOwnerEnforced", "BucketOwnerPreferred", "ObjectWriter"
OWNERSHIPS = (ENFORCED, PREFERRED, WRITER)
# In a stored ACL: the owner's FULL_CONTROL is not listed (grants no permission itself).
OWNER_WITHHELD = Grant("owner", "NONE")


def stored(grants: list[Grant], owner: str) -> list[Grant] | None:
    """The stored form of an ACL listing `grants` on a resource owned by `owner`."""
    mine = Grant("id:" + owner, "FULL_CONTROL")
    rest = []
    for g in grants:
        if g != mine and g not in rest:
            rest.append(g)
    if mine not in grants:
        return rest + [OWNER_WITHHELD]
    return rest or None


def take_ownership(bucket, version) -> None:
    """At a write's commit: under BucketOwnerEnforced the bucket owner owns the new object
    and its ACL is nothing but that; under BucketOwnerPreferred it owns an object written
    with bucket-owner-full-control (the writer keeps no grant of its own)."""
    if bucket.ownership == ENFORCED:
        version.owner, version.acl = bucket.owner, None
    elif bucket.ownership == PREFERRED and version.owner != bucket.owner and \
            Grant("id:" + bucket.owner, "FULL_CONTROL") in (version.acl or ()):
        version.owner = bucket.owner
        version.acl = stored([g for g in version.acl if g != OWNER_WITHHELD], bucket.owner)
