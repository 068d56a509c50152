"""Journal segments: the journal of a drive (or the one folder) is a series of files in
`.s3ish/journal/`, `seg-<slot:020d>.log`, each starting with a base line.

A segment's slot is the LSN it was opened for: the records from `slot` on go to it until the
next segment is opened (sealing this one). So a sealed segment holds records slot..next-1,
the one after it is its successor on every drive, and the newest file is the open one. A
segment is sealed under the writers' lock (meta/sqlite.py), when it reaches a size bound
(the appender rotates) or on demand (the shipper's time bound, a checkpoint, a drive
joining): its data is made durable, it becomes read-only (0444: the flag other processes'
appenders check to move on), and the successor is created with its base line. Journals
written before segments existed are one `journal.log`: read as slot 0, the first segment.

The base line is what a file proves: it holds every record after its base. A file created
on a drive only when a record arrived (the drive missed the seal) is based at that record,
later than its slot: the drive misses what came before, and `drive_base` says so.

Truncation deletes whole sealed segments, oldest first, only up to what a snapshot of the
index covers (callers decide; with a cold tier also the S3 high-water mark).
"""
import collections
import os
from dataclasses import dataclass

from ..util.files import fsync_dir
from . import logcodec

FOLDER = os.path.join(".s3ish", "journal")
LEGACY = "journal.log"
PREFIX, SUFFIX = "seg-", ".log"
# A segment is sealed once it holds this much (the record that crosses it opens the next).
SEGMENT_BYTES = int(os.environ.get("S3ISH_JOURNAL_SEGMENT_BYTES", 32 * 1024 * 1024))
SEALED_MODE = 0o444


@dataclass(frozen=True)
class SegFile:
    path: str
    slot: int           # the LSN it was opened for; 0 for a legacy journal.log

    @property
    def size(self) -> int:
        try:
            return os.path.getsize(self.path)
        except OSError:
            return 0


def folder(drive: str) -> str:
    return os.path.join(drive, FOLDER)


def name(slot: int) -> str:
    return LEGACY if slot == 0 else f"{PREFIX}{slot:020d}{SUFFIX}"


def slot_of(filename: str) -> int | None:
    if filename == LEGACY:
        return 0
    if filename.startswith(PREFIX) and filename.endswith(SUFFIX):
        digits = filename[len(PREFIX):-len(SUFFIX)]
        if digits.isdigit() and len(digits) == 20 and int(digits) > 0:
            return int(digits)
    return None


def files(drive: str) -> list[SegFile]:
    """A drive's segment files, oldest first (none if the folder is unreadable)."""
    where = folder(drive)
    try:
        names = os.listdir(where)
    except OSError:
        return []
    found = [SegFile(os.path.join(where, n), s) for n in names
             if (s := slot_of(n)) is not None]
    return sorted(found, key=lambda f: f.slot)


def slots(drives: list[str]) -> list[int]:
    """Every slot on any drive, in order."""
    return sorted({f.slot for d in drives for f in files(d)})


def newest_slot(drives: list[str]) -> int | None:
    found = slots(drives)
    return found[-1] if found else None


def prepare(drive: str) -> None:
    """Make a drive ready to receive the journal (its folder). Appenders never create the
    folder themselves: a drive that vanished must not get a journal on the root disk."""
    os.makedirs(folder(drive), exist_ok=True)


# ---- reading one file ----

def lines(path: str):
    """The complete lines of a file (a torn last line without its newline is left out)."""
    try:
        f = open(path, "rb")
    except OSError:
        return
    with f:
        for line in f:
            if line.endswith(b"\n"):
                yield line


def base(path: str) -> int | None:
    """The sequence number after which the file at `path` holds every record; None when
    unknown (no file, unreadable, or an old-format file with no record to go by)."""
    for line in lines(path):
        doc = logcodec.decode_doc(line)
        if doc is None:
            continue
        if "base" in doc:
            return doc["base"]
        return doc["lsn"] - 1       # written before base lines existed
    return None


def last_in(path: str) -> int | None:
    """The newest position (record or base line) in one file."""
    last = None
    for line in lines(path):
        doc = logcodec.decode_doc(line)
        if doc is not None:
            last = doc.get("lsn", doc.get("base"))
    return last


# ---- a drive's journal as a whole ----

def drive_base(drive: str, known: list[int] | None = None) -> int | None:
    """The sequence number after which this drive's segments hold every record: the first
    file's base, moved later by any break in the chain (a file created late, or a slot
    another drive has that this one lacks between two of its files). `known`: the slots of
    the whole set (default: this drive's)."""
    fs = files(drive)
    if not fs:
        return None
    result = base(fs[0].path)
    known = sorted(known) if known is not None else [f.slot for f in fs]
    for prev, f in zip(fs, fs[1:]):
        b = base(f.path)
        missing = any(prev.slot < s < f.slot for s in known)
        if b is not None and (b > f.slot - 1 or missing):
            result = b
        elif b is None and missing:
            result = f.slot - 1
    return result


def last_lsn(drive: str) -> int | None:
    """The newest record's sequence number on one drive (its newest base if it has none)."""
    for f in reversed(files(drive)):
        last = last_in(f.path)
        if last is not None:
            return last
    return None


def exists(drives: list[str]) -> bool:
    return any(f.size > 0 for d in drives for f in files(d))


def size(drives: list[str], after: int = -1) -> int:
    """The largest journal among the drives, in bytes: of the segments that may hold records
    after `after` (all by default)."""
    best = 0
    for d in drives:
        fs = files(d)
        total = sum(f.size for f, nxt in zip(fs, fs[1:] + [None])
                    if nxt is None or nxt.slot - 1 > after)
        best = max(best, total)
    return best


# ---- sealing, repairing, truncating (under the writers' lock, or at start-up) ----

def create(where: str, slot: int, base_lsn: int, durable: bool = True) -> bool:
    """Create segment `slot` in folder `where` with its base line, atomically (a file never
    exists without its base line). False if it already existed."""
    final = os.path.join(where, name(slot))
    tmp = os.path.join(where, f".tmp-{os.getpid()}-{name(slot)}")
    with open(tmp, "wb") as f:
        f.write(logcodec.encode_base(base_lsn))
        f.flush()
        if durable:
            os.fsync(f.fileno())
    try:
        os.link(tmp, final)         # never replaces a segment that exists
        created = True
    except FileExistsError:
        created = False
    finally:
        os.unlink(tmp)
    if created and durable:
        fsync_dir(where)
    return created


def _seal_file(path: str) -> None:
    """Make a segment's records durable and mark it sealed (read-only)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    os.chmod(path, SEALED_MODE)


def sealed(path_or_fd) -> bool:
    mode = (os.fstat(path_or_fd) if isinstance(path_or_fd, int) else os.stat(path_or_fd)).st_mode
    return not mode & 0o222


def seal(drives: list[str], lsn: int, durable: bool = True) -> int:
    """Seal every drive's open segment at `lsn` (the log end: called under the writers'
    lock) and open segment lsn+1. A drive that already has it is left alone. Returns on how
    many drives the new segment exists."""
    slot = lsn + 1
    done = 0
    for drive in drives:
        fs = files(drive)
        if fs and fs[-1].slot >= slot:
            done += 1
            continue
        try:
            for f in fs:
                if not sealed(f.path):
                    _seal_file(f.path)
            create(folder(drive), slot, lsn, durable)
            done += 1
        except OSError:
            continue        # a failing drive: its appends create the segment when it is back
    return done


def repair(drives: list[str]) -> None:
    """Start-up, before appends: cut each drive's newest segment after its last intact
    record (a crash mid-append leaves a torn tail that later records must not land behind),
    mark the older ones sealed and the newest writable."""
    for drive in drives:
        fs = files(drive)
        if not fs:
            continue
        try:
            for f in fs[:-1]:
                if not sealed(f.path):
                    os.chmod(f.path, SEALED_MODE)
            newest = fs[-1].path
            good = pos = 0
            with open(newest, "rb") as f:
                for line in f:
                    pos += len(line)
                    if logcodec.intact(line):
                        good = pos
            if good < os.path.getsize(newest):
                os.truncate(newest, good)
            if sealed(newest):
                os.chmod(newest, 0o644)
        except OSError:
            continue


def truncate(drives: list[str], upto: int | dict) -> int:
    """Delete sealed segments whose records are all at or below `upto` (per drive when a
    dict), oldest first; the open segment always stays. Returns how many files went."""
    gone = 0
    for drive in drives:
        limit = upto.get(drive, -1) if isinstance(upto, dict) else upto
        fs = files(drive)
        removed = False
        for f, nxt in zip(fs, fs[1:]):
            if nxt.slot - 1 > limit:
                break
            try:
                os.unlink(f.path)
            except OSError:
                break
            gone += 1
            removed = True
        if removed:
            try:
                fsync_dir(folder(drive))
            except OSError:
                pass
    return gone


def restart_at(drive: str, lsn: int, drives: list[str] | None = None) -> None:
    """Give a drive a journal based at `lsn` (a snapshot at `lsn` is on it): seal the set at
    `lsn` (or this drive alone) and drop this drive's older segments. Called under the
    writers' lock, so every later record lands in the new segment."""
    prepare(drive)
    seal(sorted(set((drives or []) + [drive])), lsn)
    for f in files(drive):
        if f.slot <= lsn:
            try:
                os.unlink(f.path)
            except FileNotFoundError:
                pass
    fsync_dir(folder(drive))


# ---- reading the records of a set of drives ----

def merged_lines(drives: list[str], after: int = -1, upto: int | None = None) -> dict:
    """{lsn: (line, Entry)}: every intact record after `after` (and up to `upto`) from any
    drive, in LSN order; when copies differ, the version most drives hold. Files wholly at
    or below `after` are not read."""
    every = slots(drives)
    copies: dict[int, collections.Counter] = {}
    decoded: dict[bytes, logcodec.Entry] = {}
    for drive in drives:
        for f in files(drive):
            later = [s for s in every if s > f.slot]
            if later and later[0] - 1 <= after:
                continue        # every record in it is at or below `after`
            if upto is not None and f.slot > upto:
                break
            for line in lines(f.path):
                doc = logcodec.decode_doc(line)
                lsn = doc.get("lsn") if doc is not None else None
                if lsn is None or lsn <= after or (upto is not None and lsn > upto):
                    continue
                if line not in decoded:
                    entry = logcodec.entry_of(doc)
                    if entry is None:
                        continue        # corrupt content under a good CRC, or newer format
                    decoded[line] = entry
                copies.setdefault(lsn, collections.Counter())[line] += 1
    out = {}
    for lsn, counter in sorted(copies.items()):
        line = counter.most_common(1)[0][0]
        out[lsn] = (line, decoded[line])
    return out


def read_entries(drives: list[str], after: int = -1, upto: int | None = None
                 ) -> list[logcodec.Entry]:
    """The records after `after` (up to `upto`), one per LSN, in LSN order. A record torn or
    missing on one drive is taken from another; a damaged line is skipped, not the rest of
    the file."""
    return [entry for _, entry in merged_lines(drives, after, upto).values()]


def read_merged(drives: list[str], after: int = -1) -> list[tuple[int, list]]:
    """As read_entries, as (lsn, mutations) pairs."""
    return [(e.lsn, e.mutations) for e in read_entries(drives, after)]


def first_entry_after(drives: list[str], lsn: int) -> logcodec.Entry | None:
    """The oldest intact record after `lsn` on any drive (how long the oldest record not
    shipped yet has waited), reading only what it must."""
    every = slots(drives)
    best = None
    for drive in drives:
        for f in files(drive):
            later = [s for s in every if s > f.slot]
            if later and later[0] - 1 <= lsn:
                continue
            for line in lines(f.path):
                doc = logcodec.decode_doc(line)
                if doc is not None and doc.get("lsn", -1) > lsn:
                    entry = logcodec.entry_of(doc)
                    if entry is not None and (best is None or entry.lsn < best.lsn):
                        best = entry
                    break
            if best is not None:
                break
    return best
