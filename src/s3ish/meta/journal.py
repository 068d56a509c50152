"""The metadata journal: every committed mutation, appended to a log mirrored on the drives.

With erasure-coded drives the SQLite index lives on one drive; the journal lives on all of
them, so losing any m drives (the index's among them) loses no metadata: the index is rebuilt
by replaying the journal from the drives that remain. Records are JSON lines with a CRC; a
torn last line (a crash mid-append) is cut off at start-up. Inline object bytes travel in the
records, so small objects are exactly as safe as large ones.
"""
import base64
import collections
import concurrent.futures
import dataclasses
import json
import os
import types
import typing
import zlib

from ..util.errors import QuorumError
from . import records

FOLDER = os.path.join(".s3ish", "journal")
FILE = "journal.log"
_TYPES = {cls.__name__: cls for cls in typing.get_args(records.Mutation)}


class JournalQuorumError(QuorumError):
    """Fewer drives than the write quorum took the journal record: the commit is refused."""


# ---- (de)serialisation of mutation records ----

def _to_doc(value):
    if dataclasses.is_dataclass(value):
        return {f.name: _to_doc(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, (bytes, bytearray)):
        return {"$b64": base64.b64encode(value).decode()}
    if isinstance(value, list):
        return [_to_doc(v) for v in value]
    if isinstance(value, dict):
        return {k: _to_doc(v) for k, v in value.items()}
    return value


def _from_doc(typ, doc):
    if doc is None:
        return None
    origin = typing.get_origin(typ)
    if origin in (typing.Union, types.UnionType):
        inner = [a for a in typing.get_args(typ) if a is not type(None)]
        return _from_doc(inner[0], doc)
    if origin is list:
        (item,) = typing.get_args(typ)
        return [_from_doc(item, d) for d in doc]
    if dataclasses.is_dataclass(typ):
        hints = typing.get_type_hints(typ)
        return typ(**{k: _from_doc(hints[k], v) for k, v in doc.items()})
    # Only a bytes field holds {"$b64": ...}: a dict field (user metadata, tags) may hold
    # that key as client text.
    if typ is bytes and isinstance(doc, dict) and "$b64" in doc:
        return base64.b64decode(doc["$b64"], validate=True)
    return doc


def encode_record(lsn: int, mutations: list) -> bytes:
    body = json.dumps({"lsn": lsn, "m": [[type(m).__name__, _to_doc(m)] for m in mutations]},
                      separators=(",", ":")).encode()
    return body + b"\t" + f"{zlib.crc32(body):08x}".encode() + b"\n"


def decode_record(line: bytes):
    """(lsn, [mutation]) or None if the line is torn or corrupt (a record whose CRC holds but
    whose content does not decode counts as corrupt too)."""
    body, sep, crc = line.rstrip(b"\n").rpartition(b"\t")
    if not sep or f"{zlib.crc32(body):08x}".encode() != crc:
        return None
    try:
        doc = json.loads(body)
        lsn = doc["lsn"]
        if type(lsn) is not int:       # LSNs are compared and sorted by every reader
            return None
        return lsn, [_from_doc(_TYPES[name], d) for name, d in doc["m"]]
    except (ValueError, KeyError, TypeError, AttributeError, RecursionError):
        return None


# ---- the mirrored log ----

class Journal:
    """Appends happen under the writers' file lock (meta/sqlite.py), one record at a time."""

    def __init__(self, drives: list[str], quorum: int, durable: bool = True):
        self.paths = [os.path.join(d, FOLDER, FILE) for d in drives]
        self.quorum = quorum
        self.durable = durable
        self._fds: dict[str, int] = {}
        self._disabled: set[str] = set()   # a copy we could not put back: unused until restart
        self._pool = concurrent.futures.ThreadPoolExecutor(len(drives),
                                                           thread_name_prefix="s3ish-journal")

    def append(self, lsn: int, mutations: list) -> dict[str, int]:
        """Append one record to every drive in parallel. Below the write quorum, the copies
        that were written are taken back and JournalQuorumError raised. Returns what undo()
        needs: each written copy's size before the record."""
        line = encode_record(lsn, mutations)
        sizes = list(self._pool.map(lambda p: self._append_one(p, line), self.paths))
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

    def _append_one(self, path: str, line: bytes) -> int | None:
        if path in self._disabled:
            return None
        try:
            fd = self._fds.get(path)
            if fd is None:
                os.makedirs(os.path.dirname(path), exist_ok=True)
                fd = self._fds[path] = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT,
                                               0o644)
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
            self._disabled.add(path)
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
                    if line.endswith(b"\n") and decode_record(line) is not None:
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


def size(drives: list[str]) -> int:
    """The largest journal among the drives, in bytes."""
    sizes = [os.path.getsize(p) for p in (os.path.join(d, FOLDER, FILE) for d in drives)
             if os.path.exists(p)]
    return max(sizes, default=0)


def truncate_through(drives: list[str], lsn: int) -> None:
    """Drop the records up to `lsn` (a snapshot holds them): keep only later ones."""
    for drive in drives:
        path = os.path.join(drive, FOLDER, FILE)
        try:
            with open(path, "rb") as f:
                keep = [line for line in f
                        if (rec := decode_record(line)) is not None and rec[0] > lsn]
            tmp = path + ".tmp"
            with open(tmp, "wb") as f:
                f.writelines(keep)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)
        except OSError:
            continue    # a full or failing drive keeps its records: replay skips them
