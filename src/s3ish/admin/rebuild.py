"""`s3ish admin rebuild-index` (server stopped): recreate the metadata index from the drives
(or the one folder: its journal and snapshot).

The journal mirrored on the drives is used when the drives prove it complete (a snapshot and
a journal copy based at or before it, see meta/recovery.py). When every journal copy is lost,
or the copies that remain start too late, the index is rebuilt from the metadata every shard
carries in its header (engine/selfdescribe.py). Whatever cannot be proven is refused with a
non-zero exit: an index that silently lacks objects would make the next start set their data
aside as orphans.
"""
import fcntl
import os
import sys

from ..config import expand_drives
from ..engine import selfdescribe
from ..meta import recovery
from ..storage.graveyard import Graveyard
from ..tier import localstate


def _fail(message: str, code: int = 1) -> int:
    print(f"rebuild-index: {message}", file=sys.stderr)
    return code


def rebuild_index(data: list[str]) -> int:
    drives = expand_drives(data)
    if not drives:
        return _fail("needs the server's folder or drives: --data DIR (or DIR{1...N})", 2)
    absent = [d for d in drives if not os.path.isdir(d)]
    if absent:
        return _fail(f"drive folders missing: {', '.join(absent)} (mount the disks, or create "
                     "empty folders in place of lost drives)", 2)
    lock = open(os.path.join(drives[0], "LOCK"), "a")
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return _fail("a server is running on these drives: stop it first")
    db = os.path.join(drives[0], "meta.sqlite3")
    found = recovery.assess(drives)
    if found.complete and found.anything:
        print("source                   journal" + (" + snapshot" if found.snapshot else ""))
        return _report(recovery.rebuild_index(db, drives))
    if len(drives) == 1:      # one folder: its data files carry no metadata to fall back on
        return _fail(f"the journal cannot rebuild the index: {found.reason or 'no journal'}")
    print(f"the journal cannot rebuild the index: {found.reason}; reading the metadata in "
          "the shard headers instead", file=sys.stderr)
    # Units freed while a cold tier is configured still carry their object's metadata.
    scan = selfdescribe.scan_drives(drives, Graveyard(localstate.folder(drives[0])).ids())
    if scan.undescribed:
        return _fail(f"{len(scan.undescribed)} data units have no metadata in their shard "
                     "headers (written before s3ish 0.2?): refusing to build an index without "
                     f"them, e.g. {scan.undescribed[0]}")
    if not scan.units:
        return _fail("no journal, no snapshot and no shards with metadata on these drives: "
                     "nothing to rebuild from")
    print("source                   shard headers")
    result = recovery.rebuild_from_mutations(db, scan.mutations())
    return _report({**result, "objects": scan.objects, "uploads": scan.uploads,
                    "parts": scan.parts, "buckets": len(scan.buckets)})


def _report(result: dict) -> int:
    for k, v in result.items():
        print(f"{k:24s} {v}")
    return 0
