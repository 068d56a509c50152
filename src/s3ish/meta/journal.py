"""The metadata journal: every committed mutation, appended to a log mirrored on the drives.

With erasure-coded drives the SQLite index lives on one drive; the journal lives on all of
them, so losing any m drives (the index's among them) loses no metadata: the index is rebuilt
by replaying the journal from the drives that remain. Records are JSON lines with a CRC; a
torn last line (a crash mid-append) is cut off at start-up. Inline object bytes travel in the
records, so small objects are exactly as safe as large ones.

Each journal file starts with a base line, `{"base": B}`: the file holds every record after
sequence number B (a drive that joined late, or a journal cut by compaction, has B > 0 and a
snapshot of the index at B or later beside it). Without it a journal that started late would
look complete and a rebuild from it would silently drop everything before. Files written
before base lines existed are read as based just before their first record.
"""
import collections
import concurrent.futures
import json
import os
import typing
import zlib

from ..util.errors import QuorumError
from ..util.files import fsync_dir
from . import docs, records

FOLDER = os.path.join(".s3ish", "journal")
FILE = "journal.log"
_TYPES = {cls.__name__: cls for cls in typing.get_args(records.Mutation)}


class JournalQuorumError(QuorumError):
    """Fewer drives than the write quorum took the journal record: the commit is refused."""


# ---- (de)serialisation of mutation records ----

def encode_record(lsn: int, mutations: list) -> bytes:
    body = json.dumps({"lsn": lsn, "f": records.FORMAT,
                       "m": [[type(m).__name__, docs.to_doc(m)] for m in mutations]},
                      separators=(",", ":")).encode()
    return body + b"\t" + f"{zlib.crc32(body):08x}".encode() + b"\n"


def encode_base(base: int) -> bytes:
    body = json.dumps({"base": base}, separators=(",", ":")).encode()
    return body + b"\t" + f"{zlib.crc32(body):08x}".encode() + b"\n"


def _decode_doc(line: bytes) -> dict | None:
    body, sep, crc = line.rstrip(b"\n").rpartition(b"\t")
    if not sep or f"{zlib.crc32(body):08x}".encode() != crc:
        return None
    try:
        doc = json.loads(body)
    except (ValueError, RecursionError):      # RecursionError: deeply nested JSON
        return None
    if not isinstance(doc, dict):
        return None
    # A line is a base line or a record: exactly one integer position, whatever the CRC says.
    positions = [doc.get(k) for k in ("base", "lsn") if k in doc]
    if len(positions) != 1 or type(positions[0]) is not int:
        return None
    return doc


def decode_record(line: bytes):
    """(lsn, [mutation]) or None if the line is torn, corrupt or a base line (a record whose
    CRC holds but whose content does not decode counts as corrupt too)."""
    doc = _decode_doc(line)
    if doc is None or "lsn" not in doc:
        return None
    lsn = doc["lsn"]
    if type(lsn) is not int:       # LSNs are compared and sorted by every reader
        return None
    fmt = doc.get("f", 1)
    if type(fmt) is not int or not 1 <= fmt <= records.FORMAT:
        return None     # written by a newer s3ish (or corrupt): never half-understood
    try:
        return lsn, [docs.from_doc(_TYPES[name], d) for name, d in doc["m"]]
    except (ValueError, KeyError, TypeError, AttributeError, RecursionError):
        return None


def _intact(line: bytes) -> bool:
    return line.endswith(b"\n") and _decode_doc(line) is not None


def base(path: str) -> int | None:
    """The sequence number after which the file at `path` holds every record; None when
    unknown (no file, unreadable, or an old-format file with no record to go by)."""
    try:
        with open(path, "rb") as f:
            for line in f:
                doc = _decode_doc(line) if line.endswith(b"\n") else None
                if doc is None:
                    continue
                if "base" in doc:
                    return doc["base"]
                return doc["lsn"] - 1       # written before base lines existed
    except OSError:
        return None
    return None


def path_on(drive: str) -> str:
    return os.path.join(drive, FOLDER, FILE)


def prepare(drive: str) -> None:
    """Make a drive ready to receive the journal (its folder). Appenders never create the
    folder themselves: a drive that vanished must not get a journal on the root disk."""
    os.makedirs(os.path.join(drive, FOLDER), exist_ok=True)


def restart_at(drive: str, lsn: int) -> None:
    """Replace a drive's journal by an empty one based at `lsn` (a snapshot at `lsn` is on
    the drive): called under the writers' lock, so every later record lands in it."""
    prepare(drive)
    path = path_on(drive)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(encode_base(lsn))
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    fsync_dir(os.path.dirname(path))



# ---- the mirrored log ----

class Journal:
    """Appends happen under the writers' file lock (meta/sqlite.py), one record at a time."""

    def __init__(self, drives: list[str], quorum: int, durable: bool = True):
        self.paths = [os.path.join(d, FOLDER, FILE) for d in drives]
        self.quorum = quorum
        self.durable = durable
        self._fds: dict[str, int] = {}
        # A copy we could not put back, with the file's inode then: unused until the file is
        # replaced (a drive rejoining gets a new journal file).
        self._disabled: dict[str, int] = {}
        self._pool = concurrent.futures.ThreadPoolExecutor(len(drives),
                                                           thread_name_prefix="s3ish-journal")

    def append(self, lsn: int, mutations: list) -> dict[str, int]:
        """Append one record to every drive in parallel. Below the write quorum, the copies
        that were written are taken back and JournalQuorumError raised. Returns what undo()
        needs: each written copy's size before the record."""
        line = encode_record(lsn, mutations)
        sizes = list(self._pool.map(lambda p: self._append_one(p, line, lsn), self.paths))
        written = {p: size for p, size in zip(self.paths, sizes) if size is not None}
        if len(written) < self.quorum:
            self.undo(written)
            raise JournalQuorumError(f"metadata journal written on {len(written)} drives, "
                                     f"need {self.quorum}")
        return written

    def undo(self, written: dict[str, int]) -> None:
        """Take a record back (its commit failed): cut each copy to its size before it."""
        for path, size in written.items():
            self._cut(path, size)

    def _open(self, path: str, lsn: int) -> int:
        """The append descriptor of one copy; reopened when the file was replaced or
        removed (a drive rejoined, or vanished: then the append fails, it is not absorbed
        by a deleted file). A new file starts with its base line."""
        fd = self._fds.get(path)
        if fd is not None:
            try:
                current = os.stat(path).st_ino
            except FileNotFoundError:
                current = None
            if os.fstat(fd).st_nlink > 0 and current == os.fstat(fd).st_ino:
                return fd
            self._close(path)
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        self._fds[path] = fd
        if os.fstat(fd).st_size == 0:
            os.write(fd, encode_base(lsn - 1))
        return fd

    def _append_one(self, path: str, line: bytes, lsn: int) -> int | None:
        if path in self._disabled:
            try:
                if os.stat(path).st_ino == self._disabled[path]:
                    return None
            except OSError:
                return None
            del self._disabled[path]
        try:
            fd = self._open(path, lsn)
            before = os.fstat(fd).st_size
        except OSError:
            self._close(path)
            return None
        try:
            view = memoryview(line)
            while view:                     # a short write (near ENOSPC) is continued
                view = view[os.write(fd, view):]
            if self.durable:
                os.fdatasync(fd)
            return before
        except OSError:
            # Never leave a torn record for later records to land behind.
            self._cut(path, before)
            return None

    def _cut(self, path: str, size: int) -> None:
        try:
            os.truncate(path, size)
        except OSError:
            try:
                self._disabled[path] = os.stat(path).st_ino
            except OSError:
                self._disabled[path] = -1
            self._close(path)

    def _close(self, path: str) -> None:
        fd = self._fds.pop(path, None)
        if fd is not None:
            try:
                os.close(fd)
            except OSError:
                pass

    def close(self) -> None:
        for path in list(self._fds):
            self._close(path)
        self._pool.shutdown(wait=False)


def repair(drives: list[str]) -> None:
    """Cut each drive's journal after its last intact record (start-up, before appends): a
    crash mid-append leaves a torn tail that later records must not land behind."""
    for drive in drives:
        path = os.path.join(drive, FOLDER, FILE)
        try:
            with open(path, "rb") as f:
                good = pos = 0
                for line in f:
                    pos += len(line)
                    if _intact(line):
                        good = pos
            if good < os.path.getsize(path):
                os.truncate(path, good)
        except OSError:
            continue


def read_merged(drives: list[str]) -> list[tuple[int, list]]:
    """Every intact record from every drive, one per LSN, in LSN order. A record torn or
    missing on one drive is taken from another; a damaged line is skipped, not the rest of
    the file; if copies of one LSN ever differ, the version most drives hold wins."""
    copies: dict[int, collections.Counter] = {}
    decoded: dict[bytes, list] = {}
    for drive in drives:
        path = os.path.join(drive, FOLDER, FILE)
        try:
            f = open(path, "rb")
        except OSError:
            continue
        with f:
            for line in f:
                rec = decode_record(line) if line.endswith(b"\n") else None
                if rec is None:
                    continue
                copies.setdefault(rec[0], collections.Counter())[line] += 1
                decoded[line] = rec[1]
    return [(lsn, decoded[counter.most_common(1)[0][0]])
            for lsn, counter in sorted(copies.items())]


def exists(drives: list[str]) -> bool:
    return any(os.path.getsize(p) > 0 for p in
               (os.path.join(d, FOLDER, FILE) for d in drives) if os.path.exists(p))


def last_lsn(drive: str) -> int | None:
    """The newest record's sequence number in one drive's copy (its base if it has none)."""
    last = None
    try:
        with open(path_on(drive), "rb") as f:
            for line in f:
                doc = _decode_doc(line) if line.endswith(b"\n") else None
                if doc is not None:
                    last = doc.get("lsn", doc.get("base"))
    except OSError:
        return None
    return last


def size(drives: list[str]) -> int:
    """The largest journal among the drives, in bytes."""
    sizes = [os.path.getsize(p) for p in (os.path.join(d, FOLDER, FILE) for d in drives)
             if os.path.exists(p)]
    return max(sizes, default=0)


def truncate_through(drives: list[str], lsn: int) -> None:
    """Drop the records up to `lsn` (a snapshot holds them): keep only later ones, behind a
    base line that says so."""
    for drive in drives:
        path = os.path.join(drive, FOLDER, FILE)
        try:
            with open(path, "rb") as f:
                keep = [line for line in f
                        if (rec := decode_record(line)) is not None and rec[0] > lsn]
            tmp = path + ".tmp"
            with open(tmp, "wb") as f:
                f.write(encode_base(lsn))
                f.writelines(keep)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)
        except OSError:
            continue    # a full or failing drive keeps its records: replay skips them
