"""Request and response shapes; names and fields as in botocore's S3 model."""
from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, field
from typing import ClassVar


@dataclass(kw_only=True)
class Checksums:
    """The additional-checksum members several shapes share (keyword-only, all optional)."""
    ChecksumCRC32: str | None = None
    ChecksumCRC32C: str | None = None
    ChecksumCRC64NVME: str | None = None
    ChecksumSHA1: str | None = None
    ChecksumSHA256: str | None = None


@dataclass
class Owner:
    ID: str
    DisplayName: str | None = None


@dataclass
class BucketEntry:
    Name: str
    CreationDate: _dt.datetime
    BucketRegion: str | None = None


@dataclass
class Buckets:
    Bucket: list[BucketEntry]


@dataclass
class ListAllMyBucketsResult:
    Buckets: Buckets
    Owner: Owner
    ContinuationToken: str | None = None
    Prefix: str | None = None


@dataclass
class Object:
    Key: str
    LastModified: _dt.datetime
    ETag: str
    Size: int
    StorageClass: str
    Owner: Owner | None = None
    ChecksumAlgorithm: list[str] = field(default_factory=list)


@dataclass
class CommonPrefix:
    Prefix: str


@dataclass
class ListBucketResult:
    """ListObjects (v1) and ListObjectsV2 share the root name; unused fields stay None."""
    Name: str
    Prefix: str
    Marker: str | None = None
    NextMarker: str | None = None
    StartAfter: str | None = None
    ContinuationToken: str | None = None
    NextContinuationToken: str | None = None
    KeyCount: int | None = None
    MaxKeys: int = 1000
    Delimiter: str | None = None
    EncodingType: str | None = None
    IsTruncated: bool = False
    Contents: list[Object] = field(default_factory=list)
    CommonPrefixes: list[CommonPrefix] = field(default_factory=list)


@dataclass
class LocationConstraint:
    """GetBucketLocation's body is the bare text of this element; see handlers.bucket."""


@dataclass
class CreateBucketConfiguration:
    LocationConstraint: str | None = None
    Tags: TagSet | None = None


@dataclass
class InitiateMultipartUploadResult:
    Bucket: str
    Key: str
    UploadId: str


@dataclass
class CompletedPart(Checksums):
    PartNumber: int
    ETag: str = ""


@dataclass
class CompleteMultipartUpload:
    Part: list[CompletedPart]


@dataclass
class CompleteMultipartUploadResult(Checksums):
    Location: str
    Bucket: str
    Key: str
    ETag: str
    ChecksumType: str | None = None


@dataclass
class PartEntry(Checksums):
    PartNumber: int
    LastModified: _dt.datetime
    ETag: str
    Size: int


@dataclass
class ListPartsResult:
    Bucket: str
    Key: str
    UploadId: str
    PartNumberMarker: int
    NextPartNumberMarker: int
    MaxParts: int
    IsTruncated: bool
    Part: list[PartEntry]
    Initiator: Owner
    Owner: Owner
    StorageClass: str
    ChecksumAlgorithm: str | None = None
    ChecksumType: str | None = None


@dataclass
class ObjectIdentifier:
    Key: str
    VersionId: str | None = None
    ETag: str | None = None                 # conditional deletes
    LastModifiedTime: str | None = None
    Size: str | None = None


@dataclass
class Delete:
    Object: list[ObjectIdentifier]
    Quiet: bool = False


@dataclass
class DeletedObject:
    Key: str
    VersionId: str | None = None
    DeleteMarker: bool | None = None
    DeleteMarkerVersionId: str | None = None


@dataclass
class DeleteError:
    Key: str
    Code: str
    Message: str
    VersionId: str | None = None


@dataclass
class DeleteResult:
    Deleted: list[DeletedObject] = field(default_factory=list)
    Error: list[DeleteError] = field(default_factory=list)


@dataclass
class VersioningConfiguration:
    Status: str | None = None
    MfaDelete: str | None = None


@dataclass
class VersionEntry:
    XML_ELEMENT: ClassVar[str] = "Version"
    Key: str
    VersionId: str
    IsLatest: bool
    LastModified: _dt.datetime
    ETag: str
    Size: int
    StorageClass: str
    Owner: Owner | None = None
    ChecksumAlgorithm: str | None = None
    ChecksumType: str | None = None


@dataclass
class DeleteMarkerEntry:
    XML_ELEMENT: ClassVar[str] = "DeleteMarker"
    Key: str
    VersionId: str
    IsLatest: bool
    LastModified: _dt.datetime
    Owner: Owner | None = None


@dataclass
class ListVersionsResult:
    Name: str
    Prefix: str
    KeyMarker: str
    VersionIdMarker: str
    NextKeyMarker: str | None = None
    NextVersionIdMarker: str | None = None
    MaxKeys: int = 1000
    Delimiter: str | None = None
    EncodingType: str | None = None
    IsTruncated: bool = False
    # Version and DeleteMarker elements interleaved in listing order, as S3 sends them.
    Version: list = field(default_factory=list)
    CommonPrefixes: list[CommonPrefix] = field(default_factory=list)


@dataclass
class CopyObjectResult(Checksums):
    ETag: str
    LastModified: _dt.datetime
    ChecksumType: str | None = None


@dataclass
class CopyPartResult(Checksums):
    ETag: str
    LastModified: _dt.datetime


@dataclass
class Tag:
    Key: str
    Value: str = ""


@dataclass
class TagSet:
    Tag: list[Tag] = field(default_factory=list)


@dataclass
class Tagging:
    TagSet: TagSet | None = None


@dataclass
class UploadEntry:
    Key: str
    UploadId: str
    Initiator: Owner
    Owner: Owner
    StorageClass: str
    Initiated: _dt.datetime
    ChecksumAlgorithm: str | None = None
    ChecksumType: str | None = None


@dataclass
class ListMultipartUploadsResult:
    Bucket: str
    KeyMarker: str
    UploadIdMarker: str
    NextKeyMarker: str
    NextUploadIdMarker: str
    MaxUploads: int
    IsTruncated: bool
    Prefix: str | None = None
    Delimiter: str | None = None
    EncodingType: str | None = None
    Upload: list[UploadEntry] = field(default_factory=list)
    CommonPrefixes: list[CommonPrefix] = field(default_factory=list)


@dataclass
class PostResponse:
    Location: str
    Bucket: str
    Key: str
    ETag: str


# ---- bucket lifecycle (PutBucketLifecycleConfiguration; the legacy PutBucketLifecycle
# document is the same root with a rule-level Prefix) ----

@dataclass
class LifecycleRuleAndOperator:
    Prefix: str | None = None
    Tag: list[Tag] = field(default_factory=list)
    ObjectSizeGreaterThan: int | None = None
    ObjectSizeLessThan: int | None = None


@dataclass
class LifecycleRuleFilter:
    Prefix: str | None = None
    Tag: Tag | None = None
    ObjectSizeGreaterThan: int | None = None
    ObjectSizeLessThan: int | None = None
    And: LifecycleRuleAndOperator | None = None


@dataclass
class LifecycleExpiration:
    Date: str | None = None
    Days: int | None = None
    ExpiredObjectDeleteMarker: bool | None = None


@dataclass
class NoncurrentVersionExpiration:
    NoncurrentDays: int | None = None
    NewerNoncurrentVersions: int | None = None


@dataclass
class Transition:
    Date: str | None = None
    Days: int | None = None
    StorageClass: str | None = None


@dataclass
class NoncurrentVersionTransition:
    NoncurrentDays: int | None = None
    StorageClass: str | None = None
    NewerNoncurrentVersions: int | None = None


@dataclass
class AbortIncompleteMultipartUpload:
    DaysAfterInitiation: int | None = None


@dataclass
class LifecycleRuleShape:
    """A `<Rule>` (named apart from the stored meta.bucketconf.LifecycleRule)."""
    ID: str | None = None
    Prefix: str | None = None
    Filter: LifecycleRuleFilter | None = None
    Status: str | None = None
    Transition: list[Transition] = field(default_factory=list)
    Expiration: LifecycleExpiration | None = None
    NoncurrentVersionTransition: list[NoncurrentVersionTransition] = field(
        default_factory=list)
    NoncurrentVersionExpiration: NoncurrentVersionExpiration | None = None
    AbortIncompleteMultipartUpload: AbortIncompleteMultipartUpload | None = None


@dataclass
class LifecycleConfiguration:
    Rule: list[LifecycleRuleShape] = field(default_factory=list)


# ---- bucket CORS (PutBucketCors, GetBucketCors) ----

@dataclass
class CORSRule:
    ID: str | None = None
    AllowedHeader: list[str] = field(default_factory=list)
    AllowedMethod: list[str] = field(default_factory=list)
    AllowedOrigin: list[str] = field(default_factory=list)
    ExposeHeader: list[str] = field(default_factory=list)
    MaxAgeSeconds: int | None = None


@dataclass
class CORSConfiguration:
    CORSRule: list[CORSRule] = field(default_factory=list)


@dataclass(kw_only=True)
class ObjectChecksum(Checksums):
    ChecksumType: str | None = None


@dataclass
class ObjectPart(Checksums):
    PartNumber: int
    Size: int


@dataclass
class GetObjectAttributesParts:
    PartsCount: int                           # TotalPartsCount in the model, named so on the wire
    PartNumberMarker: int | None = None
    NextPartNumberMarker: int | None = None
    MaxParts: int | None = None
    IsTruncated: bool | None = None
    Part: list[ObjectPart] = field(default_factory=list)


@dataclass
class GetObjectAttributesResponse:
    ETag: str | None = None
    Checksum: ObjectChecksum | None = None
    ObjectParts: GetObjectAttributesParts | None = None
    StorageClass: str | None = None
    ObjectSize: int | None = None


# ---- bucket policy status and public access block ----

@dataclass
class PolicyStatus:
    IsPublic: bool = False


@dataclass
class PublicAccessBlockConfiguration:
    BlockPublicAcls: bool | None = None
    IgnorePublicAcls: bool | None = None
    BlockPublicPolicy: bool | None = None
    RestrictPublicBuckets: bool | None = None


# ---- RestoreObject ----

@dataclass
class GlacierJobParameters:
    Tier: str | None = None


@dataclass
class RestoreRequest:
    Days: int | None = None
    GlacierJobParameters: GlacierJobParameters | None = None
    Type: str | None = None
    Tier: str | None = None
    Description: str | None = None
    # S3 Select restores (refused): present or not is all that is read of them.
    SelectParameters: str | None = None
    OutputLocation: str | None = None
