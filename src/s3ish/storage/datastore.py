"""Data stores: a folder of immutable data files, and an in-memory twin for tests.

Blocking methods (write, commit, open, read, delete) are called from worker threads, never
from the event loop. A data file is written under tmp/, fsync'd, renamed into objects/xx/ and
the directory fsync'd before the caller commits metadata that points at it; nothing is
rewritten in place.
"""
import os
import threading
import time
from typing import Protocol

from ..util.ids import data_id as new_data_id
from ..util.ids import is_data_id
from . import directio
from .drives import disk_space



class DataHandle(Protocol):
    def read_at(self, offset: int, n: int) -> bytes: ...
    def size(self) -> int: ...      # the unit's stored length (compressed, sealed: as stored)
    def close(self) -> None: ...


class FileHandle:
    """An open data file read with pread, so concurrent readers need no seek lock."""

    def __init__(self, fd: int):
        self._fd = fd

    def read_at(self, offset: int, n: int) -> bytes:
        return os.pread(self._fd, n, offset)

    def size(self) -> int:
        return os.fstat(self._fd).st_size

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1


class BytesHandle:
    def __init__(self, blob: bytes):
        self._blob = blob

    def read_at(self, offset: int, n: int) -> bytes:
        return self._blob[offset: offset + n]

    def size(self) -> int:
        return len(self._blob)

    def close(self) -> None:
        pass


class DataWriter(Protocol):
    data_id: str

    def write(self, block) -> None: ...
    def commit(self, completion: dict | None = None) -> None: ...
    def abort(self) -> None: ...


class DataStore(Protocol):
    # True if writer(meta) keeps the metadata with the data (shard headers), so the index
    # can be rebuilt from the data alone; the single folder relies on its fsync'd index.
    self_describing: bool

    def writer(self, meta: dict | None = None, small: bool = False) -> DataWriter: ...
    # A writer for a unit that keeps a given id (`s3ish restore` brings units back under the
    # ids the metadata names); `describe`: its metadata, kept by self-describing stores.
    def import_writer(self, data_id: str, describe: dict | None = None) -> DataWriter: ...
    def open(self, data_id: str) -> DataHandle: ...
    # Whether a unit is here (enough of it to be read), without reading it or reporting a
    # missing one as damage (a follower asks before fetching units from the cold tier).
    def exists(self, data_id: str) -> bool: ...
    def delete(self, data_id: str) -> None: ...
    def list_ids(self) -> list[str]: ...
    def usable(self) -> str | None: ...
    # (drive path, total bytes, free bytes) of each drive whose filesystem answers: statvfs
    # may block on a stuck mount, so call it off the event loop.
    def space(self) -> list[tuple[str, int, int]]: ...
    def set_aside(self, data_id: str) -> None: ...
    def purge_aside(self, older_than: float) -> int: ...


def move_aside(path: str, folder: str) -> None:
    """Move a file no metadata references into `folder` (same filesystem), stamped now: it
    is removed only after a grace period, so an index that was wrong costs nothing."""
    try:
        dest = os.path.join(folder, os.path.basename(path))
        os.rename(path, dest)
        os.utime(dest)
    except FileNotFoundError:
        pass


def purge_folder(folder: str, older_than: float) -> int:
    """Remove files set aside more than `older_than` seconds ago. Returns how many."""
    n, limit = 0, time.time() - older_than
    try:
        names = os.listdir(folder)
    except OSError:
        return 0
    for name in names:
        path = os.path.join(folder, name)
        try:
            if os.stat(path).st_mtime < limit:
                os.unlink(path)
                n += 1
        except OSError:
            continue
    return n


def check_import_id(data_id: str) -> None:
    """An imported unit's id becomes a file name: only the form data_id() makes is taken."""
    if not is_data_id(data_id):
        raise ValueError(f"not a data id: {data_id!r}")


class FolderDataStore:
    def __init__(self, root: str, durable: bool = True, direct: bool = True):
        self.root = root
        self.durable = durable
        self.direct = direct and bool(directio.O_DIRECT)
        self.tmp = os.path.join(root, "tmp")
        self.objects = os.path.join(root, "objects")
        self.orphans = os.path.join(root, "orphans")
        os.makedirs(self.tmp, exist_ok=True)
        os.makedirs(self.orphans, exist_ok=True)
        # Fan-out directories made once at start so the hot path never mkdirs.
        for i in range(256):
            os.makedirs(os.path.join(self.objects, f"{i:02x}"), exist_ok=True)

    def path(self, data_id: str) -> str:
        return os.path.join(self.objects, data_id[-2:], data_id)

    self_describing = False

    def writer(self, meta: dict | None = None, small: bool = False) -> "FolderWriter":
        return FolderWriter(self, direct=self.direct and not small)

    def import_writer(self, data_id: str, describe: dict | None = None) -> "FolderWriter":
        """Write a unit under `data_id` (a restore). A file of that id already in place is
        replaced at commit: ids are never reused, so it held the same bytes."""
        check_import_id(data_id)
        return FolderWriter(self, direct=self.direct, data_id=data_id)

    def open(self, data_id: str) -> "FileHandle":
        return FileHandle(os.open(self.path(data_id), os.O_RDONLY))

    def exists(self, data_id: str) -> bool:
        return os.path.exists(self.path(data_id))

    def delete(self, data_id: str) -> None:
        try:
            os.unlink(self.path(data_id))
        except FileNotFoundError:
            pass

    def list_ids(self) -> list[str]:
        ids = []
        for sub in os.listdir(self.objects):
            ids += os.listdir(os.path.join(self.objects, sub))
        return ids

    def set_aside(self, data_id: str) -> None:
        move_aside(self.path(data_id), self.orphans)

    def purge_aside(self, older_than: float) -> int:
        return purge_folder(self.orphans, older_than)

    def clean_tmp(self) -> int:
        """Remove writes that never committed (a crash mid-PUT leaves them)."""
        n = 0
        for name in os.listdir(self.tmp):
            os.unlink(os.path.join(self.tmp, name))
            n += 1
        return n

    def usable(self) -> str | None:
        """None if the folder can be written, else the reason it cannot."""
        probe = os.path.join(self.tmp, f".probe-{os.getpid()}")
        try:
            with open(probe, "wb") as f:
                f.write(b"ok")
            os.unlink(probe)
        except OSError as e:
            return f"data folder {self.root} not writable: {e.strerror}"
        return None

    def space(self) -> list[tuple[str, int, int]]:
        got = disk_space(self.root)
        return [] if got is None else [(self.root, *got)]


class FolderWriter:
    """Writes a data file (with O_DIRECT where the filesystem allows it, see directio.py)
    under tmp/, then fsync, rename into objects/xx/ and fsync the folder at commit."""

    def __init__(self, store: FolderDataStore, direct: bool, data_id: str | None = None):
        self.store = store
        self.data_id = data_id or new_data_id()
        self._tmp = os.path.join(store.tmp, self.data_id)
        self._fd, used_direct = directio.open_new(self._tmp, direct)
        if direct and not used_direct:
            store.direct = False          # remember: this filesystem has no direct I/O
        self._out = directio.Appender(self._fd, used_direct)

    def write(self, block) -> None:
        self._out.write(block)

    def commit(self, completion: dict | None = None) -> None:
        self._out.finish()
        if self.store.durable:
            os.fsync(self._fd)
        os.close(self._fd)
        self._fd = -1
        final = self.store.path(self.data_id)
        os.rename(self._tmp, final)
        if self.store.durable:
            dfd = os.open(os.path.dirname(final), os.O_RDONLY)
            try:
                os.fsync(dfd)
            finally:
                os.close(dfd)

    def abort(self) -> None:
        self._out.release()
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1
        try:
            os.unlink(self._tmp)
        except FileNotFoundError:
            pass


class MemoryDataStore:
    """Holds data units in a dict; for tests and `--data :memory:` throwaway servers."""

    def __init__(self):
        self._blobs: dict[str, bytes] = {}
        self._lock = threading.Lock()

    self_describing = False

    def writer(self, meta: dict | None = None, small: bool = False) -> "MemoryWriter":
        return MemoryWriter(self)

    def import_writer(self, data_id: str, describe: dict | None = None) -> "MemoryWriter":
        check_import_id(data_id)
        return MemoryWriter(self, data_id)

    def open(self, data_id: str) -> "BytesHandle":
        with self._lock:
            blob = self._blobs.get(data_id)
        if blob is None:
            raise FileNotFoundError(data_id)
        return BytesHandle(blob)

    def exists(self, data_id: str) -> bool:
        with self._lock:
            return data_id in self._blobs

    def delete(self, data_id: str) -> None:
        with self._lock:
            self._blobs.pop(data_id, None)

    def list_ids(self) -> list[str]:
        with self._lock:
            return list(self._blobs)

    def clean_tmp(self) -> int:
        return 0

    def usable(self) -> str | None:
        return None

    def space(self) -> list[tuple[str, int, int]]:
        return []                   # memory is not a drive

    def set_aside(self, data_id: str) -> None:
        self.delete(data_id)        # nothing survives a restart here anyway

    def purge_aside(self, older_than: float) -> int:
        return 0

    def _put(self, data_id: str, blob: bytes) -> None:
        with self._lock:
            self._blobs[data_id] = blob


class MemoryWriter:
    def __init__(self, store: MemoryDataStore, data_id: str | None = None):
        self.store = store
        self.data_id = data_id or new_data_id()
        self._buf = bytearray()

    def write(self, block) -> None:
        self._buf += block

    def commit(self, completion: dict | None = None) -> None:
        self.store._put(self.data_id, bytes(self._buf))
        self._buf = bytearray()

    def abort(self) -> None:
        self._buf = bytearray()
