"""Typed bucket configuration kept in the bucket's record: object lock, lifecycle rules, CORS,
access control (ACL grants, public access block), default encryption.

(Versioning state and bucket tags are plain fields of `records.Bucket`.) These are data only;
the rules that validate and apply them live in the engine.
"""
from dataclasses import dataclass, field


@dataclass
class ObjectLockConfig:
    """A bucket's object lock: enabled for good once set, with an optional default retention
    (mode and exactly one of days / years) applied to every new version."""
    enabled: bool = True
    mode: str = ""            # GOVERNANCE | COMPLIANCE | "" (no default retention)
    days: int = 0
    years: int = 0


@dataclass
class LifecycleFilter:
    """Which objects a rule applies to. `form` remembers how the client wrote it, so the
    configuration reads back the way it was put: "Filter", "Prefix" (the legacy rule-level
    element) or "" (neither)."""
    form: str = "Filter"
    prefix: str | None = None
    tags: dict = field(default_factory=dict)
    size_greater_than: int | None = None
    size_less_than: int | None = None
    use_and: bool = False     # written as <And>...</And>


@dataclass
class LifecycleTransition:
    storage_class: str
    days: int | None = None
    date: float | None = None         # epoch seconds (midnight UTC)


@dataclass
class LifecycleNoncurrentTransition:
    storage_class: str
    days: int | None = None
    newer_noncurrent_versions: int | None = None


@dataclass
class LifecycleRule:
    status: str                        # Enabled | Disabled
    id: str = ""
    filter: LifecycleFilter = field(default_factory=LifecycleFilter)
    expiration_days: int | None = None
    expiration_date: float | None = None              # epoch seconds (midnight UTC)
    expired_object_delete_marker: bool | None = None
    noncurrent_days: int | None = None
    newer_noncurrent_versions: int | None = None
    abort_incomplete_days: int | None = None
    transitions: list[LifecycleTransition] = field(default_factory=list)
    noncurrent_transitions: list[LifecycleNoncurrentTransition] = field(default_factory=list)


@dataclass
class CorsRule:
    """One CORS rule: which origins may use which methods (and request headers), and what
    the answers tell the browser (exposed headers, how long to cache a preflight)."""
    allowed_methods: list[str]
    allowed_origins: list[str]
    allowed_headers: list[str] = field(default_factory=list)
    expose_headers: list[str] = field(default_factory=list)
    max_age_seconds: int | None = None
    id: str | None = None


# ---- access control ----

@dataclass
class Grant:
    """One ACL grant. `grantee` is "id:<canonical user id>" or "group:<name>" with name
    AllUsers, AuthenticatedUsers or LogDelivery (a grant by email is stored as the id of the
    user the email names). `permission`: FULL_CONTROL, READ, WRITE, READ_ACP or WRITE_ACP."""
    grantee: str
    permission: str


@dataclass
class PublicAccessBlock:
    """A bucket's PublicAccessBlockConfiguration (all four off: nothing blocked)."""
    block_public_acls: bool = False
    ignore_public_acls: bool = False
    block_public_policy: bool = False
    restrict_public_buckets: bool = False


# ---- default encryption ----

@dataclass
class EncryptionConfig:
    """A bucket's default encryption (PutBucketEncryption's one rule): what new objects
    written without encryption headers get. SSE-C is never a default."""
    algorithm: str                    # AES256 | aws:kms
    kms_key_id: str = ""              # aws:kms: the KMSMasterKeyID as the client wrote it
    bucket_key: bool = False          # BucketKeyEnabled (recorded and echoed)
