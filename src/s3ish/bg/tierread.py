"""Reading the cold tier's log (docs/tier.md, "Remote layout"): a segment or checkpoint
downloaded into a local file, and a downloaded segment's records, checked. Shared by
`s3ish restore` (admin/restore/) and the follower (bg/tierfollow.py), so both read the tier
the same way.

Segments are journal lines (meta/logcodec.py): a base line, then records `{"lsn", "f", "t",
"m"}` with a CRC each, decoded by `meta.journal.decode_entry`. A line that does not decode
is an error naming the segment and the line, never skipped: the remote copy is the only one
left.
"""
from ..meta import journal, logcodec
from ..tier.errors import NotFound
from ..util.threads import run_io


class TierReadError(Exception):
    """What the tier holds cannot be used (missing, short, damaged, out of order): the
    message says why, in one line an operator can act on."""


def is_base(line: bytes) -> bool:
    doc = logcodec.decode_doc(line)
    return doc is not None and "base" in doc


def read_segment(path: str, seg):
    """The records (meta.journal.Entry) of a downloaded segment (`seg`: its manifest entry,
    with key, first and last), checked: each decodes, lies in the segment's range and
    follows the one before it. A blocking generator."""
    last = seg.first - 1
    with open(path, "rb") as f:
        for number, line in enumerate(f, 1):
            where = f"segment {seg.key} line {number}"
            if not line.endswith(b"\n"):
                raise TierReadError(f"{where} is cut short (a damaged segment)")
            entry = journal.decode_entry(line)
            if entry is None:
                if is_base(line):
                    continue
                raise TierReadError(f"{where} does not decode (damaged, or written by a "
                                    "newer s3ish)")
            if not last < entry.lsn <= seg.last:
                raise TierReadError(f"{where} holds record {entry.lsn}, out of order or "
                                    f"outside the segment's {seg.first}..{seg.last}")
            last = entry.lsn
            yield entry


async def download(remote, again, key: str, size: int, path: str, what: str) -> int:
    """Stream `key` into the file at `path` (rewritten by each attempt, `again(op)` retrying
    them); its size must be the manifest's. Returns the bytes written."""
    async def attempt():
        try:
            body = await remote.get(key)
        except NotFound:
            raise TierReadError(f"{what} {key} named in manifest.json is missing from the "
                                "remote") from None
        async with body:
            f = await run_io(open, path, "wb")
            try:
                n = 0
                async for chunk in body:
                    n += len(chunk)
                    await run_io(f.write, chunk)
            finally:
                await run_io(f.close)
        if n != size:
            raise TierReadError(f"{what} {key} is {n} bytes on the remote; manifest.json "
                                f"says {size}")
        return n
    return await again(attempt)
