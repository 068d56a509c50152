"""`s3ish admin tier verify`: the tier's invariants checked against the remote, stopping at
the first violation.

- I1: the high-water mark is not past the local durable log end;
- I4: the manifest's segments have no gap up to the high-water mark (and it parses);
- I3: every segment and checkpoint the manifest names exists with its size; every segment
  up to the high-water mark holds intact lines, its records in its range; every data unit
  those records reference exists;
- I5: each kept checkpoint is followed by the segments up to the high-water mark (the log
  starts at or before it), and every data unit its index references exists.

Segments are downloaded one at a time; checkpoints into a temporary file; the data units
are listed once. How records and checkpoints name data units is the caller's
(`referenced(segment bytes)`, `checkpoint_ids(path)`: the tier does not decode records).
"""
import os
import tempfile

from ..util.threads import run_io
from . import segcut
from .errors import NotFound
from .fence import ManifestStore
from .layout import Manifest, ManifestError, data_key


class Violation(Exception):
    pass


async def verify(remote, local_end: int, referenced, checkpoint_ids, call=None) -> dict:
    """{"ok", "violation", "checked"}: the first invariant the remote breaks, if any."""
    checked = {"segments": 0, "checkpoints": 0, "units": 0}
    try:
        manifest = await _manifest(remote, call)
        checked.update(generation=manifest.generation, hwm=manifest.hwm)
        await _check(remote, manifest, local_end, referenced, checkpoint_ids, checked)
    except Violation as v:
        return {"ok": False, "violation": str(v), "checked": checked}
    return {"ok": True, "violation": None, "checked": checked}


async def _manifest(remote, call) -> Manifest:
    store = ManifestStore(remote, call or (lambda op: op()))
    try:
        found = await store.read()
    except ManifestError as e:
        raise Violation(f"I4: {e}") from None
    if found is None:
        raise Violation("I3: the tier has no manifest.json")
    return found


async def _listing(remote, prefix: str) -> dict:
    return {e.key: e.size async for e in remote.list(prefix)}


async def _check(remote, m: Manifest, local_end: int, referenced, checkpoint_ids,
                 checked: dict) -> None:
    if m.hwm > local_end:
        raise Violation(f"I1: the high-water mark {m.hwm} is past the local log end "
                        f"{local_end}")
    objects = {**await _listing(remote, "log/"), **await _listing(remote, "checkpoints/")}
    for entry in list(m.segments) + list(m.checkpoints):
        if objects.get(entry.key) != entry.size:
            found = objects.get(entry.key)
            raise Violation(f"I3: the manifest names {entry.key} ({entry.size} bytes), the "
                            f"tier has {'no such object' if found is None else f'{found} bytes'}")
    units = await _listing(remote, "data/")
    for seg in m.segments:
        if seg.first > m.hwm:
            break
        blob = await remote.get_bytes(seg.key, limit=1 << 30)
        await run_io(_check_lines, seg, blob)
        _check_units(units, await run_io(referenced, blob), f"records of {seg.key}", "I3")
        checked["segments"] += 1
    start = m.log_start()
    for ck in m.checkpoints:
        if ck.lsn < start:
            raise Violation(f"I5: checkpoint {ck.key} at {ck.lsn} is not followed by the "
                            f"log (it starts after {start})")
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "checkpoint.sqlite3")
            await _download(remote, ck.key, path)
            ids = [d async for d in checkpoint_ids(path)]
        _check_units(units, ids, f"checkpoint {ck.key}, a restore from it needs it", "I5")
        checked["checkpoints"] += 1
    checked["units"] = len(units)


def _check_lines(seg, blob: bytes) -> None:
    last = seg.first - 1
    for n, line in enumerate(blob.splitlines(keepends=True), 1):
        pos = segcut.position(line)
        if pos is None:
            raise Violation(f"I3: {seg.key} line {n} is damaged")
        if pos[0] == "lsn":
            if not last < pos[1] <= seg.last:
                raise Violation(f"I4: {seg.key} line {n} holds record {pos[1]}, outside "
                                f"{seg.first}..{seg.last} or out of order")
            last = pos[1]


def _check_units(units: dict, ids, what: str, invariant: str) -> None:
    for data_id in ids:
        if data_key(data_id) not in units:
            raise Violation(f"{invariant}: data unit {data_id} ({what}) is not in the tier")


async def _download(remote, key: str, path: str) -> None:
    try:
        async with await remote.get(key) as body:
            with open(path, "wb") as f:
                async for chunk in body:
                    await run_io(f.write, chunk)
    except NotFound:
        raise Violation(f"I3: {key} is named by the manifest but missing") from None
