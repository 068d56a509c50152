"""Bucket tag sets: AWS's rules for what a PutBucketTagging may store (no HTTP here).

AWS checks the tags one by one in document order (the first bad one names the error: an empty
or too long key, a too long value, a character outside the allowed set, the reserved `aws:`
prefix, a repeated key) and only then the number of tags.
"""
import unicodedata

from .errors import DomainError

MAX_BUCKET_TAGS = 50
MAX_KEY = 128
MAX_VALUE = 256
_PUNCTUATION = frozenset("_.:/=+-@")


class InvalidTag(DomainError):
    """A tag set S3 refuses; the message is AWS's, `tag_key` the offending key if any."""

    def __init__(self, message: str, tag_key: str | None = None):
        super().__init__(message)
        self.tag_key = tag_key


def allowed_text(text: str) -> bool:
    """Letters, numbers and spaces in any script, plus `_ . : / = + - @` (AWS's tag pattern
    `^([\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*)$`)."""
    return all(c in _PUNCTUATION or unicodedata.category(c)[0] in "LZN" for c in text)


def validate_bucket_tags(pairs: list[tuple[str, str]]) -> dict:
    """The tag set as a dict, in document order, or InvalidTag."""
    tags: dict = {}
    for key, value in pairs:
        if not key or len(key) > MAX_KEY or not allowed_text(key):
            raise InvalidTag("The TagKey you have provided is invalid", key)
        if len(value) > MAX_VALUE or not allowed_text(value):
            raise InvalidTag("The TagValue you have provided is invalid", key)
        if key.startswith("aws:"):
            raise InvalidTag("Your TagKey cannot be prefixed with aws:", key)
        if key in tags:
            raise InvalidTag("Cannot provide multiple Tags with the same key", key)
        tags[key] = value
    if len(tags) > MAX_BUCKET_TAGS:
        raise InvalidTag(f"Bucket tag count cannot be greater than {MAX_BUCKET_TAGS}")
    return tags
