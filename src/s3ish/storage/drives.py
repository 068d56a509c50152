"""Drives: the folders an erasure set spreads shards over, their state and their use.

Each drive is formatted with a marker file naming the set, the drive's place in it and the
set's size, so a folder from another set, a shuffled mount, or part of a set started alone is
refused instead of silently mixed in. A drive folder that does not exist is never created
behind the operator's back (an unmounted disk would receive shards on the root filesystem):
the operator creates an empty folder (or mounts a new disk) to replace a drive, or passes
--create-drives when setting up a new set. An empty folder where a formatted drive should be
is a replacement; a drive that comes back after missing writes rejoins: both are seeded with
the index and rebuilt by the healer before they count as ok. Every state change is logged.
"""
import errno
import json
import logging
import os
import threading
import time
import uuid
from dataclasses import dataclass, field

MARKER = ".s3ish-drive.json"
OK, MISSING, READ_ONLY, FULL, FAULTY, NEW = "ok", "missing", "read-only", "full", "faulty", "new"
FAULTY_AFTER = 20          # I/O errors before a drive is taken out of service
RETRY_AFTER = 10.0         # seconds before a full or read-only drive is tried again
# Names an empty replacement folder may hold: filesystem and server housekeeping.
IGNORED = {"lost+found", "LOCK", ".status"}
SUBFOLDERS = ("tmp", "objects", "quarantine", "orphans")

log = logging.getLogger("s3ish.drives")

_SHORT = {errno.ENOENT: "folder missing", errno.EROFS: "read-only filesystem",
          errno.ENOSPC: "no space left", errno.EDQUOT: "quota exceeded",
          errno.EIO: "I/O error", errno.EACCES: "permission denied",
          errno.ENOTDIR: "not a folder"}


class DriveSetError(Exception):
    """The drives given cannot be used as they are: the message says why and what to do."""


def short_error(exc: BaseException) -> str:
    """A few words an operator can act on, instead of a raw exception."""
    if isinstance(exc, OSError) and exc.errno in _SHORT:
        return _SHORT[exc.errno]
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror.lower()
    return type(exc).__name__


@dataclass
class Drive:
    index: int
    path: str
    state: str = OK
    errors: int = 0
    last_error: str = ""
    failed_at: float = 0.0      # monotonic time of the last error
    joined: str = ""            # the marker's join stamp, to notice another process's join
    seeded: bool = True         # holds the index (snapshot + journal); False while joining
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def writable(self) -> bool:
        return self.state in (OK, NEW)

    @property
    def readable(self) -> bool:
        return self.state in (OK, READ_ONLY, FULL, NEW)

    def set_state(self, state: str, why: str = "") -> None:
        """Change state, with one log line: an operator must see every change."""
        if state == self.state:
            return
        old, self.state = self.state, state
        level = logging.ERROR if state in (MISSING, FAULTY) else logging.WARNING
        log.log(level, "drive %d (%s): %s -> %s%s", self.index, self.path, old, state,
                f" ({why})" if why else "")

    def usage(self) -> dict:
        space = disk_space(self.path)
        if space is None:
            return {"total": 0, "free": 0, "used": 0}
        total, free = space
        return {"total": total, "free": free, "used": total - free}

    def record_error(self, exc: OSError) -> None:
        """Classify an I/O failure: the drive degrades, the server keeps going."""
        with self._lock:
            self.errors += 1
            self.failed_at = time.monotonic()
            self.last_error = short_error(exc)
            if exc.errno == errno.EROFS:
                self.set_state(READ_ONLY, self.last_error)
            elif exc.errno in (errno.ENOSPC, errno.EDQUOT):
                self.set_state(FULL, self.last_error)
            elif exc.errno == errno.ENOENT and not os.path.isdir(self.path):
                self.set_state(MISSING, self.last_error)
            elif self.errors >= FAULTY_AFTER:
                self.set_state(FAULTY, f"{self.errors} I/O errors, last: {self.last_error}")

    def describe(self) -> dict:
        return {"index": self.index, "path": self.path, "state": self.state,
                "errors": self.errors, "last_error": self.last_error, **self.usage()}


def disk_space(path: str) -> tuple[int, int] | None:
    """(total, free) bytes of the filesystem holding `path`, free as an unprivileged writer
    sees it (f_bavail: the root-reserved blocks are not ours); None if it does not answer
    (a missing folder: the drive state says so, a zero here would read as a full disk)."""
    try:
        st = os.statvfs(path)
    except OSError:
        return None
    return st.f_blocks * st.f_frsize, st.f_bavail * st.f_frsize


def _can_write(path: str) -> bool:
    probe = os.path.join(path, "tmp", f".probe-{os.getpid()}")
    try:
        with open(probe, "wb") as f:
            f.write(b"\0" * 65536)
        os.unlink(probe)
        return True
    except OSError:
        try:
            os.unlink(probe)
        except OSError:
            pass
        return False


def is_empty(path: str) -> bool:
    try:
        return not (set(os.listdir(path)) - IGNORED)
    except OSError:
        return False


def read_marker(path: str) -> dict | None:
    """The drive marker in folder `path`, or None (absent or unreadable)."""
    try:
        with open(os.path.join(path, MARKER)) as f:
            doc = json.load(f)
        return doc if isinstance(doc, dict) else None
    except (OSError, ValueError):
        return None


def single_folder_check(path: str) -> None:
    """A folder that is one drive of an erasure set must not be served as a plain folder."""
    marker = read_marker(path)
    if marker is not None:
        raise DriveSetError(
            f"{path} is drive {marker.get('index')} of a {marker.get('drives')}-drive erasure "
            f"set ({marker.get('k')}+{marker.get('m')}): start the server with all "
            f"{marker.get('drives')} drives (--data DIR repeated, in their order)")


class DriveSet:
    """N drives formatted as one erasure set of k data + m parity shards."""

    def __init__(self, paths: list[str], k: int, m: int):
        if k + m != len(paths):
            raise ValueError(f"{len(paths)} drives cannot hold {k}+{m} shards")
        self.k, self.m = k, m
        self.drives = [Drive(i, os.path.abspath(p)) for i, p in enumerate(paths)]
        self.set_id = ""

    # ---- start-up (one process, before workers) ----
    def open(self, create_missing: bool = False) -> list[Drive]:
        """Check and format the drives. Returns the drives that join the set now (new
        replacements, drives left half-rebuilt, drives that missed writes): the caller seeds
        them with the index. Raises DriveSetError with the operator's next step."""
        self.require_folders(create_missing)
        markers = [read_marker(d.path) for d in self.drives]
        self._check_markers(markers)
        if not any(markers):
            return self._format_new()
        joiners = []
        for drive, marker in zip(self.drives, markers):
            if marker is None:
                if not is_empty(drive.path):
                    raise DriveSetError(
                        f"{drive.path} holds files but no s3ish drive marker: it is not drive "
                        f"{drive.index} of this set. Give an empty folder to replace the drive")
                joiners.append(drive)
            elif marker.get("rebuilding"):
                joiners.append(drive)       # a rebuild was under way: seed and run it again
            else:
                drive.joined = marker.get("joined", "")
        for drive in joiners:
            self._write_marker(drive, rebuilding=True, seeded=False, new_join=True)
            drive.set_state(NEW, "replacement or unfinished rebuild")
        self._make_folders()
        return joiners

    def load(self) -> None:
        """A worker process: take the states the markers show (recovery formatted them)."""
        for drive in self.drives:
            marker = read_marker(drive.path)
            if marker is None:
                drive.state = MISSING
                drive.last_error = "folder missing" if not os.path.isdir(drive.path) \
                    else "no drive marker"
            else:
                self.set_id = marker["set_id"]
                drive.state = NEW if marker.get("rebuilding") else OK
                drive.joined = marker.get("joined", "")
                drive.seeded = marker.get("seeded", True)

    def require_folders(self, create: bool) -> None:
        absent = [d for d in self.drives if not os.path.isdir(d.path)]
        if create:
            for d in absent:
                os.makedirs(d.path)
                log.warning("created drive folder %s (--create-drives)", d.path)
            return
        if absent:
            names = ", ".join(f"drive {d.index} ({d.path})" for d in absent)
            raise DriveSetError(
                f"{names} missing: is the disk mounted? To replace a lost drive, create an "
                "empty folder (or mount a new disk) at its path and start again; for a new "
                "set, create the folders or pass --create-drives")

    def _check_markers(self, markers: list) -> None:
        known = {m["set_id"] for m in markers if m}
        if len(known) > 1:
            raise DriveSetError(f"drives belong to different sets: {sorted(known)}")
        self.set_id = known.pop() if known else uuid.uuid4().hex
        n = len(self.drives)
        for drive, marker in zip(self.drives, markers):
            if marker is None:
                continue
            count = marker.get("drives", marker["k"] + marker["m"])
            if count != n:
                raise DriveSetError(
                    f"{drive.path} is drive {marker['index']} of a {count}-drive set, but "
                    f"{n} drives were given: give all {count} drives, in their order")
            if marker["index"] != drive.index or marker["k"] != self.k or \
                    marker["m"] != self.m:
                raise DriveSetError(
                    f"{drive.path} is drive {marker['index']} of a {marker['k']}+"
                    f"{marker['m']} set, not drive {drive.index} of {self.k}+{self.m}: give "
                    "the drives in their order (and the same --parity)")

    def _format_new(self) -> list[Drive]:
        for drive in self.drives:
            if not is_empty(drive.path):
                raise DriveSetError(f"{drive.path} is not empty and is not an s3ish drive: "
                                    "a new set needs empty folders")
        for drive in self.drives:
            self._write_marker(drive, rebuilding=False)
        self._make_folders()
        log.warning("formatted a new %d-drive set (%d+%d)", len(self.drives), self.k, self.m)
        return []

    def _make_folders(self) -> None:
        """Start-up (one process): every drive's folders, the journal's too (joining drives
        are seeded before any worker appends)."""
        for drive in self.drives:
            if drive.state != MISSING:
                self._make_folders_of(drive)
                os.makedirs(os.path.join(drive.path, ".s3ish", "journal"), exist_ok=True)

    def _write_marker(self, drive: Drive, rebuilding: bool = False, seeded: bool = True,
                      new_join: bool = False) -> None:
        if new_join:
            drive.joined = uuid.uuid4().hex
        drive.seeded = seeded
        doc = {"format": 1, "set_id": self.set_id, "index": drive.index, "k": self.k,
               "m": self.m, "drives": len(self.drives), "rebuilding": rebuilding,
               "joined": drive.joined, "seeded": seeded}
        tmp = os.path.join(drive.path, MARKER + ".tmp")
        with open(tmp, "w") as f:
            json.dump(doc, f)
            f.flush()
            os.fsync(f.fileno())
        os.rename(tmp, os.path.join(drive.path, MARKER))

    # ---- while serving ----
    def join(self, drive: Drive) -> bool:
        """Format a replacement (or a returning drive) as rebuilding, unless another process
        did it since `drive` was last looked at. The caller holds the join lock and seeds
        the drive afterwards. True if this call formatted it."""
        marker = read_marker(drive.path)
        if marker is not None and marker.get("rebuilding") and \
                marker.get("joined") != drive.joined:
            drive.joined = marker.get("joined", "")
            drive.set_state(NEW, "joined by another worker")
            return False
        if marker is None and not is_empty(drive.path):
            drive.last_error = "not empty and not an s3ish drive"
            return False
        self._write_marker(drive, rebuilding=True, seeded=False, new_join=True)
        self._make_folders_of(drive)
        drive.set_state(NEW, "joining: seeding the index, then rebuilding")
        return True

    def mark_seeded(self, drive: Drive) -> None:
        """The drive holds a snapshot and the journal after it: the rebuild may finish."""
        self._write_marker(drive, rebuilding=True, seeded=True)

    def _make_folders_of(self, drive: Drive) -> None:
        """A drive's data folders; never its journal's, which seeding creates (a journal
        appended to before the drive holds the index would look complete)."""
        for sub in SUBFOLDERS:
            os.makedirs(os.path.join(drive.path, sub), exist_ok=True)
        for i in range(256):
            os.makedirs(os.path.join(drive.path, "objects", f"{i:02x}"), exist_ok=True)

    def rebuilding(self) -> list[Drive]:
        """Drives being rebuilt that already hold the index (a pass may start for them)."""
        return [d for d in self.drives if d.state == NEW and d.seeded]

    def mark_rebuilt(self, drives: list[Drive] | None = None) -> None:
        """Every data unit has its shard on these new drives again: they are ordinary now."""
        for drive in (self.rebuilding() if drives is None else drives):
            if drive.state != NEW or not drive.seeded:
                continue
            self._write_marker(drive, rebuilding=False)
            drive.set_state(OK, "rebuild complete")

    def refresh(self) -> list[Drive]:
        """Notice drives that vanished or came back (a folder deleted, a mount lost), markers
        changed by other workers, and full or read-only drives that can take writes again.
        Returns the drives that should join (an empty folder in a lost drive's place, or a
        drive back from missing that has missed writes)."""
        joiners = []
        for drive in self.drives:
            marker = read_marker(drive.path)
            if marker is None or marker.get("set_id") != self.set_id or \
                    marker.get("index") != drive.index:
                if drive.state != MISSING:
                    drive.last_error = "folder missing" if not os.path.isdir(drive.path) \
                        else "drive marker missing or foreign"
                    drive.set_state(MISSING, drive.last_error)
                if marker is None and os.path.isdir(drive.path) and is_empty(drive.path):
                    joiners.append(drive)
                continue
            if drive.state == MISSING:
                joiners.append(drive)       # back, but it missed whatever was written
            elif marker.get("rebuilding") and drive.state in (OK, NEW):
                drive.joined = marker.get("joined", "")
                drive.seeded = marker.get("seeded", True)
                drive.set_state(NEW, "rebuilding (by another worker)")
            elif not marker.get("rebuilding") and drive.state == NEW:
                drive.set_state(OK, "rebuilt (by another worker)")
            elif drive.state in (READ_ONLY, FULL) and \
                    time.monotonic() - drive.failed_at > RETRY_AFTER and _can_write(drive.path):
                drive.set_state(OK, "writable again")
        return joiners

    def degraded(self) -> str | None:
        """None when every drive is ok, else a one-line summary of the others."""
        bad = [f"drive {d.index} ({d.path}) {d.state}" +
               (f": {d.last_error}" if d.last_error and d.state != NEW else "")
               for d in self.drives if d.state != OK]
        return "; ".join(bad) or None

    def placement(self, data_id: str) -> list[Drive]:
        """The drive for each shard index of a data unit: a rotation keyed by the id, so data
        shards (the ones reads prefer) spread over every drive."""
        n = len(self.drives)
        start = int(data_id[-6:], 16) % n
        return [self.drives[(start + i) % n] for i in range(n)]

    def write_quorum(self) -> int:
        return self.k + 1 if self.m > 0 else self.k
