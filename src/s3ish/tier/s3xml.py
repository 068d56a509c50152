"""The two XML documents the remote client reads: an S3 error and a ListObjectsV2 page.

Parsed as the server parses what it is sent: a size cap first, then defusedxml (no DTDs, no
entities, no network); namespaces ignored. A document that does not parse is a `ValueError`.
"""
from typing import NamedTuple
from urllib.parse import unquote_plus

from defusedxml import ElementTree as SafeET

MAX_XML = 8 << 20   # a 1000-key page with 1024-byte keys is ~1.5 MB


class ListEntry(NamedTuple):
    key: str
    size: int
    etag: str       # without quotes


class ListPage(NamedTuple):
    entries: list       # ListEntry, keys as stored (with the tier prefix)
    truncated: bool
    next_token: str | None


def _parse(data: bytes):
    if len(data) > MAX_XML:
        raise ValueError("XML document too large")
    try:
        return SafeET.fromstring(data, forbid_dtd=True)
    except Exception as e:  # defusedxml and expat raise several unrelated types
        raise ValueError(f"malformed XML: {e}") from None


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _child(elem, name: str):
    for c in elem:
        if _local(c.tag) == name:
            return c
    return None


def _text(elem, name: str, default: str = "") -> str:
    c = _child(elem, name)
    return default if c is None or c.text is None else c.text


def parse_error(data: bytes) -> tuple[str, str]:
    """(code, message) of an S3 error document; ('', first bytes) for anything else."""
    try:
        root = _parse(data)
    except ValueError:
        return "", data[:200].decode("utf-8", "replace").strip()
    if _local(root.tag) != "Error":
        return "", data[:200].decode("utf-8", "replace").strip()
    return _text(root, "Code"), _text(root, "Message")


def parse_list(data: bytes) -> ListPage:
    """A ListObjectsV2 page asked with encoding-type=url (keys come URL-encoded, as AWS
    encodes them: '+' for a space, so they are decoded with unquote_plus as botocore does)."""
    root = _parse(data)
    if _local(root.tag) != "ListBucketResult":
        raise ValueError(f"unexpected root element {_local(root.tag)}")
    encoded = _text(root, "EncodingType") == "url"
    entries = []
    for c in root:
        if _local(c.tag) != "Contents":
            continue
        key = _text(c, "Key")
        entries.append(ListEntry(unquote_plus(key) if encoded else key,
                                 int(_text(c, "Size", "0")), _text(c, "ETag").strip('"')))
    truncated = _text(root, "IsTruncated").lower() == "true"
    token = _text(root, "NextContinuationToken") or None
    return ListPage(entries, truncated, token)
