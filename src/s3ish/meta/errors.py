"""Domain errors raised by the metadata store and the engine; no HTTP here.

The S3 layer maps each class to its S3Error by name (see s3/errors.py).
"""


class DomainError(Exception):
    """Base of every error the engine or a store raises on purpose."""


class NoSuchBucket(DomainError):
    pass


class BucketAlreadyExists(DomainError):
    pass


class BucketAlreadyOwnedByYou(DomainError):
    pass


class BucketNotEmpty(DomainError):
    pass


class NoSuchKey(DomainError):
    pass


class NoSuchUpload(DomainError):
    pass


class InvalidPart(DomainError):
    pass


class InvalidPartOrder(DomainError):
    pass


class EntityTooSmall(DomainError):
    pass


class PreconditionFailed(DomainError):
    pass


class NoSuchVersion(DomainError):
    pass


class ObjectLocked(DomainError):
    """The version is protected by object lock (retention or legal hold)."""


class InvalidBucketState(DomainError):
    pass


class ReadOnlyFollower(DomainError):
    """A mutation offered to the store of a read-only server (a follower of the cold tier:
    its index changes only by the records it applies). The message says why."""


class ObjectLockNotEnabled(DomainError):
    """An object lock operation on a bucket without object lock."""


class DeleteMarker(DomainError):
    """The version asked for (or the current one) is a delete marker."""

    def __init__(self, version_id: str, current: bool):
        super().__init__(version_id)
        self.version_id = version_id
        self.current = current


class InvalidBucketAclWithObjectOwnership(DomainError):
    """BucketOwnerEnforced asked of (or at the creation of) a bucket whose ACL is not
    private."""
