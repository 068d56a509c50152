"""Who may write the cold tier (I6), and the one remote write that must be fenced: the
manifest.

A tier has one writer at a time: a generation (an integer that only grows) and a writer id
(a uuid per server start). `decide` says what a server starting with tier flags does:

- no manifest: create generation 1 (from a checkpoint of the local index);
- the folder is a restore of this tier (`restored.json` {"lsn": N, "generation": G}, G the
  tier's current generation, N <= its high-water mark): take over as generation G+1 from N+1;
- the folder is this generation's writer (its state.json names the tier, the generation and
  the manifest's writer id among its own) and its log reaches the high-water mark (I1):
  resume, under a new writer id;
- anything else (another folder, a generation that moved on, a log that lost records):
  refuse. Another writer owns the tier.

`ManifestStore` writes manifest.json only with If-Match on the ETag this writer last wrote
or read (If-None-Match: * to create it). A lost condition is resolved by reading it again:
our generation and writer id mean our own earlier write whose answer was lost (or a retry of
it); anything else means a newer writer took over, and this one is `Fenced` for good.
"""
from dataclasses import dataclass

from .errors import NotFound, PreconditionFailed
from .layout import MANIFEST, Manifest


class Fenced(Exception):
    """This server does not (or no longer) own the cold tier: it must not write it."""


@dataclass(frozen=True)
class Decision:
    kind: str           # "create" | "takeover" | "resume" | "refuse"
    reason: str = ""


def decide(manifest: Manifest | None, state: dict | None, restored: dict | None, tier: str,
           log_end: int) -> Decision:
    """What a server starting with tier flags does (see the module docstring)."""
    if manifest is None:
        return Decision("create", "the tier holds no manifest.json yet")
    if restored is not None:
        if restored["generation"] != manifest.generation:
            return Decision("refuse", f"this folder was restored from generation "
                            f"{restored['generation']}, but the tier's writer is now generation "
                            f"{manifest.generation}: another server took it over since; "
                            "restore again")
        if restored["lsn"] > manifest.hwm:
            return Decision("refuse", f"this folder was restored to {restored['lsn']}, past "
                            f"the tier's high-water mark {manifest.hwm}")
        return Decision("takeover", f"restored at {restored['lsn']} from generation "
                        f"{manifest.generation}")
    mine = (state is not None and state.get("tier") == tier
            and state.get("generation") == manifest.generation
            and manifest.writer in (state.get("writers") or []))
    if not mine:
        if state is not None and state.get("tier") == tier and \
                type(state.get("generation")) is int and \
                state["generation"] < manifest.generation:
            return Decision("refuse", f"this server wrote generation {state['generation']} of "
                            f"the tier, which generation {manifest.generation} (writer "
                            f"{manifest.writer}) has taken over since (a restore): it is fenced")
        return Decision("refuse", f"another writer owns this tier (generation "
                        f"{manifest.generation}, writer {manifest.writer}, high-water mark "
                        f"{manifest.hwm}): point this server at another --tier-prefix, or "
                        "restore this folder from the tier with `s3ish restore`")
    if log_end < manifest.hwm:
        return Decision("refuse", f"the local log ends at {log_end} but the tier holds records "
                        f"up to {manifest.hwm}: this folder lost acknowledged records; "
                        "restore it from the tier")
    return Decision("resume", f"generation {manifest.generation} resumes at {manifest.hwm}")


class ManifestStore:
    """manifest.json on the remote, read and written with its ETag. `call(op)` runs a remote
    operation (retrying it as the caller wants)."""

    def __init__(self, remote, call):
        self.remote = remote
        self.call = call
        self.etag: str | None = None
        self.current: Manifest | None = None

    async def read(self) -> Manifest | None:
        async def fetch():
            try:
                async with await self.remote.get(MANIFEST) as body:
                    return await body.read(), body.etag
            except NotFound:
                return None, None
        blob, etag = await self.call(fetch)
        self.etag = etag
        self.current = None if blob is None else Manifest.from_json(blob)
        return self.current

    async def write(self, new: Manifest) -> None:
        """Replace (or create, when none was read) the manifest with `new`, written by
        `new`'s generation and writer. Raises Fenced if another writer holds it now."""
        while True:
            etag = self.etag
            try:
                self.etag = await self.call(lambda: self.remote.put(
                    MANIFEST, new.to_json(), if_none_match=etag is None, if_match=etag))
                self.current = new
                return
            except (PreconditionFailed, NotFound):
                pass
            found = await self.read()
            if found is None:
                raise Fenced("manifest.json was deleted from the tier by someone else")
            if (found.generation, found.writer) != (new.generation, new.writer):
                raise Fenced(f"the tier's manifest is now written by generation "
                             f"{found.generation} (writer {found.writer}): this writer "
                             f"(generation {new.generation}) is stale and stops")
            if found.to_json() == new.to_json():
                return          # our own write, whose answer was lost
            # Our own earlier write (a retry of an older one): write this one over it.
