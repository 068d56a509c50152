"""The metadata journal: every committed mutation, appended to a log mirrored on the drives.

With erasure-coded drives the SQLite index lives on one drive; the journal lives on all of
them, so losing any m drives (the index's among them) loses no metadata: the index is rebuilt
by replaying the journal from the drives that remain. Records are JSON lines with a CRC; a
torn last line (a crash mid-append) is cut off at start-up. Inline object bytes travel in the
records, so small objects are exactly as safe as large ones.
"""
import base64
import concurrent.futures
import dataclasses
import json
import os
import types
import typing
import zlib

from . import records

FOLDER = os.path.join(".s3ish", "journal")
FILE = "journal.log"
_TYPES = {cls.__name__: cls for cls in typing.get_args(records.Mutation)}


class JournalQuorumError(OSError):
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
    if isinstance(doc, dict) and "$b64" in doc:
        return base64.b64decode(doc["$b64"])
    return doc


def encode_record(lsn: int, mutations: list) -> bytes:
    body = json.dumps({"lsn": lsn, "m": [[type(m).__name__, _to_doc(m)] for m in mutations]},
                      separators=(",", ":")).encode()
    return body + b"\t" + f"{zlib.crc32(body):08x}".encode() + b"\n"


def decode_record(line: bytes):
    """(lsn, [mutation]) or None if the line is torn or corrupt."""
    body, sep, crc = line.rstrip(b"\n").rpartition(b"\t")
    if not sep or f"{zlib.crc32(body):08x}".encode() != crc:
        return None
    doc = json.loads(body)
    return doc["lsn"], [_from_doc(_TYPES[name], d) for name, d in doc["m"]]


# ---- the mirrored log ----

class Journal:
    def __init__(self, drives: list[str], quorum: int, durable: bool = True):
        self.paths = [os.path.join(d, FOLDER, FILE) for d in drives]
        self.quorum = quorum
        self.durable = durable
        self._fds: dict[str, int] = {}
        self._pool = concurrent.futures.ThreadPoolExecutor(len(drives),
                                                           thread_name_prefix="s3ish-journal")

    def append(self, lsn: int, mutations: list) -> None:
        """Append one record to every drive in parallel; refuse below the write quorum."""
        line = encode_record(lsn, mutations)
        done = list(self._pool.map(lambda p: self._append_one(p, line), self.paths))
        if sum(done) < self.quorum:
            raise JournalQuorumError(f"metadata journal written on {sum(done)} drives, "
                                     f"need {self.quorum}")

    def _append_one(self, path: str, line: bytes) -> bool:
        try:
            fd = self._fds.get(path)
            if fd is None:
                os.makedirs(os.path.dirname(path), exist_ok=True)
                fd = self._fds[path] = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT,
                                               0o644)
            os.write(fd, line)
            if self.durable:
                os.fdatasync(fd)
            return True
        except OSError:
            fd = self._fds.pop(path, None)
            if fd is not None:
                os.close(fd)
            return False

    def close(self) -> None:
        for fd in self._fds.values():
            os.close(fd)
        self._fds.clear()
        self._pool.shutdown(wait=False)


def repair(drives: list[str]) -> None:
    """Cut each drive's journal after its last intact record (start-up, before appends)."""
    for drive in drives:
        path = os.path.join(drive, FOLDER, FILE)
        try:
            with open(path, "rb") as f:
                good = 0
                for line in f:
                    if not line.endswith(b"\n") or decode_record(line) is None:
                        break
                    good += len(line)
        except OSError:
            continue
        if good < os.path.getsize(path):
            os.truncate(path, good)


def read_merged(drives: list[str]) -> list[tuple[int, list]]:
    """Every intact record from every drive, one per LSN, in LSN order (copies agree; a
    record missing or torn on one drive is taken from another)."""
    merged: dict[int, list] = {}
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
                    break
                merged.setdefault(rec[0], rec[1])
    return sorted(merged.items())


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
        if not os.path.exists(path):
            continue
        with open(path, "rb") as f:
            keep = [line for line in f
                    if (rec := decode_record(line)) is not None and rec[0] > lsn]
        tmp = path + ".tmp"
        with open(tmp, "wb") as f:
            f.writelines(keep)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
