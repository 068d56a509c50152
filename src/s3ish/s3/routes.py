"""THE route table: (method, target, sub-resource) -> AWS operation, handler, access class,
IAM action.

Targets: "service" (no bucket), "bucket", "object". The first row whose method and target
match and whose sub-resource query parameter is present wins, so specific rows come first.
Each route names its IAM action and resource kind (`action`, iam.arn.ACTIONS of its
operation), which the authorize step (access.py) checks for every request. Access classes:
"authorize" (the authorize step decides), "form" (the handler authenticates a signed form
itself, then authorizes: browser POST uploads), "preflight" (a CORS OPTIONS request: answered
before authentication, browsers never sign one; it has no action).
"""
from dataclasses import dataclass

from ..iam.arn import ACTIONS, OperationAction, reads_only
from .handlers import acl, attributes, bucket_policy, bucket_tagging, cors, encryption, ownership
from .handlers import (bucket, copy, lifecycle, listing, multipart, object_lock, object_read,
                       object_write, post_object, restore, tagging, versioning)


@dataclass(frozen=True)
class Route:
    method: str
    target: str
    subresource: str | None
    operation: str
    handler: object
    access: str
    copy_source: bool | None = None   # must x-amz-copy-source be present (True) or absent?
    action: OperationAction | None = None   # IAM action and resource kind (None: preflight)

    @property
    def mutates(self) -> bool:
        """Whether the operation changes what is stored: its IAM action is not a read
        (iam.arn.reads_only). A read-only follower refuses exactly these (frontend.py)."""
        return self.action is not None and not reads_only(self.action.action)


def _r(method, target, sub, handler, access="authorize", copy_source=None) -> Route:
    action = ACTIONS.get(handler.__name__)
    if action is None and access != "preflight":
        # Every request but a preflight is authorized: an operation needs its IAM action.
        raise ValueError(f"{handler.__name__} has no entry in iam.arn.ACTIONS")
    return Route(method, target, sub, handler.__name__, handler, access, copy_source, action)


ROUTES: tuple[Route, ...] = (
    _r("GET", "service", None, bucket.ListBuckets),

    _r("GET", "bucket", "location", bucket.GetBucketLocation),
    _r("GET", "bucket", "versioning", versioning.GetBucketVersioning),
    _r("PUT", "bucket", "versioning", versioning.PutBucketVersioning),
    _r("GET", "bucket", "versions", versioning.ListObjectVersions),
    _r("GET", "bucket", "object-lock", object_lock.GetObjectLockConfiguration),
    _r("PUT", "bucket", "object-lock", object_lock.PutObjectLockConfiguration),
    _r("GET", "bucket", "lifecycle", lifecycle.GetBucketLifecycleConfiguration),
    _r("PUT", "bucket", "lifecycle", lifecycle.PutBucketLifecycleConfiguration),
    _r("DELETE", "bucket", "lifecycle", lifecycle.DeleteBucketLifecycle),
    _r("GET", "bucket", "uploads", multipart.ListMultipartUploads),
    _r("GET", "bucket", "tagging", bucket_tagging.GetBucketTagging),
    _r("PUT", "bucket", "tagging", bucket_tagging.PutBucketTagging),
    _r("DELETE", "bucket", "tagging", bucket_tagging.DeleteBucketTagging),
    _r("GET", "bucket", "acl", acl.GetBucketAcl),
    _r("PUT", "bucket", "acl", acl.PutBucketAcl),
    _r("GET", "bucket", "ownershipControls", ownership.GetBucketOwnershipControls),
    _r("PUT", "bucket", "ownershipControls", ownership.PutBucketOwnershipControls),
    _r("DELETE", "bucket", "ownershipControls", ownership.DeleteBucketOwnershipControls),
    _r("GET", "bucket", "cors", cors.GetBucketCors),
    _r("PUT", "bucket", "cors", cors.PutBucketCors),
    _r("DELETE", "bucket", "cors", cors.DeleteBucketCors),
    _r("GET", "bucket", "encryption", encryption.GetBucketEncryption),
    _r("PUT", "bucket", "encryption", encryption.PutBucketEncryption),
    _r("DELETE", "bucket", "encryption", encryption.DeleteBucketEncryption),
    _r("GET", "bucket", "policy", bucket_policy.GetBucketPolicy),
    _r("PUT", "bucket", "policy", bucket_policy.PutBucketPolicy),
    _r("DELETE", "bucket", "policy", bucket_policy.DeleteBucketPolicy),
    _r("GET", "bucket", "policyStatus", bucket_policy.GetBucketPolicyStatus),
    _r("GET", "bucket", "publicAccessBlock", bucket_policy.GetPublicAccessBlock),
    _r("PUT", "bucket", "publicAccessBlock", bucket_policy.PutPublicAccessBlock),
    _r("DELETE", "bucket", "publicAccessBlock", bucket_policy.DeletePublicAccessBlock),
    _r("OPTIONS", "bucket", None, cors.OptionsObject, "preflight"),
    _r("GET", "bucket", "list-type", listing.ListObjectsV2),
    _r("GET", "bucket", None, listing.ListObjects),
    _r("HEAD", "bucket", None, bucket.HeadBucket),
    _r("PUT", "bucket", None, bucket.CreateBucket),
    _r("DELETE", "bucket", None, bucket.DeleteBucket),
    _r("POST", "bucket", "delete", object_write.DeleteObjects),
    _r("POST", "bucket", None, post_object.PostObject, "form"),

    _r("POST", "object", "uploads", multipart.CreateMultipartUpload),
    _r("POST", "object", "uploadId", multipart.CompleteMultipartUpload),
    _r("PUT", "object", "uploadId", multipart.UploadPart, copy_source=False),
    _r("PUT", "object", "uploadId", copy.UploadPartCopy, copy_source=True),
    _r("GET", "object", "acl", acl.GetObjectAcl),
    _r("PUT", "object", "acl", acl.PutObjectAcl),
    _r("GET", "object", "tagging", tagging.GetObjectTagging),
    _r("PUT", "object", "tagging", tagging.PutObjectTagging),
    _r("DELETE", "object", "tagging", tagging.DeleteObjectTagging),
    _r("GET", "object", "retention", object_lock.GetObjectRetention),
    _r("PUT", "object", "retention", object_lock.PutObjectRetention),
    _r("GET", "object", "legal-hold", object_lock.GetObjectLegalHold),
    _r("PUT", "object", "legal-hold", object_lock.PutObjectLegalHold),
    _r("GET", "object", "uploadId", multipart.ListParts),
    _r("GET", "object", "attributes", attributes.GetObjectAttributes),
    _r("POST", "object", "restore", restore.RestoreObject),
    _r("DELETE", "object", "uploadId", multipart.AbortMultipartUpload),
    _r("GET", "object", None, object_read.GetObject),
    _r("HEAD", "object", None, object_read.HeadObject),
    _r("PUT", "object", None, object_write.PutObject, copy_source=False),
    _r("PUT", "object", None, copy.CopyObject, copy_source=True),
    # The s3ish seed design's copy for curl: PATCH /bucket/key with x-amz-copy-source is
    # CopyObject itself (same handler, action and source authorization); a PATCH without
    # the header matches no row and is refused with MethodNotAllowed.
    _r("PATCH", "object", None, copy.CopyObject, copy_source=True),
    _r("DELETE", "object", None, object_write.DeleteObject),
    _r("OPTIONS", "object", None, cors.OptionsObject, "preflight"),
)

# Sub-resources S3 defines. A request naming one that no row above routes is refused with
# NotImplemented instead of being served as the plain operation it would otherwise match.
SUBRESOURCES = frozenset({
    "accelerate", "acl", "analytics", "attributes", "cors", "delete", "encryption",
    "intelligent-tiering", "inventory", "legal-hold", "lifecycle", "location", "logging",
    "metadataTable", "metrics", "notification", "object-lock", "ownershipControls", "policy",
    "policyStatus", "publicAccessBlock", "replication", "requestPayment", "restore",
    "retention", "select", "tagging", "torrent", "uploads", "uploadId", "versioning",
    "versions", "website", "renameObject", "session",
})


def match(method: str, target: str, query: dict, headers: dict) -> Route | None:
    copying = "x-amz-copy-source" in headers
    for route in ROUTES:
        if route.method == method and route.target == target and (
                route.subresource is None or route.subresource in query) and (
                route.copy_source is None or route.copy_source == copying):
            # A preflight asks about any request to the resource: a browser's presigned
            # UploadPart (?partNumber&uploadId) or CreateMultipartUpload (?uploads) too.
            if (route.subresource is None and route.access != "preflight"
                    and SUBRESOURCES.intersection(query)):
                return None
            return route
    return None


def operation_names() -> list[str]:
    return [r.operation for r in ROUTES]
