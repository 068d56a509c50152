"""Typed metadata: the state records (bucket, object version, upload, part) and the mutation
records that change them. Every change to metadata is one mutation applied in one transaction
by `MetaStore.apply`, so a log of these records could replay the whole store. What each
mutation does is written once, store-independent, in `rules.py`.

Formats: FORMAT is the version of the mutation records written now. Format 1 (before object
versions) had no version sort keys, delete markers or bucket configuration; its records decode
into today's classes with the new fields at their defaults, and mean the same thing.
Fields added within a format (compression, encryption) have defaults meaning "as before"
(stored as it is, not encrypted), so records written before them decode unchanged.
"""
from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field

from .bucketconf import (CorsRule, EncryptionConfig, Grant, LifecycleRule, ObjectLockConfig,
                         PublicAccessBlock)
from .iam_records import IamMutation
from .tier_records import (  # noqa: F401  (re-exported: records.TransitionVersion, ...)
    CompleteRestore, ExpireRestore, RequestRestore, TierMutation, TransitionVersion)

FORMAT = 2


def grants_of(acl) -> list[Grant] | None:
    """ACL grants as records, from records or from their JSON documents (a manifest, an
    upload's record, a data unit's header)."""
    if acl is None:
        return None
    return [g if isinstance(g, Grant) else Grant(**g) for g in acl]


@dataclass
class Bucket:
    name: str
    owner: str
    created: float
    region: str = ""
    versioning: str = ""      # "" (never enabled), "Enabled" or "Suspended"
    object_lock: ObjectLockConfig | None = None
    lifecycle: list[LifecycleRule] = field(default_factory=list)
    tags: dict = field(default_factory=dict)
    cors: list[CorsRule] = field(default_factory=list)
    policy: str = ""          # the bucket policy document as the client sent it ("": none)
    # ACL grants; None: the canned "private" ACL (the owner has FULL_CONTROL, nobody else).
    acl: list[Grant] | None = None
    # Object ownership: BucketOwnerEnforced | BucketOwnerPreferred | ObjectWriter; "" for a
    # bucket created before ownership controls existed (it behaves as ObjectWriter did).
    ownership: str = ""
    public_access_block: PublicAccessBlock | None = None
    # Transparent compression of new data (an s3ish setting, not an S3 one): "" follows the
    # server's --compression, "on" / "off" override it for this bucket.
    compression: str = ""
    # Default encryption of new objects (PutBucketEncryption); None: not configured.
    encryption: EncryptionConfig | None = None

    @property
    def versioned(self) -> bool:
        """New versions get ids of their own (else they are the key's `null` version)."""
        return self.versioning == "Enabled"


@dataclass
class DataPart:
    """One data unit of an object: a part of a multipart object or the whole of a simple one."""
    data_id: str
    size: int
    etag: str = ""            # hex MD5 of this part
    checksum: str = ""        # base64 additional checksum of this part, if any
    # How the unit's bytes are stored: "" as they are, "zstd": compressed in blocks
    # (storage/blockzstd.py), `stored_size` bytes on storage (size stays the client's size).
    compression: str = ""
    stored_size: int = 0
    # Server-side encryption (engine/sse.py): the unit's bytes are sealed packages
    # (storage/sealed.py) iff this is set. It is the unit's own data key, wrapped: the KMS's
    # sealed text (SSE-S3, SSE-KMS) or base64 of the key wrapped with the customer's (SSE-C).
    sse_key: str = ""
    # A lifecycle transition moved the unit to the cold tier (docs/tier.md, "Transitions"):
    # its stored bytes are the tier's `data/<data_id>`, no longer kept here.
    remote: bool = False
    # A remote unit restored for a while (RestoreObject): the data id of its local copy
    # (the same stored bytes), kept until the version's `restore_expiry`; "": none.
    restored: str = ""


@dataclass
class ObjectVersion:
    bucket: str
    key: str
    size: int
    etag: str                 # as S3 shows it, without quotes: md5 hex or md5-of-md5s-N
    mtime: float
    owner: str
    version_id: str = "null"
    content_type: str = "binary/octet-stream"
    headers: dict = field(default_factory=dict)     # standard headers: Cache-Control, ...
    user_meta: dict = field(default_factory=dict)   # x-amz-meta-* without the prefix
    storage_class: str = "STANDARD"
    checksum_algorithm: str = ""
    checksum_value: str = ""
    checksum_type: str = ""   # FULL_OBJECT or COMPOSITE
    inline: bytes | None = None                     # small objects live in the record
    # Encrypted small objects: `inline` holds their sealed bytes (storage/sealed.py) and this
    # their wrapped data key, in DataPart.sse_key's form ("": inline bytes in clear).
    inline_key: str = ""
    parts: list[DataPart] = field(default_factory=list)
    tags: dict = field(default_factory=dict)
    # With self-describing drives: the data unit holding this record (multipart objects),
    # so the index can be rebuilt from the drives alone. Freed with the object.
    manifest: str = ""
    # Where the version sorts among the key's versions, newest first: its version id, or for
    # a `null` version an id made when it was written (util.ids.version_id).
    vsort: str = ""
    delete_marker: bool = False
    lock_mode: str = ""       # object lock retention: GOVERNANCE | COMPLIANCE | ""
    lock_until: float = 0.0   # retain until (epoch seconds)
    legal_hold: bool | None = None    # None: never set (S3 tells that apart from OFF)
    # ACL grants; None: the canned "private" ACL (the object's owner has FULL_CONTROL).
    acl: list[Grant] | None = None
    # Server-side encryption: "" (none), AES256 (SSE-S3), aws:kms (SSE-KMS) or SSE-C; each
    # data unit carries its wrapped data key (DataPart.sse_key).
    sse: str = ""
    sse_kms_key_id: str = ""  # aws:kms: the KMS key id (bare) its data keys are sealed under
    sse_context: str = ""     # aws:kms: x-amz-server-side-encryption-context as sent
    sse_bucket_key: bool = False      # x-amz-server-side-encryption-bucket-key-enabled
    # RestoreObject of a transitioned version: the days asked while its local copies are
    # being fetched (0: no restore in progress), then until when they are kept (0: none).
    restore_days: int = 0
    restore_expiry: float = 0.0

    def __post_init__(self):
        self.acl = grants_of(self.acl)

    _COLUMNS = ("bucket", "key", "size", "etag", "mtime", "owner", "storage_class", "inline",
                "vsort", "delete_marker")

    def meta_json(self) -> str:
        """Everything but the columns the store keeps apart and the inline bytes."""
        d = dataclasses.asdict(self)
        for name in self._COLUMNS:
            d.pop(name)
        return json.dumps(d, separators=(",", ":"))

    @classmethod
    def from_row(cls, bucket, key, size, etag, mtime, owner, storage_class, meta, inline,
                 vsort="", delete_marker=False):
        d = json.loads(meta)
        d["parts"] = [DataPart(**p) for p in d.get("parts", [])]
        if d.get("acl") is not None:
            d["acl"] = [Grant(**g) for g in d["acl"]]
        return cls(bucket=bucket, key=key, size=size, etag=etag, mtime=mtime, owner=owner,
                   storage_class=storage_class, inline=inline, vsort=vsort,
                   delete_marker=bool(delete_marker), **d)

    def locked(self, now: float) -> str:
        """What protects this version from deletion now: "legal-hold", a retention mode, or
        "" (nothing)."""
        if self.legal_hold:
            return "legal-hold"
        if self.lock_mode and self.lock_until > now:
            return self.lock_mode
        return ""

    def data_ids(self) -> list[str]:
        return [p.data_id for p in self.parts] + ([self.manifest] if self.manifest else [])

    def local_copies(self) -> list[str]:
        """The data ids of restored copies of remote units (freed with the version)."""
        return [p.restored for p in self.parts if p.restored]

    def in_tier(self, storage_class: str) -> bool:
        """Transitioned to the cold tier of that storage class: the class is set and every
        data unit is remote (a small object kept in its record has none to move)."""
        return not self.delete_marker and self.storage_class == storage_class and \
            all(p.remote for p in self.parts)

    @property
    def is_multipart(self) -> bool:
        """Completed from a multipart upload (its ETag is md5-of-md5s-N)."""
        return "-" in self.etag


@dataclass
class Upload:
    upload_id: str
    bucket: str
    key: str
    initiated: float
    owner: str
    content_type: str = "binary/octet-stream"
    headers: dict = field(default_factory=dict)
    user_meta: dict = field(default_factory=dict)
    storage_class: str = "STANDARD"
    checksum_algorithm: str = ""
    checksum_type: str = ""
    tags: dict = field(default_factory=dict)
    lock_mode: str = ""
    lock_until: float = 0.0
    legal_hold: bool | None = None
    acl: list[Grant] | None = None    # the ACL the completed object gets (None: private)
    # The object's owner once completed (the bucket owner under its ownership controls);
    # "" means `owner`, the initiator.
    object_owner: str = ""
    # The encryption chosen at creation, applied to every part (as ObjectVersion's).
    sse: str = ""
    sse_kms_key_id: str = ""
    sse_context: str = ""
    sse_bucket_key: bool = False
    # SSE-C: a random secret wrapped with the customer's key (base64), so each part can
    # check it comes with the same key without the key being stored.
    sse_c_check: str = ""

    def __post_init__(self):
        self.acl = grants_of(self.acl)

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> "Upload":
        return cls(**json.loads(text))


@dataclass
class Part:
    upload_id: str
    part_number: int
    data_id: str
    size: int
    etag: str
    mtime: float
    checksum: str = ""
    compression: str = ""     # as DataPart's
    stored_size: int = 0
    sse_key: str = ""         # as DataPart's


# ---- mutation records: each is applied by MetaStore.apply in one transaction ----

@dataclass
class CreateBucket:
    bucket: Bucket


@dataclass
class DeleteBucket:
    name: str
    owner: str


@dataclass
class Condition:
    """A conditional write or delete, checked inside the transaction that applies it."""
    if_match: str | None = None       # the current object's ETag must be this
    if_none_match: bool = False       # no current object may exist (If-None-Match: *)
    if_match_mtime: float | None = None   # the current object's Last-Modified (seconds)
    if_match_size: int | None = None      # the current object's size


@dataclass
class PutObject:
    """A new version of a key; `version.vsort` is its id if the bucket is versioned (the rules
    decide, inside the transaction, whether it gets that id or `null`)."""
    version: ObjectVersion
    condition: Condition | None = None


@dataclass
class SetObjectTags:
    bucket: str
    key: str
    tags: dict
    version_id: str | None = None     # None: the current version


@dataclass
class DeleteObject:
    """Without `version_id`: delete the key (a delete marker in a versioned bucket, with id
    `marker`). With it: remove that version for good (lock rules apply)."""
    bucket: str
    key: str
    version_id: str | None = None
    marker: str = ""                  # the new delete marker's version sort key
    now: float = 0.0
    bypass_governance: bool = False
    condition: Condition | None = None
    owner: str = ""


@dataclass
class SetObjectRetention:
    bucket: str
    key: str
    version_id: str | None
    mode: str                         # GOVERNANCE | COMPLIANCE | "" (remove)
    until: float
    now: float
    bypass_governance: bool = False


@dataclass
class SetObjectLegalHold:
    bucket: str
    key: str
    version_id: str | None
    on: bool


@dataclass
class SetBucketVersioning:
    bucket: str
    status: str                       # Enabled | Suspended


@dataclass
class SetBucketObjectLock:
    bucket: str
    config: ObjectLockConfig


@dataclass
class SetBucketLifecycle:
    bucket: str
    rules: list[LifecycleRule]        # empty: delete the configuration


@dataclass
class SetBucketTags:
    bucket: str
    tags: dict                        # empty: delete the tag set


@dataclass
class SetBucketCors:
    bucket: str
    rules: list[CorsRule]             # empty: delete the configuration


@dataclass
class SetBucketPolicy:
    bucket: str
    policy: str                       # the document as sent; "": delete the policy


@dataclass
class SetPublicAccessBlock:
    bucket: str
    config: PublicAccessBlock | None  # None: delete the configuration


@dataclass
class SetBucketAcl:
    bucket: str
    acl: list[Grant] | None           # None: private


@dataclass
class SetObjectAcl:
    bucket: str
    key: str
    acl: list[Grant] | None
    version_id: str | None = None     # None: the current version


@dataclass
class SetBucketOwnership:
    bucket: str
    ownership: str                    # "": delete the ownership controls


@dataclass
class SetBucketCompression:
    bucket: str
    mode: str                         # "on" | "off" | "": the server's default


@dataclass
class SetBucketEncryption:
    bucket: str
    config: EncryptionConfig | None   # None: delete the configuration


@dataclass
class ResealedKey:
    """A data unit's wrapped data key before and after a reseal (the same data key, wrapped
    under its KMS key's newest version: storage/kms.py `Kms.reseal`). The data id INLINE
    stands for a small object's sealed bytes kept in its record (ObjectVersion.inline_key)."""
    data_id: str
    old: str
    new: str

    INLINE = "(inline)"       # no data id looks like this (util.ids makes hex ids)


@dataclass
class ResealDataKeys:
    """Key rotation (engine/reseal.py): the data keys of one version's units re-sealed. A
    unit whose `sse_key` is no longer `old` (the version was overwritten, deleted or
    resealed since the scan) is left as it is; nothing else of the version changes."""
    bucket: str
    key: str
    version_id: str
    keys: list[ResealedKey]


@dataclass
class ResealPartKey:
    """As ResealDataKeys, for one part of an open multipart upload."""
    upload_id: str
    part_number: int
    unit: ResealedKey


@dataclass
class CreateUpload:
    upload: Upload


@dataclass
class PutPart:
    part: Part


@dataclass
class CompleteUpload:
    upload_id: str
    version: ObjectVersion    # its parts are the chosen upload parts, in order
    condition: Condition | None = None


@dataclass
class AbortUpload:
    upload_id: str


Mutation = (CreateBucket | DeleteBucket | PutObject | DeleteObject | CreateUpload | PutPart
            | CompleteUpload | AbortUpload | SetObjectTags | SetObjectRetention
            | SetObjectLegalHold | SetBucketVersioning | SetBucketObjectLock
            | SetBucketLifecycle | SetBucketTags | SetBucketCors | SetBucketAcl | SetObjectAcl
            | SetBucketOwnership | IamMutation)
# Bucket access control.
Mutation = Mutation | SetBucketPolicy | SetPublicAccessBlock
# Transparent compression (an s3ish bucket setting).
Mutation = Mutation | SetBucketCompression
# Default bucket encryption.
Mutation = Mutation | SetBucketEncryption
# Key rotation: data keys re-sealed under their KMS key's newest version.
Mutation = Mutation | ResealDataKeys | ResealPartKey
# Lifecycle transitions to the cold tier and RestoreObject (tier_records.py).
Mutation = Mutation | TierMutation


@dataclass
class Outcome:
    """What applying a mutation did: the data ids it freed (to delete after commit) and, for
    object mutations, the version it made or removed."""
    freed: list[str] = field(default_factory=list)
    version_id: str = ""
    delete_marker: bool = False
    # ResealDataKeys / ResealPartKey: the units whose key it replaced; TransitionVersion,
    # CompleteRestore, ExpireRestore: 1 if applied; RequestRestore: 1 if a restore begins
    # (202), 0 if a restored copy's time was moved (200).
    changed: int = 0
