"""`s3ish restore` (server stopped, empty folders): rebuild a server's folders from the cold
tier alone, to the high-water mark or to an earlier point (--to-lsn N, --to-time T).

Steps (docs/tier.md, "Restore"): read manifest.json; pick the target; download the newest
checkpoint at or below it (or start from an empty index) and the segments after it; replay
their records up to exactly the target; fetch every data unit the index references into the
local store under its own id; leave the journal state and the marker the server starts from.
Nothing is ever written to the remote. Progress goes to stderr, the summary to stdout
(`--json`: one JSON document).
"""
import asyncio
import json
import sqlite3
import sys
import time

from ...bg.tierread import download
from ...config import expand_drives
from ...tier.config import TierConfig, TierConfigError
from ...tier.errors import NotFound, RemoteError
from ...tier.remote import Remote
from ...tier.retry import retrying
from ...util.errors import QuorumError
from ...util.threads import run_io
from . import index, local, plan, units
from .plan import RestoreError

PROGRESS_EVERY = 2.0          # seconds between progress lines while data streams in
MANIFEST_LIMIT = 64 << 20


class Progress:
    """One line per step on stderr; while data streams, a line every PROGRESS_EVERY s."""

    def __init__(self, out=None, name: str = "restore"):
        self.out = out or sys.stderr
        self.name = name
        self.units = self.bytes = 0
        self.total_units = self.total_bytes = 0
        self._last = 0.0
        self._started = time.monotonic()

    def say(self, message: str) -> None:
        print(f"{self.name}: {message}", file=self.out, flush=True)

    def retry(self, exc, attempt: int, delay: float) -> None:
        self.say(f"retrying in {delay:.1f} s (attempt {attempt + 1}): {exc}")

    def data_started(self, n: int, nbytes: int) -> None:
        self.total_units, self.total_bytes = n, nbytes
        self._started = self._last = time.monotonic()
        self.say(f"data: {n} units, {nbytes / 1e6:.1f} MB to fetch")

    def unit(self, unit, n: int) -> None:
        self.units += 1
        self.bytes += n
        now = time.monotonic()
        if now - self._last >= PROGRESS_EVERY or self.units == self.total_units:
            self._last = now
            self.say(f"data: {self.units}/{self.total_units} units, {self.bytes / 1e6:.1f}/"
                     f"{self.total_bytes / 1e6:.1f} MB, "
                     f"{self.bytes / 1e6 / max(now - self._started, 1e-9):.1f} MB/s")


def run(args) -> int:
    """`s3ish restore` with its parsed arguments (admin/restore/cli.py); the exit status."""
    progress = Progress()
    try:
        config = TierConfig.from_env(args.tier_endpoint, args.tier_bucket, args.tier_prefix,
                                     args.tier_region)
        when = plan.parse_time(args.to_time) if args.to_time else None
        target = local.Target(expand_drives(args.data), args.parity, args.create_drives)
    except (TierConfigError, RestoreError) as e:
        print(f"restore: {e}", file=sys.stderr)
        return 2
    try:
        target.open()
        summary = asyncio.run(restore(config, target, args.to_lsn, when, args.jobs,
                                      progress))
    except (RestoreError, RemoteError, OSError, QuorumError, sqlite3.Error) as e:
        print(f"restore: {cause(e)}{e}", file=sys.stderr)
        give_back(target)
        return 1
    except KeyboardInterrupt:
        print("restore: interrupted", file=sys.stderr)
        give_back(target)
        return 130
    finally:
        target.close()
    if args.json:
        print(json.dumps(summary, indent=2))
    else:
        for k, v in summary.items():
            print(f"{k:16s} {v}")
    return 0


def give_back(target: "local.Target", name: str = "restore") -> None:
    """After a failure: the folders as they were found (empty), or say what to do."""
    if target.discard():
        if target.claimed:
            print(f"{name}: the folders are left empty, as they were", file=sys.stderr)
    else:
        print(f"{name}: could not empty {', '.join(target.folders)} again: empty them "
              f"before running the {name} again", file=sys.stderr)


def cause(e: Exception) -> str:
    for kind, words in ((RemoteError, "the remote failed: "), (QuorumError, "the drives "
                        "failed: "), (sqlite3.Error, "the index failed: ")):
        if isinstance(e, kind):
            return words
    return ""


async def restore(config: TierConfig, target: "local.Target", to_lsn: int | None,
                  when: float | None, jobs: int, progress: Progress,
                  backoff: dict | None = None, mark=None) -> dict:
    """The restore itself, into `target` (opened); returns the summary. `mark(lsn,
    manifest)` makes the marker the folders are left with (`target.marker`): by default
    restored.json (a writer takes the tier over from it); the follower's bootstrap gives
    its own (bg/tierfollow.py)."""
    started = time.monotonic()
    async with Remote(config) as remote:
        run = _Run(remote, target, progress, backoff or {})
        manifest = await _manifest(remote, run.again)
        progress.say(f"manifest: generation {manifest.generation}, high-water mark "
                     f"{manifest.hwm}, {len(manifest.segments)} segments, "
                     f"{len(manifest.checkpoints)} checkpoints")
        lsn = await run.target(manifest, to_lsn, when)
        checkpoint, segments, applied = await run.build_index(manifest, lsn)
        data = await run.fetch_data(jobs)
    await run_io(target.finish, run.index, (mark or local.marker_doc)(lsn, manifest))
    seconds = time.monotonic() - started
    progress.say(f"done: the folders hold the state at {lsn}")
    nbytes = data["data_bytes"] + run.fetched
    return {"lsn": lsn, "generation": manifest.generation, "hwm": manifest.hwm,
            "checkpoint": checkpoint.lsn if checkpoint else None, "segments": len(segments),
            **applied, **data, "bytes": nbytes, "seconds": round(seconds, 3),
            "mb_per_s": round(nbytes / 1e6 / max(seconds, 1e-9), 3),
            "data": target.folders}


class _Run:
    """The steps of one restore, sharing the remote, the target and what was downloaded."""

    def __init__(self, remote, target: "local.Target", progress: Progress, backoff: dict):
        self.remote, self.local = remote, target
        self.progress, self.backoff = progress, backoff
        self.index = target.path("index.sqlite3")
        self.files: dict[str, str] = {}      # segment key -> its downloaded file
        self.fetched = 0                     # bytes of checkpoint and segments

    def again(self, op):
        return retrying(op, on_error=self.progress.retry, **self.backoff)

    async def target(self, manifest, to_lsn: int | None, when: float | None) -> int:
        if to_lsn is not None:
            lsn, how = plan.check_lsn(manifest, to_lsn), "--to-lsn"
        elif when is not None:
            lsn, how = await self._time_target(manifest, when), "--to-time"
        else:
            lsn, how = manifest.hwm, "the high-water mark"
        self.progress.say(f"target: {lsn} ({how})")
        return lsn

    async def _time_target(self, manifest, when: float) -> int:
        """The largest record position committed at or before `when`: from the manifest's
        times where they decide, else by reading the segments that straddle `when` (kept
        for the replay)."""
        best, to_read = plan.time_candidates(manifest, when)
        for seg in to_read:
            found = await run_io(index.latest_at, await self._segment(seg), seg, when)
            if found is not None:
                best = found if best is None else max(best, found)
        if best is None:
            first = plan.covered(manifest)[:1]
            oldest = (f"; the oldest kept record is {first[0].first} at "
                      f"{plan.format_time(first[0].first_time)}") if first else ""
            raise RestoreError(f"no record committed at or before {plan.format_time(when)} "
                               f"in the cold tier{oldest}")
        return min(best, manifest.hwm)

    async def _segment(self, seg) -> str:
        if seg.key not in self.files:
            path = self.local.path(f"segment-{len(self.files)}.seg")
            self.fetched += await download(self.remote, self.again, seg.key, seg.size, path,
                                            "segment")
            self.files[seg.key] = path
        return self.files[seg.key]

    async def build_index(self, manifest, lsn: int):
        """The checkpoint (or an empty index), then the segments' records up to `lsn`."""
        checkpoint = plan.start_point(manifest, lsn)
        start = checkpoint.lsn if checkpoint else 0
        segments = plan.segments_for(manifest, start, lsn)
        origin = f"checkpoint {checkpoint.key}" if checkpoint else "an empty index"
        self.progress.say(f"index: from {origin}, then {len(segments)} segments")
        file = None
        if checkpoint is not None:
            file = self.local.path("checkpoint.sqlite3")
            self.fetched += await download(self.remote, self.again, checkpoint.key,
                                            checkpoint.size, file, "checkpoint")
        await run_io(index.start_index, self.index, file, start)
        files = [(seg, await self._segment(seg)) for seg in segments]
        applied = await run_io(index.replay, self.index, files, lsn)
        self.progress.say(f"index: {applied['records']} records applied "
                          f"({applied['mutations']} mutations, {applied['skipped']} skipped)")
        return checkpoint, segments, applied

    async def fetch_data(self, jobs: int) -> dict:
        """Every data unit the index references, into the store."""
        self.progress.data_started(*await run_io(units.totals, self.index))
        started = time.monotonic()
        fetcher = units.Fetcher(self.remote, self.local.store, jobs,
                                on_unit=self.progress.unit, on_retry=self.progress.retry,
                                backoff=self.backoff)
        n, nbytes = await fetcher.run(
            units.iter_units(self.index, describing=self.local.store.self_describing))
        seconds = time.monotonic() - started
        return {"units": n, "data_bytes": nbytes, "data_seconds": round(seconds, 3),
                "data_mb_per_s": round(nbytes / 1e6 / max(seconds, 1e-9), 3)}


async def _manifest(remote, again) -> "plan.Manifest":
    async def get():
        try:
            return await remote.get_bytes("manifest.json", limit=MANIFEST_LIMIT)
        except NotFound:
            where = f"s3://{remote.config.bucket}/{remote.config.prefix}manifest.json"
            raise RestoreError(f"no {where}: nothing was shipped there (check --tier-bucket "
                               "and --tier-prefix)") from None
    raw = await again(get)
    try:
        doc = json.loads(raw)
    except ValueError:
        raise RestoreError("manifest.json is not JSON") from None
    return plan.parse_manifest(doc)
