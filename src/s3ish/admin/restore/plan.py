"""What a restore reads: the remote manifest (TIER_SPEC layout, docs/tier.md), the position
to restore to, and the checkpoint and segments that lead there. Pure: no I/O here.

A restore to N (N <= the high-water mark) starts from the newest checkpoint at or below N (or
from an empty index when there is none and the log reaches back to the first record) and
replays the segments after it, in the manifest's order, up to N. `--to-time T` restores to
the largest record position whose commit time is <= T: segments wholly before T give their
last position from the manifest alone; only a segment that straddles T (or has no times) is
read to find it.
"""
import datetime
from dataclasses import dataclass

from ...bg.tierread import TierReadError

FORMAT = 1            # the manifest format this restore reads


# A restore cannot go on: the message says why, in one line an operator can act on. The
# same class as the tier readers shared with the follower raise (bg/tierread.py).
RestoreError = TierReadError


@dataclass(frozen=True)
class Segment:
    gen: int
    first: int
    last: int
    key: str
    size: int
    first_time: float | None = None
    last_time: float | None = None


@dataclass(frozen=True)
class Checkpoint:
    lsn: int
    gen: int
    key: str
    size: int
    time: float | None = None


@dataclass(frozen=True)
class Manifest:
    generation: int
    writer: str
    hwm: int
    segments: tuple
    checkpoints: tuple
    updated: float | None = None
    # {"gen", "from_lsn", "time"} of each writer generation, as written (the follower's
    # bootstrap keeps its generation's entry to recognise its timeline later).
    generations: tuple = ()


def _int(doc: dict, name: str, where: str) -> int:
    value = doc.get(name)
    if type(value) is not int or value < 0:
        raise RestoreError(f"manifest.json: {where} has no valid {name!r}")
    return value


def _time(doc: dict, name: str) -> float | None:
    value = doc.get(name)
    return float(value) if type(value) in (int, float) else None


def _key(doc: dict, where: str, folder: str) -> str:
    key = doc.get("key")
    if not isinstance(key, str) or not key.startswith(folder) or ".." in key.split("/"):
        raise RestoreError(f"manifest.json: {where} has no valid key under {folder}")
    return key


def parse_manifest(doc) -> Manifest:
    """Check and read manifest.json's document (RestoreError when it cannot be trusted)."""
    if not isinstance(doc, dict):
        raise RestoreError("manifest.json is not a JSON object")
    fmt = doc.get("format")
    if fmt != FORMAT:
        raise RestoreError(f"manifest.json has format {fmt!r}; this s3ish reads format "
                           f"{FORMAT} (written by a newer s3ish?)")
    segments, checkpoints = [], []
    for i, s in enumerate(doc.get("segments") or []):
        where = f"segment {i}"
        if not isinstance(s, dict):
            raise RestoreError(f"manifest.json: {where} is not an object")
        seg = Segment(_int(s, "gen", where), _int(s, "first", where), _int(s, "last", where),
                      _key(s, where, "log/"), _int(s, "size", where),
                      _time(s, "first_time"), _time(s, "last_time"))
        if seg.first > seg.last or seg.first < 1:
            raise RestoreError(f"manifest.json: {where} ({seg.key}) covers {seg.first}.."
                               f"{seg.last}")
        segments.append(seg)
    for i, c in enumerate(doc.get("checkpoints") or []):
        where = f"checkpoint {i}"
        if not isinstance(c, dict):
            raise RestoreError(f"manifest.json: {where} is not an object")
        checkpoints.append(Checkpoint(_int(c, "lsn", where), _int(c, "gen", where),
                                      _key(c, where, "checkpoints/"), _int(c, "size", where),
                                      _time(c, "time")))
    writer = doc.get("writer")
    return Manifest(_int(doc, "generation", "the manifest"),
                    writer if isinstance(writer, str) else "",
                    _int(doc, "hwm", "the manifest"), tuple(segments), tuple(checkpoints),
                    _time(doc, "updated"),
                    tuple(g for g in doc.get("generations") or [] if isinstance(g, dict)))


def parse_time(text: str) -> float:
    """ISO 8601 with a zone (`2026-12-02T21:00:00Z`, `...+00:00`) -> epoch seconds."""
    try:
        when = datetime.datetime.fromisoformat(text.strip())
    except ValueError:
        raise RestoreError(f"--to-time {text!r} is not an ISO 8601 time "
                           "(e.g. 2026-12-02T21:00:00Z)") from None
    if when.tzinfo is None:
        raise RestoreError(f"--to-time {text!r} has no time zone: give it in UTC, "
                           "e.g. 2026-12-02T21:00:00Z")
    return when.timestamp()


def format_time(t: float | None) -> str:
    if t is None:
        return "unknown time"
    return datetime.datetime.fromtimestamp(t, datetime.timezone.utc).isoformat(
        timespec="milliseconds").replace("+00:00", "Z")


def check_lsn(manifest: Manifest, lsn: int) -> int:
    if lsn < 0:
        raise RestoreError(f"--to-lsn {lsn} is negative")
    if lsn > manifest.hwm:
        raise RestoreError(f"--to-lsn {lsn} is above the cold tier's high-water mark "
                           f"{manifest.hwm}: only records up to it are safely shipped")
    return lsn


def time_candidates(manifest: Manifest, when: float) -> tuple[int | None, list[Segment]]:
    """For --to-time: (the largest position known from the manifest alone to be at or before
    `when`, or None; the segments that must be read to look further, in order)."""
    best = None
    for c in manifest.checkpoints:
        # A checkpoint made at or before `when` holds only records committed before it.
        if c.time is not None and c.time <= when and c.lsn <= manifest.hwm:
            best = c.lsn if best is None else max(best, c.lsn)
    to_read = []
    for s in covered(manifest):
        if s.first_time is not None and s.first_time > when:
            continue
        if s.last_time is not None and s.last_time <= when:
            best = s.last if best is None else max(best, s.last)
        else:
            to_read.append(s)
    # A segment ending at or below what is already known cannot raise it.
    return best, [s for s in to_read if best is None or s.last > best]


def covered(manifest: Manifest) -> list[Segment]:
    """The segments up to the high-water mark (a segment past it is not trusted yet)."""
    return [s for s in manifest.segments if s.first <= manifest.hwm]


def checkpoint_for(manifest: Manifest, target: int) -> Checkpoint | None:
    """The newest checkpoint at or below `target`."""
    found = [c for c in manifest.checkpoints if c.lsn <= target]
    return max(found, key=lambda c: (c.lsn, c.gen)) if found else None


def segments_for(manifest: Manifest, start: int, target: int) -> list[Segment]:
    """The segments holding records start+1..target, in order, with no gap (I4), or the
    RestoreError naming what is missing."""
    if target <= start:
        return []
    chosen, at = [], start          # every record <= `at` is covered
    for s in manifest.segments:
        if s.last <= at:
            continue
        if s.first > at + 1:
            raise RestoreError(f"the remote log has a gap: records {at + 1}..{s.first - 1} "
                               f"are in no segment of manifest.json (next: {s.key})")
        chosen.append(s)
        at = s.last
        if at >= target:
            return chosen
    if not chosen:
        raise RestoreError(f"the remote log holds no segment with records {start + 1}.."
                           f"{target}")
    raise RestoreError(f"the remote log ends at {at}: records {at + 1}..{target} are in "
                       "no segment of manifest.json")


def start_point(manifest: Manifest, target: int) -> Checkpoint | None:
    """The checkpoint to start from (None: an empty index), refusing a target the kept
    checkpoints and segments cannot reach."""
    checkpoint = checkpoint_for(manifest, target)
    start = checkpoint.lsn if checkpoint else 0
    if checkpoint is None and target > 0:
        first = min((s.first for s in manifest.segments), default=None)
        if first is None or first > 1:
            begins = f"starts at {first}" if first is not None else "is empty"
            raise RestoreError(f"no checkpoint at or below {target} and the remote log "
                               f"{begins}: the records before it are gone, so {target} "
                               "cannot be restored")
    segments_for(manifest, start, target)   # refuses a gap now, before any download
    return checkpoint
