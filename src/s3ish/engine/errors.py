"""Domain errors of the engine (the store's own are re-exported so callers import one place)."""
from ..meta.errors import (  # noqa: F401  (re-exported)
    BucketAlreadyExists, BucketAlreadyOwnedByYou, BucketNotEmpty, DeleteMarker, DomainError,
    EntityTooSmall, InvalidBucketState, InvalidPart, InvalidPartOrder, NoSuchBucket, NoSuchKey,
    NoSuchUpload, NoSuchVersion, ObjectLocked, ObjectLockNotEnabled, PreconditionFailed)


class ServiceUnavailable(DomainError):
    """Too few drives for the operation (a write quorum lost, a unit unreadable)."""


class DataGone(DomainError):
    """A data unit vanished between reading metadata and opening it (a racing overwrite)."""


class InvalidVersionId(DomainError):
    """A version id this store never issues (S3: 400 InvalidArgument)."""


class InvalidLockConfiguration(DomainError):
    """An object lock configuration that does not follow the schema (S3: MalformedXML)."""


class InvalidRetentionPeriod(DomainError):
    """A default retention period out of range (S3: 400 InvalidArgument naming the field)."""

    def __init__(self, message: str, name: str, value: int):
        super().__init__(message)
        self.name = name
        self.value = value


class InvalidLockMode(DomainError):
    """A retention mode other than GOVERNANCE or COMPLIANCE."""


class RetainUntilInPast(DomainError):
    """A retention whose retain-until date is not in the future."""
