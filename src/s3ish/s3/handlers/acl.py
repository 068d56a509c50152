"""ACLs: GetBucketAcl, PutBucketAcl, GetObjectAcl, PutObjectAcl, and the ACL a write asks
for (x-amz-acl or x-amz-grant-* on CreateBucket, PutObject, CopyObject,
CreateMultipartUpload; a PostObject form's `acl` field).

The server's --acl-mode: "ignore" discards every ACL unread (everything reads back as
private), "record" checks and stores them as "enforce" does (the authorize step does not
consult them). The rules (canned ACLs, ownership controls) are engine/acl.py's.
"""
from dataclasses import dataclass

from ...engine import acl
from ...http.asgi import Response
from ...iam.acl import GROUP_URIS
from ...meta.bucketconf import Grant
from .. import errors
from ..xml import acl_shapes as shapes
from ..xml import codec
from .common import verify_small_body, xml
from .versioning import version_arg

MAX_ACL_XML = 64 * 1024
GRANT_HEADERS = {"x-amz-grant-read": "READ", "x-amz-grant-write": "WRITE",
                 "x-amz-grant-read-acp": "READ_ACP", "x-amz-grant-write-acp": "WRITE_ACP",
                 "x-amz-grant-full-control": "FULL_CONTROL"}
_GROUP_OF_URI = {uri: grantee for grantee, uri in GROUP_URIS.items()}


@dataclass
class AclRequest:
    """An ACL a request gives: a canned one (`canned`) or explicit grants. `grants`: all of
    them, the owner's FULL_CONTROL of a canned ACL included."""
    canned: str | None
    grants: list[Grant]


def ignored(ctx) -> bool:
    return ctx.svc.acl_mode == "ignore"


def from_headers(ctx, headers: dict, kind: str, owner: str,
                 bucket_owner: str) -> AclRequest | None:
    """The ACL x-amz-acl or x-amz-grant-* give a `kind` ("bucket"/"object") resource owned by
    `owner`, or None if the request names none."""
    canned = headers.get("x-amz-acl")
    named = [(h, perm) for h, perm in GRANT_HEADERS.items() if h in headers]
    if canned is None and not named:
        return None
    if canned is not None and named:
        raise errors.InvalidRequest("Specifying both Canned ACLs and Header Grants is not "
                                    "allowed")
    if canned is not None:
        if canned not in acl.CANNED:
            raise errors.InvalidArgument(None, ArgumentName="x-amz-acl", ArgumentValue=canned)
        return AclRequest(canned, acl.canned(canned, kind, owner, bucket_owner))
    grants = []
    for header, permission in named:
        for item in headers[header].split(","):
            grantee = _header_grantee(ctx, header, item)
            if Grant(grantee, permission) not in grants:
                grants.append(Grant(grantee, permission))
    return AclRequest(None, grants)


def _header_grantee(ctx, header: str, item: str) -> str:
    """One `id="..."`, `emailAddress="..."` or `uri="..."` of a grant header."""
    kind, sep, value = item.strip().partition("=")
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] == '"':
        value = value[1:-1]
    kind = kind.strip().lower()
    if sep and kind == "id":
        return _user(ctx, value)
    if sep and kind == "emailaddress":
        return _email(ctx, value)
    if sep and kind == "uri":
        return _group(value)
    raise errors.InvalidArgument(None, ArgumentName=header, ArgumentValue=item.strip())


def _user(ctx, user_id: str) -> str:
    if ctx.svc.users.by_owner(user_id) is None:
        raise errors.InvalidArgument("Invalid id", ArgumentName="CanonicalUser/ID",
                                     ArgumentValue=user_id)
    return "id:" + user_id


def _email(ctx, email: str) -> str:
    ident = ctx.svc.users.by_email(email)
    if ident is None:
        raise errors.UnresolvableGrantByEmailAddress(EmailAddress=email)
    return "id:" + ident.owner_id


def _group(uri: str) -> str:
    if uri not in _GROUP_OF_URI:
        raise errors.InvalidArgument("Invalid group uri", ArgumentName="Group/URI",
                                     ArgumentValue=uri)
    return _GROUP_OF_URI[uri]


def for_write(ctx, bucket, headers: dict | None = None):
    """The stored ACL an object write asks for (None: private, or ACLs ignored), checked
    against the bucket's ownership controls and public access block before any byte is
    read. `headers`: a form's fields standing for headers (PostObject)."""
    if ignored(ctx):
        return None
    asked = from_headers(ctx, ctx.req.headers if headers is None else headers, "object",
                         ctx.owner, bucket.owner)
    if asked is None:
        return None
    acl.check_write(bucket, asked.grants, asked.canned)
    return acl.stored(asked.grants, ctx.owner)


def for_new_bucket(ctx, ownership: str):
    """The stored ACL of a bucket being created (None: private)."""
    if ignored(ctx):
        return None
    asked = from_headers(ctx, ctx.req.headers, "bucket", ctx.owner, ctx.owner)
    if asked is None:
        return None
    acl.check_create(ownership, asked.grants, ctx.owner)
    return acl.stored(asked.grants, ctx.owner)


# ---- Get/Put Bucket/Object Acl ----

async def _bucket(ctx):
    return ctx.bucket_record or await ctx.svc.engine.get_bucket(ctx.bucket)


def _policy(ctx, owner: str, grants: list[Grant]) -> Response:
    return xml(shapes.AccessControlPolicy(
        shapes.AclOwner(owner, _display_name(ctx, owner)),
        shapes.AccessControlList([shapes.Grant(_grantee(ctx, g.grantee), g.permission)
                                  for g in grants])))


def _display_name(ctx, owner_id: str) -> str | None:
    ident = ctx.svc.users.by_owner(owner_id)
    return ident.display_name if ident else None


def _grantee(ctx, grantee: str) -> shapes.Grantee:
    if grantee.startswith("id:"):
        return shapes.Grantee(ID=grantee[3:], DisplayName=_display_name(ctx, grantee[3:]),
                              Type="CanonicalUser")
    return shapes.Grantee(URI=GROUP_URIS[grantee], Type="Group")


async def GetBucketAcl(ctx) -> Response:
    b = await _bucket(ctx)
    return _policy(ctx, b.owner, acl.listed(b.acl, b.owner,
                                            ignored(ctx) or acl.acls_disabled(b)))


async def GetObjectAcl(ctx) -> Response:
    b = await _bucket(ctx)
    v = await ctx.svc.engine.head_object(ctx.bucket, ctx.key, version_arg(ctx.req))
    owner = acl.object_owner(b, v)
    return _policy(ctx, owner, acl.listed(v.acl, owner, ignored(ctx) or acl.acls_disabled(b)))


async def PutBucketAcl(ctx) -> Response:
    b = await _bucket(ctx)
    asked = await _asked(ctx, "bucket", b.owner, b.owner)
    if asked is not None:
        acl.check_write(b, asked.grants, asked.canned)
        await ctx.svc.engine.set_bucket_acl(ctx.bucket, acl.stored(asked.grants, b.owner))
    return Response(200)


async def PutObjectAcl(ctx) -> Response:
    b = await _bucket(ctx)
    version_id = version_arg(ctx.req)
    v = await ctx.svc.engine.head_object(ctx.bucket, ctx.key, version_id)
    owner = acl.object_owner(b, v)
    asked = await _asked(ctx, "object", owner, b.owner)
    if asked is not None:
        acl.check_write(b, asked.grants, asked.canned)
        await ctx.svc.engine.set_object_acl(ctx.bucket, ctx.key,
                                            acl.stored(asked.grants, owner), version_id)
    return Response(200)


async def _asked(ctx, kind: str, owner: str, bucket_owner: str) -> AclRequest | None:
    """The ACL a Put*Acl gives, by headers or by an AccessControlPolicy document (never
    both); None when ACLs are ignored (the document is read and dropped)."""
    body = await ctx.req.read_all(MAX_ACL_XML)
    if body is None:
        raise errors.MaxMessageLengthExceeded()
    if ignored(ctx):
        return None
    verify_small_body(ctx.req, body)
    asked = from_headers(ctx, ctx.req.headers, kind, owner, bucket_owner)
    if asked is not None:
        if body.strip():
            raise errors.UnexpectedContent()
        return asked
    if not body.strip():
        raise errors.MissingSecurityHeader(MissingHeaderName="x-amz-acl")
    return AclRequest(None, _document_grants(ctx, body, owner))


def _document_grants(ctx, body: bytes, owner: str) -> list[Grant]:
    try:
        doc = codec.decode(body, shapes.AccessControlPolicy, max_size=MAX_ACL_XML)
    except codec.XMLDecodeError:
        raise errors.MalformedACLError() from None
    if doc.AccessControlList is None:
        raise errors.MalformedACLError()
    if doc.Owner is not None and doc.Owner.ID is not None and doc.Owner.ID != owner:
        # The document may not hand the resource to someone else.
        raise errors.AccessDenied()
    grants = []
    for g in doc.AccessControlList.Grant:
        if g.Grantee is None or g.Permission not in acl.PERMISSIONS:
            raise errors.MalformedACLError()
        grant = Grant(_document_grantee(ctx, g.Grantee), g.Permission)
        if grant not in grants:
            grants.append(grant)
    return grants


def _document_grantee(ctx, g: shapes.Grantee) -> str:
    if g.Type == "CanonicalUser" and g.ID is not None:
        return _user(ctx, g.ID)
    if g.Type == "AmazonCustomerByEmail" and g.EmailAddress is not None:
        return _email(ctx, g.EmailAddress)
    if g.Type == "Group" and g.URI is not None:
        return _group(g.URI)
    raise errors.MalformedACLError()
