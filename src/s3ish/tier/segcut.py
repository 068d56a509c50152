"""Reading the framing of shipped segments without decoding their records (the tier knows
nothing of mutations): each line is a JSON document, a tab, its CRC32 in hex. A record line
carries "lsn" and (since commit times exist) "t"; a base line carries "base". Used to cut a
segment at a position (a takeover after a restore) and by `tier verify`.
"""
import json
import zlib


def position(line: bytes) -> tuple[str, int, float | None] | None:
    """("lsn" | "base", position, commit time or None) of an intact line, else None."""
    body, sep, crc = line.rstrip(b"\n").rpartition(b"\t")
    if not line.endswith(b"\n") or not sep or f"{zlib.crc32(body):08x}".encode() != crc:
        return None
    try:
        doc = json.loads(body)
    except (ValueError, RecursionError):
        return None
    if not isinstance(doc, dict):
        return None
    for kind in ("lsn", "base"):
        if type(doc.get(kind)) is int:
            t = doc.get("t")
            return kind, doc[kind], float(t) if type(t) in (int, float) else None
    return None


def cut(blob: bytes, at: int) -> tuple[bytes, float | None, float | None]:
    """The segment `blob` without its records after `at`: (body, first and last commit
    times of what is kept)."""
    kept, times = [], []
    for line in blob.splitlines(keepends=True):
        pos = position(line)
        if pos is None:
            raise ValueError("a damaged line in a shipped segment")
        if pos[0] == "base" or pos[1] <= at:
            kept.append(line)
            if pos[0] == "lsn":
                times.append(pos[2])
    return b"".join(kept), (times[0] if times else None), (times[-1] if times else None)
