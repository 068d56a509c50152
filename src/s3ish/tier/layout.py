"""The cold tier's remote layout (the issue's TIER_SPEC; docs/tier.md): key names and the
manifest, with the checks every reader and writer applies.

Keys, relative to the tier prefix, numbers zero-padded so key order is numeric order:

    manifest.json                               the only key ever overwritten (If-Match)
    log/<gen:08d>/<first:020d>-<last:020d>.seg   a sealed segment: records first..last
    checkpoints/<lsn:020d>-<gen:08d>.sqlite3     the index at exactly lsn
    data/<data_id>                              a data unit's stored bytes

The manifest names the segments up to the high-water mark (contiguous: each first is the
previous last + 1), the kept checkpoints and the writer generations; it is written only once
everything it names exists (I3), by the current generation's writer (I6).
"""
import json
import time
from dataclasses import asdict, dataclass, field, replace

FORMAT = 1
MANIFEST = "manifest.json"


def segment_key(gen: int, first: int, last: int) -> str:
    return f"log/{gen:08d}/{first:020d}-{last:020d}.seg"


def checkpoint_key(lsn: int, gen: int) -> str:
    return f"checkpoints/{lsn:020d}-{gen:08d}.sqlite3"


def data_key(data_id: str) -> str:
    return f"data/{data_id}"


class ManifestError(ValueError):
    """manifest.json cannot be trusted (not the format, or breaks an invariant)."""


@dataclass(frozen=True)
class SegmentEntry:
    gen: int
    first: int
    last: int
    key: str
    size: int
    first_time: float | None = None     # commit times of its first and last records
    last_time: float | None = None


@dataclass(frozen=True)
class CheckpointEntry:
    lsn: int
    gen: int
    key: str
    size: int
    time: float | None = None           # when it was taken


@dataclass(frozen=True)
class GenerationEntry:
    gen: int
    from_lsn: int                       # this generation writes records from here on
    time: float | None = None


@dataclass(frozen=True)
class Manifest:
    generation: int
    writer: str
    hwm: int
    segments: tuple = ()
    checkpoints: tuple = ()
    generations: tuple = ()
    updated: float = field(default_factory=time.time)

    def to_json(self) -> bytes:
        doc = {"format": FORMAT, "generation": self.generation, "writer": self.writer,
               "hwm": self.hwm, "segments": [asdict(s) for s in self.segments],
               "checkpoints": [asdict(c) for c in self.checkpoints],
               "generations": [asdict(g) for g in self.generations],
               "updated": self.updated}
        return json.dumps(doc, separators=(",", ":")).encode()

    @classmethod
    def from_json(cls, blob: bytes) -> "Manifest":
        try:
            doc = json.loads(blob)
        except ValueError as e:
            raise ManifestError(f"manifest.json is not JSON: {e}") from None
        fmt = doc.get("format") if isinstance(doc, dict) else None
        if fmt != FORMAT:
            raise ManifestError(f"manifest.json has format {fmt!r}, this s3ish reads {FORMAT}")
        try:
            m = cls(_int(doc["generation"]), str(doc.get("writer", "")), _int(doc["hwm"]),
                    tuple(_entry(SegmentEntry, s) for s in doc.get("segments") or []),
                    tuple(_entry(CheckpointEntry, c) for c in doc.get("checkpoints") or []),
                    tuple(_entry(GenerationEntry, g) for g in doc.get("generations") or []),
                    float(doc.get("updated") or 0.0))
        except (KeyError, TypeError, ValueError) as e:
            raise ManifestError(f"manifest.json is malformed: {e}") from None
        problem = m.problem()
        if problem:
            raise ManifestError(f"manifest.json: {problem}")
        return m

    # ---- invariants ----
    def problem(self) -> str | None:
        """The first way this manifest breaks the layout's rules (I4: no gap up to the
        high-water mark; names that match their ranges), or None."""
        for s in self.segments:
            if not 1 <= s.first <= s.last or not s.key.startswith("log/"):
                return f"segment {s.key} covers {s.first}..{s.last}"
        for a, b in zip(self.segments, self.segments[1:]):
            if b.first != a.last + 1:
                return f"gap in the log: {a.key} ends at {a.last}, {b.key} starts at {b.first}"
        start = self.log_start()
        end = self.segments[-1].last if self.segments else start
        if self.hwm > end:
            return f"high-water mark {self.hwm} is past the last segment ({end})"
        if self.hwm < start:
            return f"high-water mark {self.hwm} is before the log starts ({start})"
        for c in self.checkpoints:
            if not c.key.startswith("checkpoints/") or c.lsn > self.hwm:
                return f"checkpoint {c.key} at {c.lsn} (high-water mark {self.hwm})"
            if c.lsn < start:
                return f"checkpoint {c.key} at {c.lsn} is older than the log ({start})"
        return None

    def log_start(self) -> int:
        """The position the kept log continues from: the first segment's first - 1 (the
        oldest checkpoint when there are no segments, 0 without either)."""
        if self.segments:
            return self.segments[0].first - 1
        return min((c.lsn for c in self.checkpoints), default=0)

    def newest_checkpoint(self) -> CheckpointEntry | None:
        return max(self.checkpoints, key=lambda c: (c.lsn, c.gen), default=None)

    # ---- changes (a new manifest each time) ----
    def shipped(self, segments: list, checkpoints: list, writer: str) -> "Manifest":
        hwm = segments[-1].last if segments else self.hwm
        return replace(self, writer=writer, hwm=hwm, segments=self.segments + tuple(segments),
                       checkpoints=self.checkpoints + tuple(checkpoints), updated=time.time())

    def taken_over(self, generation: int, writer: str, at: int,
                   cut: SegmentEntry | None) -> "Manifest":
        """Generation `generation` continues from record `at` + 1 (a restore to `at`): the
        log and checkpoints after `at` are dropped (the segment straddling it replaced by
        `cut`, a copy holding its records up to `at`)."""
        segments = tuple(s for s in self.segments if s.last <= at) + ((cut,) if cut else ())
        return replace(self, generation=generation, writer=writer, hwm=at, segments=segments,
                       checkpoints=tuple(c for c in self.checkpoints if c.lsn <= at),
                       generations=self.generations + (GenerationEntry(generation, at + 1,
                                                                       time.time()),),
                       updated=time.time())


def _entry(cls, doc: dict):
    """An entry from its document; fields a newer writer added are ignored."""
    names = cls.__dataclass_fields__
    return cls(**{k: v for k, v in doc.items() if k in names})


def _int(value) -> int:
    if type(value) is not int or value < 0:
        raise ValueError(f"{value!r} is not a position")
    return value
