"""The local side of a restore: the empty folders it writes into, the data store over them,
and the state it leaves so that `s3ish server` starts cleanly at the restored position.

Order, so that no crash leaves a folder a server would serve wrongly:
1. the folders are checked empty and locked (a server holds the same lock), drives are
   formatted as a new set;
2. the work folder `.s3ish/tier/restore/` receives the downloads and the index being built
   (while it exists the server refuses to start: `refuse_partial`; a restore that fails
   empties the folders again, one killed leaves the work folder behind);
3. data units go into the store under their ids (a server refuses data without an index);
4. the marker `.s3ish/tier/restored.json` = {"lsn", "generation", "time"} (with the remote's
   writer and high-water mark besides): a server started with tier flags begins generation
   G+1 after it (a follower's bootstrap leaves `.s3ish/tier/follower.json` instead);
5. every drive (or the one folder) gets a snapshot of the index and a journal based at the
   target (a segment opened for target+1: what `meta.recovery.assess` needs for a complete
   rebuild, as after a checkpoint), then the index goes into place (`meta.sqlite3` in the
   first folder), fsync'd; the work folder is removed last.
"""
import fcntl
import os
import shutil
import time

from ...meta import recovery
from ...storage.datastore import FolderDataStore
from ...storage.drives import IGNORED, DriveSet, DriveSetError, is_empty
from ...storage.erasure import default_layout, make_codec
from ...storage.erasure_store import ErasureDataStore
from ...tier import localstate
from ...util.files import fsync_dir
from .plan import RestoreError

WORK = os.path.join(localstate.FOLDER, "restore")
MARKER = os.path.join(localstate.FOLDER, localstate.RESTORED)    # tier/fence.py reads it
INDEX = "meta.sqlite3"


def refuse_partial(folders: list[str]) -> str | None:
    """Why a server must not start on these folders (a restore began and did not finish),
    or None."""
    for folder in folders:
        if os.path.isdir(os.path.join(folder, WORK)):
            return (f"{folder} holds an unfinished `s3ish restore` ({WORK}): empty the "
                    "folders and run the restore again")
    return None


class Target:
    """The folders a restore writes: one folder, or the drives of an erasure set."""

    def __init__(self, folders: list[str], parity: int | None = None,
                 create: bool = False, marker: str = MARKER, locked: bool = False):
        """`marker`: the file (relative to the first folder) `finish` leaves; `locked`: the
        caller holds the first folder's LOCK already (a server bootstrapping a follower)."""
        if ":memory:" in folders:
            raise RestoreError("restore writes into folders, not :memory:")
        self.folders = [os.path.abspath(f) for f in folders]
        if len(set(self.folders)) != len(self.folders):
            raise RestoreError("the same folder is given twice")
        self.erasure = len(self.folders) > 1
        self.layout = None
        if self.erasure:
            try:
                self.layout = default_layout(len(self.folders), parity)
            except ValueError as e:
                raise RestoreError(f"bad drive layout: {e}") from None
        self.create = create
        self.first = self.folders[0]
        self.work = os.path.join(self.first, WORK)
        self.index = os.path.join(self.first, INDEX)
        self.marker = marker
        self.locked = locked
        self._lock = None
        self.store = None
        self.claimed = False        # the folders were found empty: what is in them is ours

    def open(self) -> None:
        """Check every folder is empty, lock the first, make the store (formats drives)."""
        for folder in self.folders:
            if not os.path.isdir(folder):
                if self.erasure and not self.create:
                    raise RestoreError(f"drive folder {folder} is missing: is the disk "
                                       "mounted? (--create-drives makes missing folders)")
                os.makedirs(folder, exist_ok=True)
            elif not is_empty(folder):
                raise RestoreError(f"{folder} is not empty: restore writes only into empty "
                                   "folders (stop the server, use new folders)")
        if not self.locked:
            self._lock = open(os.path.join(self.first, "LOCK"), "a")
            try:
                fcntl.flock(self._lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise RestoreError(f"a server is running on {self.first}: stop it") from None
        self.claimed = True
        if self.erasure:
            k, m = self.layout
            drive_set = DriveSet(self.folders, k, m)
            try:
                drive_set.open(create_missing=False)
            except DriveSetError as e:
                raise RestoreError(str(e)) from None
            self.store = ErasureDataStore(drive_set, make_codec(k, m))
        else:
            self.store = FolderDataStore(self.first)
        os.makedirs(self.work)      # after formatting: a new set's drives must be empty

    def path(self, name: str) -> str:
        return os.path.join(self.work, name)

    def finish(self, built_index: str, marker: dict) -> None:
        """Steps 4 and 5 above: the marker, the drives' snapshot and journal, the index."""
        localstate.write_json(os.path.join(self.first, self.marker), marker)
        recovery.seed_drives(built_index, self.folders)
        with open(built_index, "rb") as f:
            os.fsync(f.fileno())
        recovery.install(built_index, self.index)
        fsync_dir(self.first)
        shutil.rmtree(self.work)
        fsync_dir(os.path.dirname(self.work))

    def discard(self) -> bool:
        """Empty the folders again after a failed restore (they were empty when it began,
        so everything in them is its own). False if that failed too."""
        if not self.claimed:
            return True
        try:
            for folder in self.folders:
                for name in os.listdir(folder):
                    if name in IGNORED:
                        continue
                    path = os.path.join(folder, name)
                    if os.path.isdir(path) and not os.path.islink(path):
                        shutil.rmtree(path)
                    else:
                        os.unlink(path)
        except OSError:
            return False
        return True

    def close(self) -> None:
        if self._lock is not None:
            self._lock.close()
            self._lock = None


def marker_doc(lsn: int, manifest) -> dict:
    return {"lsn": lsn, "generation": manifest.generation, "time": time.time(),
            "writer": manifest.writer, "hwm": manifest.hwm}

