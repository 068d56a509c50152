"""ListObjectVersions: every version of every key, current first and then newest first,
with key and version-id markers (through the shared skip-scan)."""
from dataclasses import dataclass

from .listing import next_after, skip_scan, start_past_group

_AFTER_ALL = "\U0010ffff"     # a version position after every version of a key


@dataclass
class VersionListing:
    versions: list            # meta VersionRow (key, vpos, version: ObjectVersion)
    common_prefixes: list[str]
    is_truncated: bool
    next_key_marker: str
    next_version_id_marker: str


async def list_object_versions(meta, bucket: str, prefix: str = "", delimiter: str = "",
                               key_marker: str = "", version_id_marker: str = "",
                               max_keys: int = 1000) -> VersionListing:
    upper = next_after(prefix) if prefix else None
    cursor = (prefix, None)
    if key_marker and key_marker >= prefix:
        resume = start_past_group(key_marker, prefix, delimiter)
        if resume is not None:
            cursor = (resume, None)
        elif version_id_marker:
            cursor = (key_marker, await _position(meta, bucket, key_marker, version_id_marker))
        else:
            cursor = (key_marker, _AFTER_ALL)

    async def fetch(c, limit):
        return await meta.scan_versions(bucket, c[0], c[1], upper, limit)

    page = await skip_scan(fetch, lambda row: (row.key, row.vpos),
                           lambda cp: (next_after(cp), None), cursor, prefix, delimiter,
                           max_keys)
    key, vid = "", ""
    if page.truncated and page.last is not None:
        if isinstance(page.last, str):
            key = page.last
        else:
            key, vid = page.last.key, page.last.version.version_id
    return VersionListing(page.items, page.prefixes, page.truncated, key, vid)


async def _position(meta, bucket: str, key: str, version_id: str) -> str:
    """The scan position of a version-id marker: "" for the key's current version (the
    listing goes on with its noncurrent ones), else the version's sort key."""
    cur = await meta.get_object(bucket, key)
    if cur is not None and cur.version_id == version_id:
        return ""
    v = await meta.get_version(bucket, key, version_id)
    if v is not None:
        return v.vsort
    return version_id if version_id != "null" else ""
