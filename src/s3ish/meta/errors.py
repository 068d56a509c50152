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
