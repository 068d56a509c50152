"""Listing from the metadata index: prefix, delimiter grouping with a skip-scan, pagination."""
from .types import ListResult

_BATCH = 1000


def next_after(s: str) -> str:
    """The smallest string that sorts after every string starting with `s` (code point order,
    which is also UTF-8 byte order)."""
    while s:
        c = ord(s[-1]) + 1
        if 0xD800 <= c <= 0xDFFF:
            c = 0xE000
        if c <= 0x10FFFF:
            return s[:-1] + chr(c)
        s = s[:-1]
    return "\U0010ffff" * 2  # unreachable for real prefixes; sorts after everything


async def list_objects(meta, bucket: str, prefix: str, delimiter: str, start_after: str,
                       max_keys: int) -> ListResult:
    contents, prefixes = [], []
    upper = next_after(prefix) if prefix else None
    cursor, inclusive = prefix, True
    if start_after and start_after >= prefix:
        cursor, inclusive = start_after, False
        cp = group_prefix(start_after, prefix, delimiter)
        if cp is not None:
            # The marker lies inside a rolled-up prefix that was already returned: skip it.
            cursor, inclusive = next_after(cp), True
    last = ""
    while True:
        want = min(_BATCH, max_keys - len(contents) - len(prefixes) + 1)
        rows = await meta.scan_objects(bucket, cursor, inclusive, upper, want)
        for row in rows:
            if len(contents) + len(prefixes) >= max_keys:
                return ListResult(contents, prefixes, True, last)
            cp = group_prefix(row.key, prefix, delimiter)
            if cp is not None:
                prefixes.append(cp)
                last = cp
                cursor, inclusive = next_after(cp), True
                break   # skip-scan: re-query past everything under this prefix
            contents.append(row)
            last = row.key
            cursor, inclusive = row.key, False
        else:
            if len(rows) < want:
                return ListResult(contents, prefixes, False, last)


def group_prefix(key: str, prefix: str, delimiter: str) -> str | None:
    """The common prefix `key` rolls up into, or None if it is listed itself."""
    if not delimiter:
        return None
    i = key.find(delimiter, len(prefix))
    return None if i < 0 else key[: i + len(delimiter)]
