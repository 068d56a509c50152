"""S3 resource ARNs and the IAM action and resource kind of every S3 operation.

As AWS documents them ("Actions, resources, and condition keys for Amazon S3" and each
operation's "Permissions" section): an operation names one IAM action (another one when it is
addressed to a version, e.g. GetObject with versionId -> s3:GetObjectVersion) on a resource of one
kind: "service" (no bucket: `*`), "bucket" (`arn:aws:s3:::bucket`) or "object"
(`arn:aws:s3:::bucket/key`). Operations that touch more than one resource (CopyObject and
UploadPartCopy read their source, DeleteObjects deletes each key) are noted in SOURCE_ACTIONS and
PER_KEY so the caller authorizes each resource.
"""
from dataclasses import dataclass

PREFIX = "arn:aws:s3:::"


def bucket_arn(bucket: str) -> str:
    return PREFIX + bucket


def object_arn(bucket: str, key: str) -> str:
    return f"{PREFIX}{bucket}/{key}"


@dataclass(frozen=True)
class OperationAction:
    action: str                   # the IAM action
    kind: str                     # "service", "bucket" or "object"
    version_action: str | None = None   # the action when the request names a versionId

    def for_request(self, version_id: str | None) -> str:
        return self.version_action if version_id and self.version_action else self.action


def reads_only(action: str) -> bool:
    """Whether an IAM action only reads (AWS names every such action Get... or List...,
    e.g. s3:GetObject, s3:ListBucket, iam:GetUser): a read-only server refuses the others."""
    name = action.partition(":")[2]
    return name.startswith(("Get", "List"))


def _o(action, version_action=None):
    return OperationAction(action, "object", version_action)


def _b(action):
    return OperationAction(action, "bucket")


ACTIONS: dict[str, OperationAction] = {
    "ListBuckets": OperationAction("s3:ListAllMyBuckets", "service"),
    "CreateBucket": _b("s3:CreateBucket"),
    "DeleteBucket": _b("s3:DeleteBucket"),
    "HeadBucket": _b("s3:ListBucket"),
    "ListObjects": _b("s3:ListBucket"),
    "ListObjectsV2": _b("s3:ListBucket"),
    "ListObjectVersions": _b("s3:ListBucketVersions"),
    "ListMultipartUploads": _b("s3:ListBucketMultipartUploads"),
    "GetBucketLocation": _b("s3:GetBucketLocation"),
    "GetBucketVersioning": _b("s3:GetBucketVersioning"),
    "PutBucketVersioning": _b("s3:PutBucketVersioning"),
    "GetObjectLockConfiguration": _b("s3:GetBucketObjectLockConfiguration"),
    "PutObjectLockConfiguration": _b("s3:PutBucketObjectLockConfiguration"),
    "GetBucketLifecycleConfiguration": _b("s3:GetLifecycleConfiguration"),
    "PutBucketLifecycleConfiguration": _b("s3:PutLifecycleConfiguration"),
    "DeleteBucketLifecycle": _b("s3:PutLifecycleConfiguration"),
    "GetBucketTagging": _b("s3:GetBucketTagging"),
    "PutBucketTagging": _b("s3:PutBucketTagging"),
    "DeleteBucketTagging": _b("s3:PutBucketTagging"),
    "GetBucketPolicy": _b("s3:GetBucketPolicy"),
    "PutBucketPolicy": _b("s3:PutBucketPolicy"),
    "DeleteBucketPolicy": _b("s3:DeleteBucketPolicy"),
    "GetBucketPolicyStatus": _b("s3:GetBucketPolicyStatus"),
    "GetBucketAcl": _b("s3:GetBucketAcl"),
    "PutBucketAcl": _b("s3:PutBucketAcl"),
    "GetBucketOwnershipControls": _b("s3:GetBucketOwnershipControls"),
    "PutBucketOwnershipControls": _b("s3:PutBucketOwnershipControls"),
    "DeleteBucketOwnershipControls": _b("s3:PutBucketOwnershipControls"),
    "GetPublicAccessBlock": _b("s3:GetBucketPublicAccessBlock"),
    "PutPublicAccessBlock": _b("s3:PutBucketPublicAccessBlock"),
    "DeletePublicAccessBlock": _b("s3:PutBucketPublicAccessBlock"),
    "GetBucketCors": _b("s3:GetBucketCORS"),
    "PutBucketCors": _b("s3:PutBucketCORS"),
    "DeleteBucketCors": _b("s3:PutBucketCORS"),
    "GetBucketEncryption": _b("s3:GetEncryptionConfiguration"),
    "PutBucketEncryption": _b("s3:PutEncryptionConfiguration"),
    "DeleteBucketEncryption": _b("s3:PutEncryptionConfiguration"),
    # DeleteObjects is addressed to the bucket but authorized per key (PER_KEY).
    "DeleteObjects": _o("s3:DeleteObject", "s3:DeleteObjectVersion"),
    "PostObject": _o("s3:PutObject"),
    "PutObject": _o("s3:PutObject"),
    "CopyObject": _o("s3:PutObject"),
    "CreateMultipartUpload": _o("s3:PutObject"),
    "UploadPart": _o("s3:PutObject"),
    "UploadPartCopy": _o("s3:PutObject"),
    "CompleteMultipartUpload": _o("s3:PutObject"),
    "AbortMultipartUpload": _o("s3:AbortMultipartUpload"),
    "ListParts": _o("s3:ListMultipartUploadParts"),
    "GetObject": _o("s3:GetObject", "s3:GetObjectVersion"),
    "HeadObject": _o("s3:GetObject", "s3:GetObjectVersion"),
    "GetObjectAttributes": _o("s3:GetObjectAttributes", "s3:GetObjectVersionAttributes"),
    "DeleteObject": _o("s3:DeleteObject", "s3:DeleteObjectVersion"),
    "GetObjectTagging": _o("s3:GetObjectTagging", "s3:GetObjectVersionTagging"),
    "PutObjectTagging": _o("s3:PutObjectTagging", "s3:PutObjectVersionTagging"),
    "DeleteObjectTagging": _o("s3:DeleteObjectTagging", "s3:DeleteObjectVersionTagging"),
    "GetObjectAcl": _o("s3:GetObjectAcl", "s3:GetObjectVersionAcl"),
    "PutObjectAcl": _o("s3:PutObjectAcl", "s3:PutObjectVersionAcl"),
    "GetObjectRetention": _o("s3:GetObjectRetention"),
    "PutObjectRetention": _o("s3:PutObjectRetention"),
    "GetObjectLegalHold": _o("s3:GetObjectLegalHold"),
    "PutObjectLegalHold": _o("s3:PutObjectLegalHold"),
    "RestoreObject": _o("s3:RestoreObject"),
}

# The source of a copy is read: s3:GetObject on it (s3:GetObjectVersion with a versionId).
SOURCE_ACTIONS: dict[str, OperationAction] = {
    "CopyObject": _o("s3:GetObject", "s3:GetObjectVersion"),
    "UploadPartCopy": _o("s3:GetObject", "s3:GetObjectVersion"),
}
PER_KEY = frozenset({"DeleteObjects"})

# Every S3 action AWS defines (lower case): a bucket policy naming any other is refused.
KNOWN_ACTIONS = frozenset(a.lower() for a in {
    *(op.action for op in ACTIONS.values()),
    *(op.version_action for op in ACTIONS.values() if op.version_action),
    "s3:BypassGovernanceRetention", "s3:CreateAccessPoint", "s3:CreateJob",
    "s3:DeleteAccessPoint", "s3:DeleteAccessPointPolicy", "s3:DeleteBucketWebsite",
    "s3:DeleteStorageLensConfiguration", "s3:GetAccelerateConfiguration", "s3:GetAccessPoint",
    "s3:GetAccessPointPolicy", "s3:GetAccountPublicAccessBlock",
    "s3:GetAnalyticsConfiguration", "s3:GetBucketLogging", "s3:GetBucketNotification",
    "s3:GetBucketRequestPayment", "s3:GetBucketWebsite", "s3:GetEncryptionConfiguration",
    "s3:GetIntelligentTieringConfiguration", "s3:GetInventoryConfiguration",
    "s3:GetMetricsConfiguration", "s3:GetObjectTorrent", "s3:GetObjectVersionForReplication",
    "s3:GetObjectVersionTorrent", "s3:GetReplicationConfiguration",
    "s3:ListAccessPoints", "s3:ListJobs", "s3:ObjectOwnerOverrideToBucketOwner",
    "s3:PutAccelerateConfiguration", "s3:PutAccessPointPolicy",
    "s3:PutAccountPublicAccessBlock", "s3:PutAnalyticsConfiguration", "s3:PutBucketLogging",
    "s3:PutBucketNotification", "s3:PutBucketRequestPayment", "s3:PutBucketWebsite",
    "s3:PutEncryptionConfiguration", "s3:PutIntelligentTieringConfiguration",
    "s3:PutInventoryConfiguration", "s3:PutMetricsConfiguration",
    "s3:PutReplicationConfiguration", "s3:ReplicateDelete", "s3:ReplicateObject",
    "s3:ReplicateTags", "s3:RestoreObject", "s3:PutObjectVersionAcl",
    "s3:GetObjectVersionAcl", "s3:DeleteObjectVersionTagging",
})

# Known action (lower case) -> the kind of resource it applies to ("bucket" or "object"), for
# the check that a statement's actions apply to at least one of its resources.
ACTION_KINDS: dict[str, str] = {}
for _op in ACTIONS.values():
    if _op.kind != "service":
        for _a in (_op.action, _op.version_action):
            if _a:
                ACTION_KINDS[_a.lower()] = _op.kind
