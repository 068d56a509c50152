"""Drives: the folders an erasure set spreads shards over, their state and their use.

Each drive is formatted with a marker file naming the set and the drive's place in it, so a
folder from another set (or a shuffled mount) is refused instead of silently mixed in, and an
empty folder in a drive's place is recognised as a replacement to rebuild.
"""
import errno
import json
import os
import threading
import time
import uuid
from dataclasses import dataclass, field

MARKER = ".s3ish-drive.json"
OK, MISSING, READ_ONLY, FULL, FAULTY, NEW = "ok", "missing", "read-only", "full", "faulty", "new"
FAULTY_AFTER = 20          # I/O errors before a drive is taken out of service
RETRY_AFTER = 10.0         # seconds before a full or read-only drive is tried again


@dataclass
class Drive:
    index: int
    path: str
    state: str = OK
    errors: int = 0
    last_error: str = ""
    failed_at: float = 0.0      # monotonic time of the last error
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def writable(self) -> bool:
        return self.state in (OK, NEW)

    @property
    def readable(self) -> bool:
        return self.state in (OK, READ_ONLY, FULL, NEW)

    def usage(self) -> dict:
        try:
            st = os.statvfs(self.path)
        except OSError:
            return {"total": 0, "free": 0, "used": 0}
        total, free = st.f_blocks * st.f_frsize, st.f_bavail * st.f_frsize
        return {"total": total, "free": free, "used": total - free}

    def record_error(self, exc: OSError) -> None:
        """Classify an I/O failure: the drive degrades, the server keeps going."""
        with self._lock:
            self.errors += 1
            self.failed_at = time.monotonic()
            self.last_error = f"{type(exc).__name__}: {exc}"
            if exc.errno == errno.EROFS:
                self.state = READ_ONLY
            elif exc.errno in (errno.ENOSPC, errno.EDQUOT):
                self.state = FULL
            elif exc.errno == errno.ENOENT and not os.path.isdir(self.path):
                self.state = MISSING
            elif self.errors >= FAULTY_AFTER:
                self.state = FAULTY

    def describe(self) -> dict:
        return {"index": self.index, "path": self.path, "state": self.state,
                "errors": self.errors, "last_error": self.last_error, **self.usage()}


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


class DriveSet:
    """N drives formatted as one erasure set of k data + m parity shards."""

    def __init__(self, paths: list[str], k: int, m: int):
        if k + m != len(paths):
            raise ValueError(f"{len(paths)} drives cannot hold {k}+{m} shards")
        self.k, self.m = k, m
        self.drives = [Drive(i, os.path.abspath(p)) for i, p in enumerate(paths)]
        self.set_id = ""

    def open(self) -> None:
        """Read or write each drive's marker and settle its state."""
        markers = [self._read_marker(d) for d in self.drives]
        known = {m["set_id"] for m in markers if m}
        if len(known) > 1:
            raise RuntimeError(f"drives belong to different sets: {sorted(known)}")
        self.set_id = known.pop() if known else uuid.uuid4().hex
        for drive, marker in zip(self.drives, markers):
            if marker is not None:
                if marker["index"] != drive.index or marker["k"] != self.k or \
                        marker["m"] != self.m:
                    raise RuntimeError(f"{drive.path} is drive {marker['index']} of a "
                                       f"{marker['k']}+{marker['m']} set, not drive "
                                       f"{drive.index} of {self.k}+{self.m}")
                drive.state = NEW if marker.get("rebuilding") else OK
                continue
            try:
                os.makedirs(drive.path, exist_ok=True)
                # A formerly formatted set with this drive unformatted: a replacement, to be
                # rebuilt from the others (the marker says so until the rebuild is done).
                drive.state = NEW if any(markers) else OK
                self._write_marker(drive, rebuilding=drive.state == NEW)
            except OSError as e:
                drive.state = MISSING
                drive.last_error = str(e)
        for drive in self.drives:
            if drive.writable:
                for sub in ("tmp", "objects", "quarantine"):
                    os.makedirs(os.path.join(drive.path, sub), exist_ok=True)
                for i in range(256):
                    os.makedirs(os.path.join(drive.path, "objects", f"{i:02x}"), exist_ok=True)

    def _read_marker(self, drive: Drive) -> dict | None:
        try:
            with open(os.path.join(drive.path, MARKER)) as f:
                return json.load(f)
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as e:
            drive.last_error = str(e)
            return None

    def _write_marker(self, drive: Drive, rebuilding: bool = False) -> None:
        doc = {"format": 1, "set_id": self.set_id, "index": drive.index, "k": self.k,
               "m": self.m, "drives": len(self.drives), "rebuilding": rebuilding}
        tmp = os.path.join(drive.path, MARKER + ".tmp")
        with open(tmp, "w") as f:
            json.dump(doc, f)
            f.flush()
            os.fsync(f.fileno())
        os.rename(tmp, os.path.join(drive.path, MARKER))

    def rebuilding(self) -> list[Drive]:
        return [d for d in self.drives if d.state == NEW]

    def mark_rebuilt(self) -> None:
        """Every data unit has its shard on the new drives again: they are ordinary now."""
        for drive in self.rebuilding():
            self._write_marker(drive, rebuilding=False)
            drive.state = OK

    def refresh(self) -> None:
        """Notice drives that vanished or came back (a folder deleted, a mount lost), and
        full or read-only drives that can take writes again."""
        for drive in self.drives:
            present = os.path.isfile(os.path.join(drive.path, MARKER))
            if not present and drive.state != MISSING:
                drive.state = MISSING
            elif present and drive.state == MISSING:
                drive.state = OK
            elif drive.state in (READ_ONLY, FULL) and \
                    time.monotonic() - drive.failed_at > RETRY_AFTER and _can_write(drive.path):
                drive.state = OK

    def placement(self, data_id: str) -> list[Drive]:
        """The drive for each shard index of a data unit: a rotation keyed by the id, so data
        shards (the ones reads prefer) spread over every drive."""
        n = len(self.drives)
        start = int(data_id[-6:], 16) % n
        return [self.drives[(start + i) % n] for i in range(n)]

    def write_quorum(self) -> int:
        return self.k + 1 if self.m > 0 else self.k
