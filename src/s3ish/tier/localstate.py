"""What the cold tier keeps in the data folder (`.s3ish/tier/`, in the first drive's folder).

- `state.json`: the shipper's own record of the tier it writes: which tier (endpoint, bucket,
  prefix), the writer generation and the writer ids this folder used in it, the S3
  high-water mark and the manifest ETag last written. Written (fsync'd, renamed) before a
  new writer id is used and after every manifest write, so after a crash it never claims
  more than the remote holds; local truncation reads the high-water mark from it (I2).
- `restored.json`: left by `s3ish restore` = {"lsn": N, "generation": G, ...}: this folder is
  the tier's state at N; the next server with tier flags starts generation G+1 at N+1.
- `follower.json`: this folder follows the tier read-only (`s3ish server --follow-tier`,
  bg/tierfollow.py): {"tier", "generation", "timeline": the generations entry of that
  generation, "bootstrap_lsn", "applied_lsn", ...}. Its applied position is the index's;
  the copy here is what was last recorded.
- `graveyard`: data units freed while a tier is configured (storage/graveyard.py).
- `outgoing/`: segments being uploaded (merged from the drives' copies).
"""
import json
import os

from ..util.files import fsync_dir

FOLDER = os.path.join(".s3ish", "tier")
STATE = "state.json"
RESTORED = "restored.json"
FOLLOWER = "follower.json"


def folder(data: str) -> str:
    return os.path.join(data, FOLDER)


def _read(path: str) -> dict | None:
    try:
        with open(path) as f:
            doc = json.load(f)
    except (OSError, ValueError):
        return None
    return doc if isinstance(doc, dict) else None


def write_json(path: str, doc: dict, durable: bool = True) -> None:
    """Replace a small JSON file atomically (and durably: fsync'd, the folder too)."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = f"{path}.tmp-{os.getpid()}"
    with open(tmp, "w") as f:
        json.dump(doc, f)
        if durable:
            f.flush()
            os.fsync(f.fileno())
    os.replace(tmp, path)
    if durable:
        fsync_dir(os.path.dirname(path))


def read_state(data: str) -> dict | None:
    return _read(os.path.join(folder(data), STATE))


def write_state(data: str, doc: dict) -> None:
    write_json(os.path.join(folder(data), STATE), doc)


def read_restored(data: str) -> dict | None:
    """restored.json if it is well-formed ({"lsn": int >= 0, "generation": int >= 1})."""
    doc = _read(os.path.join(folder(data), RESTORED))
    if doc is None:
        return None
    lsn, gen = doc.get("lsn"), doc.get("generation")
    if type(lsn) is not int or type(gen) is not int or lsn < 0 or gen < 0:
        return None
    return doc


def remove_restored(data: str) -> None:
    try:
        os.unlink(os.path.join(folder(data), RESTORED))
        fsync_dir(folder(data))
    except FileNotFoundError:
        pass


def read_follower(data: str) -> dict | None:
    """follower.json if it is well-formed (it names a tier and a generation)."""
    doc = _read(os.path.join(folder(data), FOLLOWER))
    if doc is None or not isinstance(doc.get("tier"), str) or \
            type(doc.get("generation")) is not int:
        return None
    return doc


def write_follower(data: str, doc: dict) -> None:
    write_json(os.path.join(folder(data), FOLLOWER), doc)


def keep_above(data: str, tier: str | None) -> int | None:
    """The bound local truncation must not pass: None without a tier; with one (`tier`
    names it: config.Config.tier), the S3 high-water mark this folder last wrote to it, or
    -1 (keep everything) when it has none yet (state written for another tier says nothing
    about this one)."""
    if tier is None:
        return None
    state = read_state(data)
    if state is None or state.get("tier") != tier or type(state.get("hwm")) is not int:
        return -1
    return state["hwm"]
