"""The metadata journal: every committed mutation, appended to a log that is the commit point
on every layout (one folder, or mirrored on all the drives of an erasure set).

With erasure-coded drives the SQLite index lives on one drive; the journal lives on all of
them, so losing any m drives (the index's among them) loses no metadata: the index is rebuilt
by replaying the journal from the drives that remain. On one folder the journal is the
commit point as well (the index commits without fsync and catches up from it at start-up) and
the source the cold tier ships (tier/). Records are JSON lines with a CRC and their commit
time (meta/logcodec.py); a torn last line (a crash mid-append) is cut off at start-up, and a
torn line left by a killed worker process is ended before the next record lands behind it.
Inline object bytes travel in the records, so small objects are exactly as safe as large ones.

The journal is a series of segment files, each starting with a base line `{"base": B}` (it
holds every record after B): see meta/segments.py for sealing, repair and truncation.
"""
import concurrent.futures
import os

from ..util.errors import QuorumError
from . import segments
from .logcodec import (_TYPES, Entry, decode_entry, decode_record, encode_base,  # noqa: F401
                       encode_record, referenced_ids)
from .segments import (FOLDER, base, drive_base, exists, last_lsn, prepare,  # noqa: F401
                       read_entries, read_merged, repair, restart_at, size)

FILE = segments.LEGACY      # the one file of journals written before segments


class JournalQuorumError(QuorumError):
    """Fewer drives than the write quorum took the journal record: the commit is refused."""


def path_on(drive: str) -> str:
    """Where a journal written before segments lives on a drive (its first segment)."""
    return os.path.join(drive, FOLDER, FILE)


class Journal:
    """Appends happen under the writers' file lock (meta/sqlite.py), one record at a time,
    into the open segment of every drive (`paths`: each drive's journal folder)."""

    def __init__(self, drives: list[str], quorum: int, durable: bool = True,
                 segment_bytes: int | None = None):
        self.drives = list(drives)
        self.paths = [segments.folder(d) for d in drives]
        self.quorum = quorum
        self.durable = durable
        self.segment_bytes = segment_bytes or segments.SEGMENT_BYTES
        self._slot: int | None = None     # the open segment, as this process knows it
        self._fds: dict[str, tuple[int, str]] = {}     # folder -> (fd, file path)
        # A copy we could not put back, with the file's inode then: unused until appends
        # move to another file (the next segment, or a rejoining drive's new journal).
        self._disabled: dict[str, int] = {}
        self._pool = concurrent.futures.ThreadPoolExecutor(len(drives),
                                                           thread_name_prefix="s3ish-journal")

    def append(self, lsn: int, mutations: list) -> dict[str, int]:
        """Append one record to every drive in parallel. Below the write quorum, the copies
        that were written are taken back and JournalQuorumError raised. Returns what undo()
        needs: each written copy's size before the record."""
        line = encode_record(lsn, mutations)
        self._choose_segment(lsn)
        sizes = list(self._pool.map(lambda p: self._append_one(p, line, lsn), self.paths))
        written = {p: size for p, size in zip(self.paths, sizes) if size is not None}
        if len(written) < self.quorum:
            self.undo(written)
            raise JournalQuorumError(f"metadata journal written on {len(written)} drives, "
                                     f"need {self.quorum}")
        return written

    def undo(self, written: dict[str, int]) -> None:
        """Take a record back (its commit failed): cut each copy to its size before it."""
        for where, size in written.items():
            self._cut(os.path.join(where, segments.name(self._slot)), size)

    # ---- which segment ----
    def _choose_segment(self, lsn: int) -> None:
        """Follow seals made by other processes (a sealed file is read-only, a deleted one
        has no link), and rotate when the open segment reached its size bound."""
        if self._slot is None or self._moved_on():
            self._slot = segments.newest_slot(self.drives)
            if self._slot is None:
                self._slot = lsn            # a new journal: its first segment
        if self._open_size() >= self.segment_bytes:
            segments.seal(self.drives, lsn - 1, self.durable)
            self._slot = lsn

    def _moved_on(self) -> bool:
        for fd, _ in self._fds.values():
            try:
                st = os.fstat(fd)
            except OSError:
                return True
            if st.st_nlink == 0 or not st.st_mode & 0o222:
                return True
        return False

    def _open_size(self) -> int:
        want = segments.name(self._slot)
        for fd, path in self._fds.values():
            if os.path.basename(path) == want:
                try:
                    return os.fstat(fd).st_size
                except OSError:
                    continue
        return 0

    # ---- one copy ----
    def _open(self, where: str, lsn: int) -> int:
        """The append descriptor of one copy of the open segment. A copy missing on this
        drive (it missed the seal) is created based just before this record."""
        path = os.path.join(where, segments.name(self._slot))
        held = self._fds.get(where)
        if held is not None and held[1] == path:
            return held[0]
        self._close(where)
        if not os.path.exists(path):
            segments.create(where, self._slot, lsn - 1, self.durable)
        fd = os.open(path, os.O_RDWR | os.O_APPEND)   # read: the last byte (a torn line?)
        self._fds[where] = (fd, path)
        return fd

    def _append_one(self, where: str, line: bytes, lsn: int) -> int | None:
        target = os.path.join(where, segments.name(self._slot))
        if where in self._disabled:
            try:
                if os.stat(target).st_ino == self._disabled[where]:
                    return None
            except OSError:
                return None
            del self._disabled[where]
        try:
            fd = self._open(where, lsn)
            before = os.fstat(fd).st_size
            if before and os.pread(fd, 1, before - 1) != b"\n":
                # A line torn by a process killed mid-append: end it, so this record is not
                # glued to it (it stays one damaged line that readers skip).
                os.write(fd, b"\n")
                before += 1
        except OSError:
            self._close(where)
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
            self._cut(target, before)
            return None

    def _cut(self, path: str, size: int) -> None:
        where = os.path.dirname(path)
        try:
            os.truncate(path, size)
        except OSError:
            try:
                self._disabled[where] = os.stat(path).st_ino
            except OSError:
                self._disabled[where] = -1
            self._close(where)

    def _close(self, where: str) -> None:
        held = self._fds.pop(where, None)
        if held is not None:
            try:
                os.close(held[0])
            except OSError:
                pass

    def close(self) -> None:
        for where in list(self._fds):
            self._close(where)
        self._pool.shutdown(wait=False)
