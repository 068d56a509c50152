"""ACL evaluation: which permission an IAM action needs and whether a set of grants gives it.

As AWS documents ("Access control list (ACL) overview", "Mapping of ACL permissions and access
policy permissions"): on a bucket, READ lets a grantee list it, WRITE create, overwrite and
delete its objects, READ_ACP/WRITE_ACP read/write its ACL; on an object, READ lets a grantee
read the object (and HEAD it), READ_ACP/WRITE_ACP read/write its ACL. FULL_CONTROL is all four.
The owner of a resource always has FULL_CONTROL over it, whatever its grants say.

Grants are the records' `bucketconf.Grant`s (grantee "id:<canonical id>" or "group:<name>"),
taken duck-typed so this module imports nothing but util.
"""

ALL_USERS = "group:AllUsers"
AUTHENTICATED_USERS = "group:AuthenticatedUsers"
LOG_DELIVERY = "group:LogDelivery"
GROUP_URIS = {
    ALL_USERS: "http://acs.amazonaws.com/groups/global/AllUsers",
    AUTHENTICATED_USERS: "http://acs.amazonaws.com/groups/global/AuthenticatedUsers",
    LOG_DELIVERY: "http://acs.amazonaws.com/groups/s3/LogDelivery",
}
PUBLIC_GROUPS = frozenset({ALL_USERS, AUTHENTICATED_USERS})
PERMISSIONS = ("FULL_CONTROL", "READ", "WRITE", "READ_ACP", "WRITE_ACP")

# IAM action (lower case) -> (the resource whose ACL decides: "bucket" or "object", the
# permission it needs). Actions missing here are never granted by an ACL.
ACL_PERMISSION: dict[str, tuple[str, str]] = {
    "s3:listbucket": ("bucket", "READ"),
    "s3:listbucketversions": ("bucket", "READ"),
    "s3:listbucketmultipartuploads": ("bucket", "READ"),
    "s3:putobject": ("bucket", "WRITE"),
    "s3:deleteobject": ("bucket", "WRITE"),
    "s3:deleteobjectversion": ("bucket", "WRITE"),
    "s3:abortmultipartupload": ("bucket", "WRITE"),
    "s3:getbucketacl": ("bucket", "READ_ACP"),
    "s3:putbucketacl": ("bucket", "WRITE_ACP"),
    "s3:getobject": ("object", "READ"),
    "s3:getobjectversion": ("object", "READ"),
    "s3:getobjectacl": ("object", "READ_ACP"),
    "s3:getobjectversionacl": ("object", "READ_ACP"),
    "s3:putobjectacl": ("object", "WRITE_ACP"),
    "s3:putobjectversionacl": ("object", "WRITE_ACP"),
}


def needed(action: str) -> tuple[str, str] | None:
    """(resource kind, permission) an ACL must grant for `action`, or None."""
    return ACL_PERMISSION.get(action.lower())


def grants(acl, owner: str, who: str | None, permission: str,
           ignore_public: bool = False) -> bool:
    """Do `acl` (a list of grants; None: private) and ownership by `owner` give `who` (a
    canonical id; None: anonymous) `permission`? With `ignore_public` the AllUsers and
    AuthenticatedUsers grants count for nothing (public access block's IgnorePublicAcls)."""
    if who is not None and who == owner:
        return True
    for g in acl or ():
        if g.permission != permission and g.permission != "FULL_CONTROL":
            continue
        if g.grantee == ALL_USERS:
            if not ignore_public:
                return True
        elif g.grantee == AUTHENTICATED_USERS:
            if who is not None and not ignore_public:
                return True
        elif who is not None and g.grantee == "id:" + who:
            return True
    return False


def is_public(acl) -> bool:
    """Does the ACL grant anything to AllUsers or AuthenticatedUsers (what BlockPublicAcls
    refuses and what makes a bucket public)?"""
    return any(g.grantee in PUBLIC_GROUPS for g in acl or ())
