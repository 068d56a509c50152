"""The cold tier's remote contents built by hand in the TIER_SPEC layout (docs/tier.md), for
restore tests written before the shipper: checkpoints are copies of a real server's index,
segments are cut from the journal a real 4-drive server keeps on its drives (lines
written before records carried their commit time get the time of the phase they were
written in), data units are
read from its store through open()/read_at(), exactly the bytes a shipper uploads.

    ship = HandShipper(drives)          # the source server's drives (it may be running)
    ship.copy_data()                    # every data unit now on the drives (call after each
                                        # phase: later deletes free units)
    ship.checkpoint()                   # the index as it is now
    ship.mark_time()                    # records up to now get this commit time (for
                                        # journals written before lines carried "t")
    objects = ship.build(per_segment=7) # {key: bytes} with manifest.json
"""
import json
import os
import sqlite3
import tempfile
import time
import zlib

from s3ish.meta import journal, segments
from s3ish.storage.drives import DriveSet
from s3ish.storage.erasure import make_codec
from s3ish.storage.erasure_store import ErasureDataStore

GEN = 1
WRITER = "hand-shipper"


def lsn_now(drives: list[str]) -> int:
    """The newest record's position in the source's journal (acknowledged writes are in it)."""
    return journal.last_lsn(drives[0])


def with_time(line: bytes, t: float) -> bytes:
    """A journal line carrying commit time `t` (lines that already carry one are kept)."""
    body = line.rstrip(b"\n").rpartition(b"\t")[0]
    doc = json.loads(body)
    if "t" in doc or "lsn" not in doc:
        return line
    doc["t"] = t
    body = json.dumps(doc, separators=(",", ":")).encode()
    return body + b"\t" + f"{zlib.crc32(body):08x}".encode() + b"\n"


def line_time(line: bytes):
    return json.loads(line.rstrip(b"\n").rpartition(b"\t")[0]).get("t")


class HandShipper:
    def __init__(self, drives: list[str]):
        self.drives = drives
        self.data: dict[str, bytes] = {}
        self.checkpoints: list[tuple[int, bytes, float]] = []
        self.times: list[tuple[int, float]] = []     # (up to lsn, commit time)

    def _store(self) -> ErasureDataStore:
        drive_set = DriveSet(self.drives, 2, 2)
        drive_set.load()
        return ErasureDataStore(drive_set, make_codec(2, 2), durable=False)

    def copy_data(self) -> int:
        store = self._store()
        n = 0
        for data_id in store.list_ids():
            if data_id in self.data:
                continue
            handle = store.open(data_id)
            try:
                self.data[data_id] = handle.read_at(0, handle.header.size)
            finally:
                handle.close()
            n += 1
        return n

    def checkpoint(self) -> int:
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "ckpt.sqlite3")
            db = sqlite3.connect(os.path.join(self.drives[0], "meta.sqlite3"))
            try:
                db.execute("VACUUM INTO ?", (path,))
            finally:
                db.close()
            check = sqlite3.connect(path)
            lsn = check.execute("SELECT lsn FROM journal_state").fetchone()[0]
            check.close()
            with open(path, "rb") as f:
                self.checkpoints.append((lsn, f.read(), time.time()))
        return lsn

    def mark_time(self) -> float:
        t = time.time()
        self.times.append((lsn_now(self.drives), t))
        return t

    def _time_of(self, lsn: int) -> float:
        for upto, t in self.times:
            if lsn <= upto:
                return t
        return time.time()

    def lines(self) -> list[bytes]:
        """The source journal's record lines (every segment of every drive), with their
        times."""
        return [with_time(line, self._time_of(lsn))
                for lsn, (line, _) in segments.merged_lines(self.drives).items()]

    def build(self, per_segment: int = 7, hwm: int | None = None) -> dict[str, bytes]:
        """Every remote object: segments of `per_segment` records up to `hwm` (default: the
        journal's end), the checkpoints, the data units, manifest.json."""
        objects: dict[str, bytes] = {}
        lines = [line for line in self.lines()
                 if hwm is None or journal.decode_record(line)[0] <= hwm]
        segments, first = [], 1
        for i in range(0, len(lines), per_segment):
            chunk = lines[i:i + per_segment]
            last = journal.decode_record(chunk[-1])[0]
            key = f"log/{GEN:08d}/{first:020d}-{last:020d}.seg"
            body = journal.encode_base(first - 1) + b"".join(chunk)
            objects[key] = body
            segments.append({"gen": GEN, "first": first, "last": last, "key": key,
                             "size": len(body), "first_time": line_time(chunk[0]),
                             "last_time": line_time(chunk[-1])})
            first = last + 1
        end = segments[-1]["last"] if segments else 0
        checkpoints = []
        for lsn, body, t in self.checkpoints:
            if lsn > end:
                continue
            key = f"checkpoints/{lsn:020d}-{GEN:08d}.sqlite3"
            objects[key] = body
            checkpoints.append({"lsn": lsn, "gen": GEN, "key": key, "size": len(body),
                                "time": t})
        for data_id, body in self.data.items():
            objects[f"data/{data_id}"] = body
        manifest = {"format": 1, "generation": GEN, "writer": WRITER, "hwm": end,
                    "segments": segments, "checkpoints": checkpoints,
                    "generations": [{"gen": GEN, "from_lsn": 1, "time": self.times[0][1]
                                     if self.times else time.time()}],
                    "updated": time.time()}
        objects["manifest.json"] = json.dumps(manifest).encode()
        return objects
