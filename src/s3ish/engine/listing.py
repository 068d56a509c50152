"""Listing from the metadata index: one skip-scan serves objects, object versions and
multipart uploads (prefix, delimiter grouping, pagination).

The skip-scan reads rows in index order from a cursor; a row that rolls up into a common
prefix ends the batch and the next query starts past everything under that prefix, so a
delimiter listing costs one query per group, not one row per key under it.
"""
from dataclasses import dataclass

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


def group_prefix(key: str, prefix: str, delimiter: str) -> str | None:
    """The common prefix `key` rolls up into, or None if it is listed itself."""
    if not delimiter:
        return None
    i = key.find(delimiter, len(prefix))
    return None if i < 0 else key[: i + len(delimiter)]


@dataclass
class Page:
    items: list
    prefixes: list[str]
    truncated: bool
    last: object          # the last row or common prefix (str) returned: the next marker


async def skip_scan(fetch, after, past, cursor, prefix: str, delimiter: str,
                    max_items: int) -> Page:
    """`fetch(cursor, limit)`: up to `limit` rows after `cursor`, in index order, each with a
    `.key`; `after(row)`: the cursor just past a row; `past(prefix)`: the cursor past every
    key starting with `prefix`. Rows and common prefixes count alike toward `max_items`."""
    items, prefixes, last = [], [], None
    while True:
        want = min(_BATCH, max_items - len(items) - len(prefixes) + 1)
        rows = await fetch(cursor, want)
        for row in rows:
            if len(items) + len(prefixes) >= max_items:
                return Page(items, prefixes, True, last)
            cp = group_prefix(row.key, prefix, delimiter)
            if cp is not None:
                prefixes.append(cp)
                last, cursor = cp, past(cp)
                break   # skip-scan: re-query past everything under this prefix
            items.append(row)
            last, cursor = row, after(row)
        else:
            if len(rows) < want:
                return Page(items, prefixes, False, last)


def start_past_group(marker: str, prefix: str, delimiter: str) -> str | None:
    """If a marker lies inside a common prefix already returned, where to resume instead."""
    cp = group_prefix(marker, prefix, delimiter)
    return None if cp is None else next_after(cp)


async def list_objects(meta, bucket: str, prefix: str, delimiter: str, start_after: str,
                       max_keys: int) -> ListResult:
    upper = next_after(prefix) if prefix else None
    cursor = (prefix, True)
    if start_after and start_after >= prefix:
        resume = start_past_group(start_after, prefix, delimiter)
        cursor = (resume, True) if resume is not None else (start_after, False)

    async def fetch(c, limit):
        return await meta.scan_objects(bucket, c[0], c[1], upper, limit)

    page = await skip_scan(fetch, lambda row: (row.key, False), lambda cp: (next_after(cp), True),
                           cursor, prefix, delimiter, max_keys)
    last = page.last if isinstance(page.last, str) or page.last is None else page.last.key
    return ListResult(page.items, page.prefixes, page.truncated, last or "")
